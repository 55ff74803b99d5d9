// audio.pan: equal-power law for a mono input, balance for a stereo input, smooth sweeps,
// and a stereo output whatever the input width.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

/// Left and right gains measured with a constant input of 0.5 on every input channel.
std::pair<double, double> gains(double pan, uint32_t in_channels) {
  kernel_harness h("audio.pan", {{"pan", pan}}, {in_channels});
  h.input(dc_source(0.5f));
  h.run(480);
  return {h.out()[0][479] / 0.5, h.out()[1][479] / 0.5};
}

TEST(pan, mono_hard_left_and_right_put_everything_on_one_side) {
  auto [l, r] = gains(-1, 1);
  EXPECT_NEAR(l, 1.0, 1e-6);
  EXPECT_LE(std::fabs(r), 1e-6);
  std::tie(l, r) = gains(1, 1);
  EXPECT_LE(std::fabs(l), 1e-6);
  EXPECT_NEAR(r, 1.0, 1e-6);
}

TEST(pan, mono_center_is_minus_3_db_on_each_side) {
  const auto [l, r] = gains(0, 1);
  EXPECT_NEAR(db(l), -3.0103, 0.001);
  EXPECT_NEAR(db(r), -3.0103, 0.001);
}

TEST(pan, mono_keeps_constant_power_across_the_field) {
  for (double p : {-0.75, -0.5, -0.2, 0.1, 0.5, 0.9}) {
    const auto [l, r] = gains(p, 1);
    EXPECT_NEAR(l * l + r * r, 1.0, 1e-5) << p;
    const double theta = (p + 1) * M_PI / 4;
    EXPECT_NEAR(l, std::cos(theta), 1e-6) << p;
    EXPECT_NEAR(r, std::sin(theta), 1e-6) << p;
  }
  // Moving right lowers the left and raises the right.
  EXPECT_GT(gains(-0.5, 1).first, gains(0.5, 1).first);
  EXPECT_LT(gains(-0.5, 1).second, gains(0.5, 1).second);
}

TEST(pan, stereo_center_passes_both_channels_unchanged) {
  kernel_harness h("audio.pan", {{"pan", 0}}, {2});
  h.input([](uint32_t, uint32_t c, uint64_t f) {
    return static_cast<float>((c == 0 ? 0.7 : -0.3) * std::sin(0.01 * static_cast<double>(f)));
  });
  h.run(1000);
  for (uint64_t f = 0; f < 1000; ++f) {
    ASSERT_EQ(h.out()[0][f], static_cast<float>(0.7 * std::sin(0.01 * static_cast<double>(f))));
    ASSERT_EQ(h.out()[1][f], static_cast<float>(-0.3 * std::sin(0.01 * static_cast<double>(f))));
  }
}

TEST(pan, stereo_balance_attenuates_only_the_far_side) {
  auto [l, r] = gains(1, 2);
  EXPECT_LE(std::fabs(l), 1e-6);
  EXPECT_EQ(r, 1.0);
  std::tie(l, r) = gains(-1, 2);
  EXPECT_EQ(l, 1.0);
  EXPECT_LE(std::fabs(r), 1e-6);
  std::tie(l, r) = gains(-0.5, 2);
  EXPECT_EQ(l, 1.0);
  EXPECT_NEAR(db(r), -3.0103, 0.001);
  std::tie(l, r) = gains(0.25, 2);
  EXPECT_NEAR(l, std::cos(0.25 * M_PI / 2), 1e-6);
  EXPECT_EQ(r, 1.0);
}

TEST(pan, a_live_sweep_glides_without_steps) {
  kernel_harness h("audio.pan", {{"pan", -1}}, {1});
  h.input(dc_source(1.0f));
  h.run(4800, 64);
  h.set("pan", 1);
  h.run(9600, 64);
  // The full swing of a gain is 1; the 5 ms smoother moves it at most 1/240 per frame.
  EXPECT_LE(max_step(h.out()[0]), 1.0 / 240 * 1.001);
  EXPECT_LE(max_step(h.out()[1]), 1.0 / 240 * 1.001);
  EXPECT_LE(std::fabs(h.out()[0].back()), 1e-5);
  EXPECT_NEAR(h.out()[1].back(), 1.0, 1e-5);
}

TEST(pan, in_a_graph_a_mono_source_becomes_a_stereo_output) {
  graph_harness g(2);
  g.add("osc", "audio.sine", {{"frequency", 1000}, {"level", 0}});
  g.add("pan", "audio.pan", {{"pan", 0.5}});
  g.add("out", "audio.output");
  g.connect("osc.out", "pan.in");
  g.connect("pan.out", "out.in");
  const auto& plan = g.start();
  EXPECT_EQ(plan.out_channels(g.slot("pan")), std::vector<uint32_t>{2});
  g.render(4800);
  const double theta = 1.5 * M_PI / 4;
  EXPECT_NEAR(peak(range(g.output()[0], 480)), std::cos(theta), 1e-3);
  EXPECT_NEAR(peak(range(g.output()[1], 480)), std::sin(theta), 1e-3);
}

} // namespace
} // namespace sg::test
