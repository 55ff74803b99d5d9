#pragma once

// control.osc (internal to actors/controllers/).

#include "actors/controllers/controller.hpp"

namespace sg::ctl {

caf::actor spawn_osc(caf::actor_system& sys, const std::string& id, const controller_deps& deps);

} // namespace sg::ctl
