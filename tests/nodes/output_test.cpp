// audio.output: what reaches the device channels.

#include <gtest/gtest.h>

#include "nodes/core/channel_list.hpp"
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

// `channels` picks the device channels an output plays on; the others stay untouched.
TEST(output, channels_pick_the_device_channels_it_plays_on) {
  graph_harness g(4);
  g.add("a", dc2_info(), {{"value", 0.25}, {"value2", -0.5}});
  g.add("mono", dc_info(), {{"value", 0.125}});
  g.add("pair", "audio.output", {}, {{"channels", "3-4"}});
  g.add("one", "audio.output", {}, {{"channels", "1"}});
  g.connect("a.out", "pair.in");
  g.connect("mono.out", "one.in");
  g.start();
  g.render(256);
  EXPECT_EQ(g.output()[0][255], 0.125f);
  EXPECT_EQ(g.output()[1][255], 0.0f) << "no output lists channel 2";
  EXPECT_EQ(g.output()[2][255], 0.25f);
  EXPECT_EQ(g.output()[3][255], -0.5f);
}

// audio.input: what the device captured reaches the graph in the same block, sample for sample.
TEST(input, listed_device_channels_reach_the_graph_in_the_same_block) {
  graph_harness g(2, {}, 4);
  g.capture([](uint32_t c, uint64_t f) { return static_cast<float>(c + 1) + f * 1e-4f; });
  g.add("in", "audio.input", {}, {{"channels", "4, 2"}});
  g.add("out", "audio.output");
  g.connect("in.out", "out.in");
  const render_plan& plan = g.start();
  EXPECT_EQ(plan.out_channels(g.slot("in")), std::vector<uint32_t>{2}) << "one per listed channel";
  g.render(1000, 100);
  for (uint64_t f = 0; f < 1000; ++f) {
    ASSERT_EQ(g.output()[0][f], 4.0f + f * 1e-4f) << f;  // device input 4, no delay
    ASSERT_EQ(g.output()[1][f], 2.0f + f * 1e-4f) << f;
  }
}

TEST(input, level_scales_and_glides) {
  graph_harness g(1, {}, 1);
  g.capture([](uint32_t, uint64_t) { return 1.0f; });
  g.add("in", "audio.input", {{"level", -6}}, {});
  g.add("out", "audio.output");
  g.connect("in.out", "out.in");
  g.start();
  g.render(256);
  EXPECT_FLOAT_EQ(g.output()[0][200], db_to_gain(-6.0));
  g.set("in", "level", -20);
  g.render(4800);
  EXPECT_LE(max_step(g.output()[0]), 0.01) << "level changes glide";
  EXPECT_NEAR(db(g.output()[0].back()), -20, 0.1);
}

TEST(input, a_channel_the_device_does_not_capture_reads_silence) {
  graph_harness g(1, {}, 1);
  g.capture([](uint32_t, uint64_t) { return 0.5f; });
  g.add("in", "audio.input", {}, {{"channels", "3"}});
  g.add("out", "audio.output");
  g.connect("in.out", "out.in");
  g.start();
  g.render(256);
  EXPECT_EQ(g.output()[0][255], 0.0f);
}

TEST(channel_list, numbers_ranges_and_their_mistakes) {
  EXPECT_EQ(*parse_channel_list("1"), std::vector<uint32_t>{0});
  EXPECT_EQ(*parse_channel_list("1, 2"), (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(*parse_channel_list("3-5 ,8"), (std::vector<uint32_t>{2, 3, 4, 7}));
  EXPECT_EQ(*parse_channel_list(" 2 1 "), (std::vector<uint32_t>{1, 0}));
  EXPECT_EQ(highest_channel("3-5, 1"), 5u);
  auto error_of = [](const char* text) {
    auto r = parse_channel_list(text);
    return r ? std::string("accepted") : r.error();
  };
  EXPECT_EQ(error_of("0"), "channel 0 is outside 1..64");
  EXPECT_EQ(error_of("65"), "channel 65 is outside 1..64");
  EXPECT_EQ(error_of("4-2"), "range 4-2 runs backwards");
  EXPECT_EQ(error_of("1, 1"), "channel 1 is listed twice");
  EXPECT_EQ(error_of(""), "expected at least one channel (1..64)");
  EXPECT_EQ(error_of("left"), "expected channel numbers such as 1, 2 or a range 1-2 at 'left'");
  EXPECT_EQ(error_of("2-"), "expected the end of the range after '2-'");
}

} // namespace
} // namespace sg::test
