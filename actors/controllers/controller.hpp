#pragma once

/// Controllers (DESIGN §2): actors that turn input — OSC messages, automation, later MIDI —
/// into intents for node authorities, under a client id of their own ("ctl/<node id>"), and
/// mirror what the authorities broadcast, so they act on the truth whoever changed it.
///
/// One controller runs per `control.*` node that has behaviour (nodes/control/control.hpp).
/// The node's own actor stays the authority of its parameters (rate, running, ...); the
/// controller follows them through the event hub like any subscriber. Intents go through the
/// host, the same route a gRPC client's take (held while a graph applies, refused with a
/// reason). The host spawns a controller after a graph apply that added the node, and
/// restarts it when the node's type or graph-file values changed.

#include <string>

#include "actors/protocols.hpp"

namespace sg {

struct controller_deps {
  host_actor host;
  hub_actor hub;
};

/// thread: control. Spawns the controller of node `spec`; an invalid handle when its type has
/// none. A controller that cannot start (a bad target, a port in use) publishes a NodeStatus
/// FAILED for its node saying why, and stays idle until the graph changes it.
caf::actor spawn_controller(caf::actor_system& sys, const v1::NodeSpec& spec,
                            const controller_deps& deps);

} // namespace sg
