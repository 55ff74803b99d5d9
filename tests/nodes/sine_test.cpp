// audio.sine: frequency and level measured from the output; live changes stay continuous.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

class sine_frequency : public ::testing::TestWithParam<double> {};

TEST_P(sine_frequency, measured_over_one_second_within_a_tenth_of_a_hertz) {
  const double hz = GetParam();
  kernel_harness h("audio.sine", {{"frequency", hz}, {"level", 0}});
  h.run(48000);
  EXPECT_NEAR(frequency(h.out()[0], rate), hz, 0.1);
}

INSTANTIATE_TEST_SUITE_P(sine, sine_frequency, ::testing::Values(440.0, 1000.0, 48.5));

class sine_level : public ::testing::TestWithParam<double> {};

TEST_P(sine_level, peak_is_the_dbfs_parameter_and_rms_is_3_01_db_lower) {
  const double level = GetParam();
  kernel_harness h("audio.sine", {{"frequency", 440}, {"level", level}});
  h.run(48000);
  const double peak_db = db(peak(h.out()[0]));
  EXPECT_NEAR(peak_db, level, 0.05);
  EXPECT_NEAR(db(rms(h.out()[0])), peak_db - 3.0103, 0.01);
}

INSTANTIATE_TEST_SUITE_P(sine, sine_level, ::testing::Values(0.0, -6.0, -20.0, -60.0));

TEST(sine, level_minus_120_is_silence) {
  kernel_harness h("audio.sine", {{"level", -120}});
  h.run(4800);
  EXPECT_EQ(peak(h.out()[0]), 0.0);
}

TEST(sine, live_frequency_change_is_phase_continuous) {
  // Odd block size so the change lands mid-cycle, at an arbitrary phase.
  kernel_harness h("audio.sine", {{"frequency", 440}, {"level", 0}});
  h.run(12000, 100);
  h.set("frequency", 1000);
  h.run(24000, 100);
  const auto& x = h.out()[0];
  // A sine of amplitude 1 moves at most 2*pi*f/fs per sample; a phase reset or jump would
  // show as a step of up to 2.
  const double slope = 2 * M_PI * 1000 / rate;
  EXPECT_LE(max_step(x), slope * 1.001);
  EXPECT_LE(max_step(range(x, 11990, 12010)), slope * 1.001);
  EXPECT_NEAR(frequency(range(x, 0, 12000), rate), 440, 0.1);
  EXPECT_NEAR(frequency(range(x, 12000), rate), 1000, 0.1);
}

TEST(sine, live_level_change_glides_without_a_step) {
  kernel_harness h("audio.sine", {{"frequency", 440}, {"level", -40}});
  h.run(4800, 100);
  h.set("level", 0);
  h.run(4800, 100);
  const auto& x = h.out()[0];
  // The sine's own full-scale slope plus the smoother's largest per-sample gain change (1/240
  // at 48 kHz): the 40 dB rise glides in instead of stepping.
  EXPECT_LE(max_step(x), (2 * M_PI * 440 / rate + 1.0 / 240) * 1.001);
  EXPECT_NEAR(db(peak(range(x, 4800 + 2400))), 0.0, 0.05);
}

} // namespace
} // namespace sg::test
