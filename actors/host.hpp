#pragma once

#include "actors/protocols.hpp"

namespace sg {

/// Spawns the host actor of this process (see `host_actor`). It starts graphs, supervises node
/// actors (a node that dies abnormally is respawned from the hub's last published state) and
/// routes requests to the node authorities.
host_actor spawn_host(caf::actor_system& sys, hub_actor hub);

} // namespace sg
