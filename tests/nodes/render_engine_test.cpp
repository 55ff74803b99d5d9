// render_engine: plan swaps at block boundaries, retired plans freed off the realtime side,
// parameter updates at block boundaries, long blocks chunked, statistics.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

// A one-node-to-output plan compiled by a separate builder, for submitting to another engine.
std::unique_ptr<render_plan> dc_plan(double value) {
  graph_harness b(1);
  b.add("dc", dc_info(), {{"value", value}});
  b.add("out", "audio.output");
  b.connect("dc.out", "out.in");
  auto plan = b.compile();
  if (!plan)
    throw std::runtime_error(plan.error());
  return std::move(*plan);
}

TEST(render_engine, without_a_plan_renders_silence) {
  graph_harness g(2);
  g.render(256);
  EXPECT_EQ(peak(g.output()[0]), 0.0);
  EXPECT_EQ(g.engine().stats().frames.load(), 256u);
}

TEST(render_engine, plan_swap_lands_on_a_block_boundary_and_old_plan_is_freed_off_realtime) {
  const int before = live_dc_kernels();
  graph_harness g(1);
  g.submit(dc_plan(0.25));
  g.render(256);
  g.submit(dc_plan(0.5));
  EXPECT_TRUE(g.engine().plan_pending());
  EXPECT_EQ(live_dc_kernels() - before, 2);
  g.render(128);  // the first block after submit is rendered entirely by the new plan
  EXPECT_FALSE(g.engine().plan_pending());
  const auto& y = g.output()[0];
  for (size_t f = 0; f < 256; ++f)
    ASSERT_EQ(y[f], 0.25f) << f;
  for (size_t f = 256; f < 384; ++f)
    ASSERT_EQ(y[f], 0.5f) << f;
  // render() only retires the old plan; freeing it is the control side's job.
  EXPECT_EQ(live_dc_kernels() - before, 2);
  g.engine().collect_garbage();
  EXPECT_EQ(live_dc_kernels() - before, 1);
}

TEST(render_engine, newest_of_several_pending_plans_wins_and_all_old_ones_are_freed) {
  const int before = live_dc_kernels();
  {
    graph_harness g(1);
    g.submit(dc_plan(0.125));
    g.render(128);
    g.submit(dc_plan(0.25));
    g.submit(dc_plan(0.5));
    g.render(128);
    EXPECT_EQ(g.output()[0][127], 0.125f);
    EXPECT_EQ(g.output()[0][128], 0.5f);
    g.engine().collect_garbage();
    EXPECT_EQ(live_dc_kernels() - before, 1);
  }
  EXPECT_EQ(live_dc_kernels(), before) << "the engine frees its current plan";
}

TEST(render_engine, swap_keeps_reused_kernel_state_and_drops_no_block) {
  // Plan 1: osc -> out. Plan 2: the same oscillator kernel -> gain -> out. The sine must run
  // on without a phase jump, and every frame must be rendered by one plan or the other.
  graph_harness g(1);
  g.add("osc", "audio.sine", {{"frequency", 440}, {"level", 0}});
  g.add("out", "audio.output");
  g.connect("osc.out", "out.in");
  const render_plan& first = g.start();
  g.render(1000, 100);

  graph_harness next(1);
  next.add("osc", "audio.sine", {{"frequency", 440}, {"level", 0}});
  next.add("gain", "audio.gain", {{"level", 0}});
  next.add("out", "audio.output");
  next.connect("osc.out", "gain.in");
  next.connect("gain.out", "out.in");
  next.keep_kernel("osc", first.kernel_at(g.slot("osc")));
  auto second = next.compile();
  ASSERT_TRUE(second) << second.error();
  g.submit(std::move(*second));
  g.render(9000, 100);
  g.engine().collect_garbage();

  const auto& y = g.output()[0];
  ASSERT_EQ(y.size(), 10000u);
  EXPECT_LE(max_step(y), 2 * M_PI * 440 / rate * 1.001);
  EXPECT_NEAR(frequency(y, rate), 440, 0.1);
  EXPECT_NEAR(db(peak(range(y, 1000))), 0.0, 0.05);
}

TEST(render_engine, parameter_updates_apply_at_the_next_block_boundary) {
  graph_harness g(1);
  g.add("dc", dc_info(), {{"value", 0}});
  g.add("out", "audio.output");
  g.connect("dc.out", "out.in");
  g.start();
  g.render(128);
  g.set("dc", "value", 1.0);
  g.set("dc", "value", 0.5);  // several updates before a block: applied in order
  g.render(128);
  g.set("dc", "value", 0.25);
  g.render(300);  // longer than max_block: applied once, before the first chunk
  const auto& y = g.output()[0];
  for (size_t f = 0; f < 128; ++f)
    ASSERT_EQ(y[f], 0.0f) << f;
  for (size_t f = 128; f < 256; ++f)
    ASSERT_EQ(y[f], 0.5f) << f;
  for (size_t f = 256; f < 556; ++f)
    ASSERT_EQ(y[f], 0.25f) << f;
}

TEST(render_engine, parameter_for_an_unknown_slot_is_ignored) {
  graph_harness g(1);
  g.add("dc", dc_info(), {{"value", 0.5}});
  g.add("out", "audio.output");
  g.connect("dc.out", "out.in");
  g.start();
  EXPECT_TRUE(g.engine().push_param({99, 0, 1.0}));
  g.render(128);
  EXPECT_EQ(g.output()[0][0], 0.5f);
}

// The same chain rendered in max_block calls and in long calls must give identical samples
// and telemetry: chunking is invisible.
class long_blocks : public ::testing::TestWithParam<uint32_t> {};

TEST_P(long_blocks, are_chunked_into_max_block_pieces_transparently) {
  const uint32_t call = GetParam();
  auto make = [](graph_harness& g) {
    g.add("osc", "audio.sine", {{"frequency", 1000}, {"level", -6}});
    g.add("gain", "audio.gain", {{"level", -3}});
    g.add("meter", "audio.meter", {{"rate", 20}});
    g.add("out", "audio.output");
    g.connect("osc.out", "gain.in");
    g.connect("gain.out", "meter.in");
    g.connect("gain.out", "out.in");
    g.start();
  };
  graph_harness ref(2), big(2);
  make(ref);
  make(big);
  ref.render(48000, 128);
  big.render(48000, call);
  for (uint32_t c = 0; c < 2; ++c)
    ASSERT_EQ(big.output()[c], ref.output()[c]) << "channel " << c;
  ASSERT_EQ(big.telemetry().size(), ref.telemetry().size());
  EXPECT_EQ(big.telemetry().back().values[0], ref.telemetry().back().values[0]);
  EXPECT_EQ(big.engine().stats().frames.load(), 48000u);
  EXPECT_EQ(big.engine().stats().blocks.load(), (48000u + call - 1) / call);
}

INSTANTIATE_TEST_SUITE_P(render_engine, long_blocks, ::testing::Values(256u, 1000u, 4800u));

TEST(render_engine, stats_count_render_calls_and_frames) {
  graph_harness g(2);
  g.submit(dc_plan(0.5));
  g.render(1000, 100);
  g.render(64, 64);
  const auto& s = g.engine().stats();
  EXPECT_EQ(s.blocks.load(), 11u);
  EXPECT_EQ(s.frames.load(), 1064u);
  EXPECT_EQ(s.dropped_params.load(), 0u);
  EXPECT_GT(s.peak_load.load(), 0.0f);
  EXPECT_GE(s.peak_load.load(), s.load.load());
}

TEST(render_engine, full_parameter_queue_is_counted_not_blocking) {
  graph_harness g(1);
  uint32_t accepted = 0;
  for (uint32_t i = 0; i < 5000; ++i)
    accepted += g.engine().push_param({0, 0, 1.0}) ? 1 : 0;
  EXPECT_LT(accepted, 5000u);
  EXPECT_EQ(g.engine().stats().dropped_params.load(), 5000u - accepted);
}

} // namespace
} // namespace sg::test
