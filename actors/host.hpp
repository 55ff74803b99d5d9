#pragma once

#include <functional>
#include <string>

#include "actors/node_actor.hpp"
#include "actors/protocols.hpp"

namespace sg {

struct audio_domain;

/// The actors the host spawns at its boundaries, as functions a test can replace with
/// scripted stand-ins; each one left empty spawns the real actor.
struct host_boundary {
  /// The actor of one audio device (real: spawn_audio_device).
  std::function<device_actor(caf::actor_system&, const audio_domain&, const hub_actor&)>
    audio_device;
  /// The persistence writer of the database at `path` (real: the database is opened and
  /// spawn_store_writer runs it).
  std::function<store_actor(caf::actor_system&, const std::string& path)> store;
};

struct host_options {
  /// Persistence database: "" lets the graph decide (its store.sqlite node, else a path
  /// derived from the graph name), "none" disables persistence, anything else is the file.
  std::string state_path;
  node_options node;
  host_boundary boundary;
};

/// Spawns the host actor of this process (see `host_actor`). It starts graphs and applies later
/// ones as diffs, supervises node actors (a node that dies abnormally is respawned from the
/// hub's last published state), owns the persistence writer and routes requests to the node
/// authorities.
host_actor spawn_host(caf::actor_system& sys, hub_actor hub, host_options options = {});

} // namespace sg
