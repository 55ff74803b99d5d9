// audio.gain: exact static gain, click-free live changes, -120 dB is silence.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

TEST(gain, static_gain_is_exact_on_every_channel) {
  kernel_harness h("audio.gain", {{"level", -6}}, {2});
  h.input(sine_source(440, 0.9));
  h.run(4800);
  const float g = db_to_gain(-6.0);
  for (uint32_t c = 0; c < 2; ++c)
    for (uint64_t f = 0; f < 4800; ++f)
      ASSERT_EQ(h.out()[c][f], sine_source(440, 0.9)(0, c, f) * g) << "channel " << c;
  EXPECT_NEAR(db(peak(h.out()[0])), db(0.9) - 6, 0.01);
}

TEST(gain, zero_db_passes_the_input_unchanged) {
  kernel_harness h("audio.gain", {{"level", 0}}, {1});
  h.input(sine_source(1000, 0.7));
  h.run(1000);
  for (uint64_t f = 0; f < 1000; ++f)
    ASSERT_EQ(h.out()[0][f], sine_source(1000, 0.7)(0, 0, f));
}

TEST(gain, minus_120_db_is_silence) {
  kernel_harness h("audio.gain", {{"level", -120}}, {2});
  h.input(dc_source(1.0f));
  h.run(4800);
  EXPECT_EQ(peak(h.out()[0]), 0.0);
  EXPECT_EQ(peak(h.out()[1]), 0.0);
}

struct glide_case {
  double from_db, to_db;
};

class gain_glide : public ::testing::TestWithParam<glide_case> {};

TEST_P(gain_glide, live_change_glides_and_reaches_the_target_within_50_ms) {
  const auto [from, to] = GetParam();
  kernel_harness h("audio.gain", {{"level", from}}, {1});
  h.input(dc_source(1.0f));  // the output is then the gain curve itself
  h.run(4800, 64);
  h.set("level", to);
  h.run(9600, 64);
  const auto& y = h.out()[0];
  const double change = std::fabs(db_to_gain(to) - db_to_gain(from));
  // A hard switch would be one step of `change`; the 5 ms smoother spreads it, so no
  // sample-to-sample step in the first 5 ms exceeds 1% of it.
  EXPECT_LE(max_step(range(y, 4799, 4800 + 240)), change * 0.01);
  EXPECT_GT(std::fabs(y[4800] - db_to_gain(from)), 0.0) << "the glide starts at the boundary";
  const size_t after_50ms = 4800 + 2400;
  for (size_t f = after_50ms; f < y.size(); ++f)
    ASSERT_NEAR(db(y[f]), to, 0.1) << "frame " << f;
}

INSTANTIATE_TEST_SUITE_P(gain, gain_glide,
                         ::testing::Values(glide_case{0, -20}, glide_case{-20, 0},
                                           glide_case{-6, 12}, glide_case{-60, -3}));

TEST(gain, glide_settles_exactly_on_the_target) {
  // After a glide the stage must land on the exact target gain (and its settled fast path),
  // not hover a rounding error away from it forever.
  for (double to : {0.0, -6.0, 12.0, 24.0}) {
    kernel_harness h("audio.gain", {{"level", -20}}, {1});
    h.input(sine_source(440, 0.5));
    h.set("level", to);
    h.run(48000);
    const float g = db_to_gain(to);
    const auto& y = h.out()[0];
    for (uint64_t f = 24000; f < 48000; ++f)
      ASSERT_EQ(y[f], sine_source(440, 0.5)(0, 0, f) * g) << "target " << to << " frame " << f;
  }
}

TEST(gain, live_change_to_minus_120_fades_to_exact_silence) {
  kernel_harness h("audio.gain", {{"level", 0}}, {1});
  h.input(sine_source(440, 1.0));
  h.run(480);
  h.set("level", -120);
  h.run(9600);
  const auto& y = h.out()[0];
  // Bound: the sine's own slope plus the smoother's largest per-sample gain change (1/240 at
  // 48 kHz); a click would be a step near 1.
  EXPECT_LE(max_step(y), (2 * M_PI * 440 / rate + 1.0 / 240) * 1.001);
  EXPECT_EQ(peak(range(y, 480 + 4800)), 0.0);
}

} // namespace
} // namespace sg::test
