#pragma once

// control.lfo and control.ramp (internal to actors/controllers/).

#include "actors/controllers/controller.hpp"

namespace sg::ctl {

caf::actor spawn_lfo(caf::actor_system& sys, const std::string& id, const controller_deps& deps);
caf::actor spawn_ramp(caf::actor_system& sys, const std::string& id, const controller_deps& deps);

} // namespace sg::ctl
