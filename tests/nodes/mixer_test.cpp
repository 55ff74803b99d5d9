// audio.mixer: sums its inputs through per-input and master levels; `inputs` sets the port
// family; narrower inputs are up-mixed.

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

// Input port p carries a constant that identifies it.
kernel_harness::source per_port(std::vector<std::vector<float>> values) {
  return [values](uint32_t port, uint32_t channel, uint64_t) {
    const auto& v = values.at(port);
    return v.at(channel < v.size() ? channel : 0);
  };
}

TEST(mixer, sums_inputs_through_per_input_and_master_levels) {
  kernel_harness h("audio.mixer",
                   {{"inputs", 3}, {"level", -6}, {"level1", -6}, {"level2", 0}, {"level3", -120}},
                   {1, 1, 1});
  h.input(per_port({{0.25f}, {0.125f}, {0.5f}}));
  h.run(4800);
  const double expected = (0.25 * db_to_gain(-6) + 0.125) * db_to_gain(-6);
  for (float y : h.out()[0])
    ASSERT_NEAR(y, expected, 1e-6);
}

TEST(mixer, inputs_parameter_declares_in1_to_in_n) {
  const node_info& info = builtin("audio.mixer");
  std::vector<std::string> ins;
  for (const auto& p : resolve_ports(info, values_for(info, {{"inputs", 3}})))
    if (p.dir == port_dir::in)
      ins.push_back(p.name);
  EXPECT_EQ(ins, (std::vector<std::string>{"in1", "in2", "in3"}));

  graph_harness g(1);
  g.add("a", dc_info(), {{"value", 0.125}});
  g.add("b", dc_info(), {{"value", 0.25}});
  g.add("c", dc_info(), {{"value", 0.5}});
  g.add("mix", "audio.mixer", {{"inputs", 3}});
  g.add("out", "audio.output");
  g.connect("a.out", "mix.in1");
  g.connect("b.out", "mix.in2");
  g.connect("c.out", "mix.in3");
  g.connect("mix.out", "out.in");
  g.start();
  g.render(256);
  EXPECT_FLOAT_EQ(g.output()[0][255], 0.875f);

  g.connect("a.out", "mix.in4");
  const auto plan = g.compile();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("mix.in4"), std::string::npos) << plan.error();
}

TEST(mixer, mono_input_feeds_both_channels_of_a_stereo_mix) {
  kernel_harness h("audio.mixer", {{"inputs", 2}}, {1, 2});
  h.input(per_port({{0.5f}, {0.125f, 0.25f}}));
  h.run(256);
  ASSERT_EQ(h.out().size(), 2u);
  EXPECT_FLOAT_EQ(h.out()[0][100], 0.625f);
  EXPECT_FLOAT_EQ(h.out()[1][100], 0.75f);
}

TEST(mixer, mono_into_stereo_mix_through_a_plan) {
  graph_harness g(2);
  g.add("mono", dc_info(), {{"value", 0.5}});
  g.add("stereo", dc2_info(), {{"value", 0.125}, {"value2", 0.25}});
  g.add("mix", "audio.mixer", {{"inputs", 2}});
  g.add("out", "audio.output");
  g.connect("mono.out", "mix.in1");
  g.connect("stereo.out", "mix.in2");
  g.connect("mix.out", "out.in");
  const render_plan& plan = g.start();
  EXPECT_EQ(plan.out_channels(g.slot("mix")), std::vector<uint32_t>{2});
  g.render(256);
  EXPECT_FLOAT_EQ(g.output()[0][200], 0.625f);
  EXPECT_FLOAT_EQ(g.output()[1][200], 0.75f);
}

TEST(mixer, live_input_level_glides) {
  kernel_harness h("audio.mixer", {{"inputs", 2}, {"level2", -120}}, {1, 1});
  h.input(per_port({{0.0f}, {1.0f}}));
  h.run(480);
  h.set("level2", 0);
  h.run(4800);
  const auto& y = h.out()[0];
  EXPECT_EQ(y[479], 0.0f);
  EXPECT_LE(max_step(y), 0.01);
  EXPECT_NEAR(db(y.back()), 0.0, 0.1);
}

} // namespace
} // namespace sg::test
