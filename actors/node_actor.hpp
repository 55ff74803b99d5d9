#pragma once

#include "actors/protocols.hpp"
#include "nodes/core/node_info.hpp"

namespace sg {

/// Where a node's kernel runs: its device actor and its slot in that device's render plan.
/// A node without a kernel (none yet) has no device.
struct kernel_binding {
  device_actor device;
  uint32_t slot = 0;
};

/// Spawns the authority of one node. `state` carries the parameter values to start from (the
/// graph file's, or the last committed ones after a restart) and the revision to continue.
node_actor spawn_node(caf::actor_system& sys, const node_info& info, v1::NodeState state,
                      kernel_binding binding, hub_actor hub);

/// A node's full parameter list: the spec's values over the type's defaults.
v1::NodeState initial_node_state(const node_info& info, const v1::NodeSpec& spec);

} // namespace sg
