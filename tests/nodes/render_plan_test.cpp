// render_plan::compile: schedule order, fan-in and fan-out, buffer aliasing, errors, and the
// up/down-mix rules, each checked on the samples that reach a probe.

#include <algorithm>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

size_t position(const std::vector<uint32_t>& order, uint32_t slot) {
  return static_cast<size_t>(std::find(order.begin(), order.end(), slot) - order.begin());
}

TEST(render_plan, diamond_runs_in_topological_order) {
  // Declared sink-first so that declaration order is not a valid schedule.
  graph_harness g(1);
  g.add("d", probe_info());
  g.add("c", "audio.gain", {{"level", -6}});
  g.add("b", "audio.gain", {{"level", 0}});
  g.add("a", dc_info(), {{"value", 0.5}});
  g.connect("a.out", "b.in");
  g.connect("a.out", "c.in");
  g.connect("b.out", "d.in");
  g.connect("c.out", "d.in");
  const render_plan& plan = g.start();
  const auto order = plan.order();
  ASSERT_EQ(order.size(), 4u);
  const auto a = position(order, g.slot("a")), b = position(order, g.slot("b"));
  const auto c = position(order, g.slot("c")), d = position(order, g.slot("d"));
  EXPECT_LT(a, b);
  EXPECT_LT(a, c);
  EXPECT_LT(b, d);
  EXPECT_LT(c, d);
  // Run in the wrong order, d would read its inputs before b and c wrote them.
  auto probe = probe_of(plan, g.slot("d"));
  g.render(128);
  EXPECT_FLOAT_EQ(probe->samples[0][0], 0.5f + 0.5f * db_to_gain(-6.0));
  EXPECT_FLOAT_EQ(probe->samples[0][127], 0.5f + 0.5f * db_to_gain(-6.0));
}

TEST(render_plan, fan_in_sums_every_edge_into_an_input) {
  graph_harness g(1);
  g.add("a", dc_info(), {{"value", 0.25}});
  g.add("b", dc_info(), {{"value", 0.5}});
  g.add("c", dc_info(), {{"value", -0.125}});
  g.add("p", probe_info());
  g.connect("a.out", "p.in");
  g.connect("b.out", "p.in");
  g.connect("c.out", "p.in");
  const render_plan& plan = g.start();
  auto probe = probe_of(plan, g.slot("p"));
  g.render(256);  // two blocks: the summing bus is cleared every block, not accumulated
  ASSERT_EQ(probe->samples[0].size(), 256u);
  for (float v : probe->samples[0])
    ASSERT_EQ(v, 0.625f);
}

TEST(render_plan, fan_out_feeds_one_output_to_several_inputs) {
  graph_harness g(1);
  g.add("src", dc_info(), {{"value", 0.5}});
  g.add("g1", "audio.gain", {{"level", -6}});
  g.add("g2", "audio.gain", {{"level", -12}});
  g.add("p1", probe_info());
  g.add("p2", probe_info());
  g.add("p3", probe_info());
  g.connect("src.out", "g1.in");
  g.connect("src.out", "g2.in");
  g.connect("src.out", "p3.in");
  g.connect("g1.out", "p1.in");
  g.connect("g2.out", "p2.in");
  const render_plan& plan = g.start();
  auto p1 = probe_of(plan, g.slot("p1"));
  auto p2 = probe_of(plan, g.slot("p2"));
  auto p3 = probe_of(plan, g.slot("p3"));
  g.render(128);
  EXPECT_FLOAT_EQ(p1->samples[0][64], 0.5f * db_to_gain(-6.0));
  EXPECT_FLOAT_EQ(p2->samples[0][64], 0.5f * db_to_gain(-12.0));
  EXPECT_EQ(p3->samples[0][64], 0.5f);
}

TEST(render_plan, single_matching_edge_aliases_the_source_buffer) {
  graph_harness g(1);
  g.add("src", dc2_info(), {{"value", 0.25}, {"value2", 0.75}});
  g.add("direct", probe_info());
  g.add("other", dc2_info());
  g.add("summed", probe_info());
  g.connect("src.out", "direct.in");
  g.connect("src.out", "summed.in");
  g.connect("other.out", "summed.in");
  const render_plan& plan = g.start();
  auto direct = probe_of(plan, g.slot("direct"));
  auto summed = probe_of(plan, g.slot("summed"));
  g.render(128);
  // One edge of the same width: the input is the source's own buffer, no copy.
  EXPECT_EQ(direct->last_channels, dc_out_channels(plan, g.slot("src")));
  EXPECT_EQ(direct->samples[1][10], 0.75f);
  // Two edges: the input is a separate summing buffer.
  EXPECT_NE(summed->last_channels, dc_out_channels(plan, g.slot("src")));
  EXPECT_EQ(summed->samples[0][10], 0.25f);
}

TEST(render_plan, cycle_is_rejected) {
  graph_harness g(1);
  g.add("src", dc_info());
  g.add("a", "audio.gain");
  g.add("b", "audio.gain");
  g.connect("src.out", "a.in");
  g.connect("a.out", "b.in");
  g.connect("b.out", "a.in");
  const auto plan = g.compile();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("cycle"), std::string::npos) << plan.error();
}

TEST(render_plan, self_loop_is_rejected) {
  graph_harness g(1);
  g.add("a", "audio.gain");
  g.connect("a.out", "a.in");
  const auto plan = g.compile();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("cycle"), std::string::npos) << plan.error();
}

TEST(render_plan, unknown_ports_are_rejected_with_their_names) {
  for (auto [from, to] : {std::pair{"osc.nope", "g.in"}, std::pair{"osc.out", "g.out"},
                          std::pair{"osc.out", "g.input"}}) {
    graph_harness g(1);
    g.add("osc", "audio.sine");
    g.add("g", "audio.gain");
    g.connect(from, to);
    const auto plan = g.compile();
    ASSERT_FALSE(plan) << from << " -> " << to;
    EXPECT_NE(plan.error().find(std::string(from) + " -> " + to), std::string::npos)
      << plan.error();
  }
}

TEST(render_plan, edge_to_a_node_outside_the_domain_is_rejected) {
  const node_info& sine = builtin("audio.sine");
  std::vector<plan_node_spec> nodes{{"osc", &sine, sine.defaults(), nullptr}};
  const auto plan = render_plan::compile(nodes, {{0, "out", 3, "in"}}, {}, 1);
  ASSERT_FALSE(plan);
  EXPECT_FALSE(plan.error().empty());
}

TEST(render_plan, mono_into_a_stereo_input_is_duplicated) {
  graph_harness g(1);
  g.add("mono", dc_info(), {{"value", 0.3}});
  g.add("p", probe2_info());
  g.connect("mono.out", "p.in");
  const render_plan& plan = g.start();
  auto p = probe_of(plan, g.slot("p"));
  g.render(128);
  EXPECT_EQ(p->samples[0][50], 0.3f);
  EXPECT_EQ(p->samples[1][50], 0.3f);
}

TEST(render_plan, stereo_into_a_mono_input_is_averaged) {
  graph_harness g(1);
  g.add("stereo", dc2_info(), {{"value", 0.2}, {"value2", 0.6}});
  g.add("p", probe1_info());
  g.connect("stereo.out", "p.in");
  const render_plan& plan = g.start();
  auto p = probe_of(plan, g.slot("p"));
  g.render(128);
  ASSERT_EQ(p->samples.size(), 1u);
  EXPECT_FLOAT_EQ(p->samples[0][50], 0.4f);
}

TEST(render_plan, following_input_takes_the_widest_source_and_upmixes_the_rest) {
  graph_harness g(1);
  g.add("mono", dc_info(), {{"value", 0.5}});
  g.add("stereo", dc2_info(), {{"value", 0.125}, {"value2", 0.25}});
  g.add("gain", "audio.gain");
  g.add("p", probe_info());
  g.connect("mono.out", "gain.in");
  g.connect("stereo.out", "gain.in");
  g.connect("gain.out", "p.in");
  const render_plan& plan = g.start();
  EXPECT_EQ(plan.out_channels(g.slot("gain")), std::vector<uint32_t>{2});
  auto p = probe_of(plan, g.slot("p"));
  g.render(128);
  ASSERT_EQ(p->samples.size(), 2u);
  EXPECT_EQ(p->samples[0][50], 0.625f);
  EXPECT_EQ(p->samples[1][50], 0.75f);
}

TEST(render_plan, unconnected_input_reads_silence) {
  graph_harness g(1);
  g.add("gain", "audio.gain");
  g.add("p", probe_info());
  g.connect("gain.out", "p.in");
  const render_plan& plan = g.start();
  auto p = probe_of(plan, g.slot("p"));
  g.render(256);
  EXPECT_EQ(peak(p->samples[0]), 0.0);
}

} // namespace
} // namespace sg::test
