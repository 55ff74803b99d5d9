#pragma once

#include <string>

#include "actors/node_actor.hpp"
#include "actors/protocols.hpp"

namespace sg {

struct host_options {
  /// Persistence database: "" lets the graph decide (its store.sqlite node, else a path
  /// derived from the graph name), "none" disables persistence, anything else is the file.
  std::string state_path;
  node_options node;
};

/// Spawns the host actor of this process (see `host_actor`). It starts graphs and applies later
/// ones as diffs, supervises node actors (a node that dies abnormally is respawned from the
/// hub's last published state), owns the persistence writer and routes requests to the node
/// authorities.
host_actor spawn_host(caf::actor_system& sys, hub_actor hub, host_options options = {});

} // namespace sg
