#pragma once

/// A graph apply, worked out before anything is touched: which nodes are added, removed, kept,
/// retyped or changed, every node's new layers (the graph's base values, the stored ones
/// restored over them, a kept node's committed and overlay values carried over where they
/// still fit), what the store must forget, and whether the running devices can stay. Pure: no
/// actors, no I/O, so it is tested on its own (tests/actors/graph_apply_test.cpp).

#include <map>
#include <string>
#include <vector>

#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/events.pb.h"
#include "studiograph/v1/graph.pb.h"
#include "studiograph/v1/values.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// Everything one apply works out before it touches anything.
struct apply_plan {
  v1::GraphSpec graph;
  std::map<std::string, v1::NodeState> states;  // the new layers of every node
  std::vector<std::string> kept;                // nodes that existed before (retyped included)
  std::vector<std::string> added, removed, retyped, changed;
  uint32_t restored = 0;
  std::vector<v1::PersistClear> clears;
  bool rebuild_devices = true;
  std::map<std::string, v1::NodeState> before;  // the held nodes' layers when the apply began
};

/// The plan for applying `graph` over `running` (the graph now running, its nodes' layers in
/// `before`; `devices_open`: whether its devices run). `stored` holds the persisted values to
/// restore as base values where they are still acceptable.
apply_plan make_plan(const v1::GraphSpec& running, bool devices_open, v1::GraphSpec graph,
                     const v1::StoredState& stored, std::map<std::string, v1::NodeState> before);

/// True when both graphs declare the same devices, in the same order, with the same settings.
bool same_devices(const v1::GraphSpec& a, const v1::GraphSpec& b);

/// True when the audio side of two graphs is the same (devices, edges, node ids, types,
/// devices and structural parameters): then only parameter values changed and the running
/// devices are kept.
bool same_audio_structure(const v1::GraphSpec& a, const v1::GraphSpec& b);

/// The graph with every node's parameters at their effective values: what the render plans
/// are compiled from, so the kernels start where the authorities are.
v1::GraphSpec effective_graph(const apply_plan& plan);

} // namespace sg
