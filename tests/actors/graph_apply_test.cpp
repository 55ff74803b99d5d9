// The graph-apply diff on its own: no actors, no devices, no waiting. Each case builds the
// running graph's node layers, applies a new graph file over them and checks the plan.

#include <gtest/gtest.h>

#include <algorithm>

#include "actors/graph_apply.hpp"
#include "actors/node_actor.hpp"
#include "actors/state/layers.hpp"
#include "graph/loader.hpp"
#include "nodes/core/node_info.hpp"

namespace sg {
namespace {

const char* const head = R"(version: 1
name: diff
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
nodes:
)";

v1::GraphSpec graph(const std::string& nodes, const std::string& edges) {
  auto result = load_graph_string(std::string(head) + nodes + "edges: [ " + edges + " ]\n",
                                  "diff.yaml");
  EXPECT_TRUE(result.ok()) << (result.errors.empty() ? "" : format_diagnostic(result.errors[0]));
  return result.spec;
}

const std::string chain_edges = "tone.out -> amp.in, amp.out -> out.in";

v1::GraphSpec chain(double level, const char* amp_type = "audio.gain") {
  return graph("  - { id: tone, type: audio.sine, params: { frequency: 440 } }\n"
               "  - { id: amp, type: " +
                 std::string(amp_type) + (std::string(amp_type) == "audio.gain"
                                            ? ", params: { level: " + std::to_string(level) + " } }\n"
                                            : " }\n") +
                 "  - { id: out, type: audio.output, device: main }\n",
               chain_edges);
}

/// The layers a running graph's nodes have: what the first apply made, as the node actors
/// would report them.
std::map<std::string, v1::NodeState> running_states(const v1::GraphSpec& g) {
  auto plan = make_plan({}, false, g, {}, {});
  return plan.states;
}

v1::ParamState& param(v1::NodeState& n, const std::string& name) {
  for (auto& p : *n.mutable_params())
    if (p.name() == name)
      return p;
  ADD_FAILURE() << "no parameter " << name << " in " << n.id();
  static v1::ParamState none;
  return none;
}

v1::Value number(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(graph_apply, the_first_apply_adds_every_node_and_opens_the_devices) {
  const auto g = chain(-6);
  const auto plan = make_plan({}, false, g, {}, {});
  EXPECT_EQ(plan.added, (std::vector<std::string>{"tone", "amp", "out"}));
  EXPECT_TRUE(plan.kept.empty());
  EXPECT_TRUE(plan.removed.empty());
  EXPECT_TRUE(plan.clears.empty());
  EXPECT_TRUE(plan.rebuild_devices);
  auto amp = plan.states.at("amp");
  EXPECT_EQ(param(amp, "level").base().double_value(), -6);
  EXPECT_EQ(param(amp, "level").value().double_value(), -6);
}

TEST(graph_apply, a_changed_live_value_keeps_the_devices_and_counts_one_node_revision) {
  const auto before_graph = chain(-6);
  auto before = running_states(before_graph);
  before["amp"].set_node_rev(7);
  before["tone"].set_node_rev(3);
  const auto plan = make_plan(before_graph, true, chain(-12), {}, before);
  EXPECT_TRUE(plan.added.empty());
  EXPECT_EQ(plan.changed, std::vector<std::string>{"amp"});
  EXPECT_FALSE(plan.rebuild_devices) << "only a live value changed";
  EXPECT_EQ(plan.states.at("amp").node_rev(), 8u);
  EXPECT_EQ(plan.states.at("tone").node_rev(), 3u) << "an unchanged node keeps its revision";
}

TEST(graph_apply, a_structural_change_rebuilds_the_devices) {
  const auto mix = [](int inputs) {
    return graph("  - { id: tone, type: audio.sine }\n"
                 "  - { id: mix, type: audio.mixer, params: { inputs: " +
                   std::to_string(inputs) +
                   " } }\n"
                   "  - { id: out, type: audio.output, device: main }\n",
                 "tone.out -> mix.in1, mix.out -> out.in");
  };
  const auto before_graph = mix(2);
  const auto plan = make_plan(before_graph, true, mix(3), {}, running_states(before_graph));
  EXPECT_TRUE(plan.rebuild_devices);
  EXPECT_FALSE(same_audio_structure(before_graph, mix(3)));
  EXPECT_TRUE(same_audio_structure(before_graph, mix(2)));
}

TEST(graph_apply, closed_devices_are_reopened_whatever_changed) {
  const auto g = chain(-6);
  EXPECT_TRUE(make_plan(g, false, g, {}, running_states(g)).rebuild_devices);
}

TEST(graph_apply, a_removed_node_is_reported_and_forgotten_by_the_store) {
  const auto before_graph = chain(-6);
  const auto after = graph("  - { id: tone, type: audio.sine }\n"
                           "  - { id: out, type: audio.output, device: main }\n",
                           "tone.out -> out.in");
  const auto plan = make_plan(before_graph, true, after, {}, running_states(before_graph));
  EXPECT_EQ(plan.removed, std::vector<std::string>{"amp"});
  ASSERT_EQ(plan.clears.size(), 1u);
  EXPECT_EQ(plan.clears[0].node(), "amp");
  EXPECT_EQ(plan.clears[0].params_size(), 0) << "every parameter of the node";
  EXPECT_EQ(plan.states.count("amp"), 0u);
  EXPECT_TRUE(plan.rebuild_devices);
}

TEST(graph_apply, a_kept_node_keeps_its_committed_and_overlay_layers) {
  const auto g = chain(-6);
  auto before = running_states(g);
  auto& level = param(before["amp"], "level");
  *level.mutable_committed() = number(-10);
  level.set_persisted(true);
  auto* ov = level.add_overlays();
  ov->set_source("osc");
  *ov->mutable_value() = number(-3);
  refresh_effective(level);
  const auto plan = make_plan(g, true, chain(-20), {}, before);
  auto amp = plan.states.at("amp");
  const auto& after = param(amp, "level");
  EXPECT_EQ(after.base().double_value(), -20) << "the file's new base";
  EXPECT_EQ(after.committed().double_value(), -10);
  EXPECT_TRUE(after.persisted());
  ASSERT_EQ(after.overlays_size(), 1);
  EXPECT_EQ(after.overlays(0).source(), "osc");
  EXPECT_EQ(after.value().double_value(), -3) << "the overlay stays effective";
  EXPECT_TRUE(plan.clears.empty());
  // What the kernels are compiled from: the effective values.
  const auto effective = effective_graph(plan);
  for (const auto& n : effective.nodes())
    if (n.id() == "amp")
      EXPECT_EQ(n.params().at("level").double_value(), -3);
}

TEST(graph_apply, a_retyped_node_keeps_what_still_fits_and_the_store_forgets_the_rest) {
  const auto g = chain(-6);
  auto before = running_states(g);
  *param(before["amp"], "level").mutable_committed() = number(-10);
  refresh_effective(param(before["amp"], "level"));
  const auto after_graph = chain(0, "audio.pan");
  const auto plan = make_plan(g, true, after_graph, {}, before);
  EXPECT_EQ(plan.retyped, std::vector<std::string>{"amp"});
  EXPECT_TRUE(contains(plan.kept, "amp"));
  ASSERT_EQ(plan.clears.size(), 1u);
  EXPECT_EQ(plan.clears[0].node(), "amp");
  ASSERT_EQ(plan.clears[0].params_size(), 1);
  EXPECT_EQ(plan.clears[0].params(0), "level") << "audio.pan has no level";
  EXPECT_EQ(plan.states.at("amp").type(), "audio.pan");
  EXPECT_TRUE(plan.rebuild_devices);
}

TEST(graph_apply, stored_values_are_restored_where_they_still_fit) {
  const auto g = chain(-6);
  v1::StoredState stored;
  auto row = [&](const char* node, const char* p, v1::Value v) {
    auto* sp = stored.add_params();
    sp->set_node(node);
    sp->set_param(p);
    *sp->mutable_value() = std::move(v);
  };
  row("amp", "level", number(-9));
  row("amp", "nothing", number(1));       // no such parameter
  row("tone", "frequency", number(-5));   // out of range
  row("gone", "level", number(0));        // no such node
  const auto plan = make_plan({}, false, g, stored, {});
  EXPECT_EQ(plan.restored, 1u);
  auto amp = plan.states.at("amp");
  EXPECT_EQ(param(amp, "level").base().double_value(), -9);
  auto tone = plan.states.at("tone");
  EXPECT_EQ(param(tone, "frequency").base().double_value(), 440);
}

} // namespace
} // namespace sg
