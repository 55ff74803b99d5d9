#pragma once

#include "actors/protocols.hpp"

namespace sg {

/// Spawns the event hub (see `hub_actor`).
hub_actor spawn_hub(caf::actor_system& sys);

/// The kind of an event's body, as used by subscription filters.
v1::EventKind kind_of(const v1::Event& ev);

} // namespace sg
