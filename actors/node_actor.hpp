#pragma once

/// Node authorities: one actor per graph node, the only writer of its parameters (DESIGN §4).
///
/// Every parameter has three layers, effective = overlay ?? committed ?? base:
/// - base: graph file values plus the persistence store, replaced by a graph apply;
/// - committed: client intents, stored by the persistence writer when the intent asks
///   (`persist`) or the parameter's policy says so;
/// - overlay: transient automation keyed by source; a source that settles (explicitly, or with
///   no update for its settle time) becomes a session-only committed value.
/// Each applied change bumps `node_rev` by one and is broadcast as ParamChanged with the
/// intent's origin. While a graph apply or preset load holds the node (begin_load .. end_load),
/// intents queue in arrival order up to a bound and are applied afterwards; past the bound
/// they are refused with UNAVAILABLE.

#include <chrono>

#include "actors/protocols.hpp"
#include "nodes/core/node_info.hpp"

namespace sg {

/// Where a node's kernel runs: its device actor and its slot in that device's render plan.
/// A node without a kernel has no device.
struct kernel_binding {
  device_actor device;
  uint32_t slot = 0;
};

struct node_options {
  /// Settle time of an overlay source that did not say (SetParamRequest.settle_ms = 0).
  std::chrono::milliseconds default_settle{500};
  /// Intents held while the node is loading; more are refused with UNAVAILABLE.
  size_t max_queued = 256;
};

/// Spawns the authority of one node. `state` carries every layer to start from (the graph
/// file's and the store's values, or the hub's last published state after a restart).
/// `store` may be null (no persistence: `persist` intents are refused).
node_actor spawn_node(caf::actor_system& sys, const node_info& info, v1::NodeState state,
                      kernel_binding binding, hub_actor hub, store_actor store,
                      node_options options = {});

/// A node's parameters with only the base layer: the spec's values over the type's defaults.
v1::NodeState initial_node_state(const node_info& info, const v1::NodeSpec& spec);

} // namespace sg
