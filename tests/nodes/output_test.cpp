// audio.output: what reaches the device channels.

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

TEST(output, mono_input_feeds_every_device_channel) {
  kernel_harness h("audio.output", {}, {1}, 2);
  h.input(sine_source(440, 0.5));
  h.run(4800);
  ASSERT_EQ(h.device().size(), 2u);
  for (uint64_t f = 0; f < 4800; ++f) {
    ASSERT_EQ(h.device()[0][f], sine_source(440, 0.5)(0, 0, f));
    ASSERT_EQ(h.device()[1][f], h.device()[0][f]);
  }
}

TEST(output, stereo_input_maps_channel_to_channel) {
  kernel_harness h("audio.output", {}, {2}, 2);
  h.input([](uint32_t, uint32_t c, uint64_t) { return c == 0 ? 0.25f : -0.5f; });
  h.run(256);
  EXPECT_EQ(h.device()[0][100], 0.25f);
  EXPECT_EQ(h.device()[1][100], -0.5f);
}

TEST(output, level_parameter_scales_the_device_signal) {
  kernel_harness h("audio.output", {{"level", -6}}, {1}, 2);
  h.input(dc_source(1.0f));
  h.run(256);
  EXPECT_FLOAT_EQ(h.device()[0][200], db_to_gain(-6.0));
  EXPECT_FLOAT_EQ(h.device()[1][200], db_to_gain(-6.0));
  h.set("level", -20);
  h.run(4800);
  const auto& y = h.device()[0];
  EXPECT_LE(max_step(y), 0.01) << "level changes glide";
  EXPECT_NEAR(db(y.back()), -20, 0.1);
}

TEST(output, without_device_channels_it_is_silent) {
  kernel_harness h("audio.output", {}, {1}, 0);
  h.input(dc_source(1.0f));
  h.run(128);
  EXPECT_EQ(h.last_status(), process_status::silent);
}

TEST(output, two_outputs_on_one_device_are_summed) {
  graph_harness g(2);
  g.add("a", dc_info(), {{"value", 0.25}});
  g.add("b", dc2_info(), {{"value", 0.125}, {"value2", 0.5}});
  g.add("out_a", "audio.output");
  g.add("out_b", "audio.output");
  g.connect("a.out", "out_a.in");
  g.connect("b.out", "out_b.in");
  g.start();
  g.render(256);
  EXPECT_FLOAT_EQ(g.output()[0][255], 0.375f);
  EXPECT_FLOAT_EQ(g.output()[1][255], 0.75f);
}

} // namespace
} // namespace sg::test
