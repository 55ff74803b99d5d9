// audio.compressor: static curve measured on steady sines, makeup, limiter ceiling, attack and
// release timing, stereo-linked gain.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
constexpr int limiter = 1;

/// Output peak in dBFS for a 1 kHz sine of peak `in_db`, after a second of settling.
double static_out_db(const params& p, double in_db) {
  kernel_harness h("audio.compressor", p, {1});
  h.input(sine_source(1000, db_to_gain(in_db)));
  h.run(96000);
  return db(peak(range(h.out()[0], 48000)));
}

TEST(compressor, twelve_db_over_the_threshold_at_ratio_4_comes_out_3_db_over) {
  EXPECT_NEAR(static_out_db({{"threshold", -18}, {"ratio", 4}}, -6), -15, 0.5);
  EXPECT_NEAR(static_out_db({{"threshold", -18}, {"ratio", 4}}, -6), -15, 0.1) << "tighter";
}

struct curve_case {
  double threshold, ratio, in_db, out_db;
};

class compressor_curve : public ::testing::TestWithParam<curve_case> {};

TEST_P(compressor_curve, static_curve) {
  const auto c = GetParam();
  EXPECT_NEAR(static_out_db({{"threshold", c.threshold}, {"ratio", c.ratio}}, c.in_db), c.out_db,
              0.15)
    << c.threshold << " " << c.ratio << " " << c.in_db;
}

INSTANTIATE_TEST_SUITE_P(compressor, compressor_curve,
                         ::testing::Values(curve_case{-18, 2, -6, -12},
                                           curve_case{-30, 10, -10, -28},
                                           curve_case{-10, 4, -2, -8},
                                           curve_case{-18, 100, -6, -17.88},
                                           curve_case{-18, 1, -6, -6},
                                           curve_case{-18, 4, -24, -24}));

TEST(compressor, below_the_threshold_the_signal_is_untouched) {
  kernel_harness h("audio.compressor", {{"threshold", -18}}, {2});
  h.input(sine_source(440, db_to_gain(-20)));
  h.run(9600);
  for (uint32_t c = 0; c < 2; ++c)
    for (uint64_t f = 0; f < 9600; ++f)
      ASSERT_EQ(h.out()[c][f], sine_source(440, db_to_gain(-20))(0, c, f));
}

TEST(compressor, makeup_raises_the_output) {
  EXPECT_NEAR(static_out_db({{"threshold", -18}, {"makeup", 6}}, -30), -24, 0.01);
  EXPECT_NEAR(static_out_db({{"threshold", -18}, {"ratio", 4}, {"makeup", 9}}, -6), -6, 0.15);
}

TEST(compressor, the_limiter_never_lets_a_sample_over_the_threshold) {
  // Silence, then a sine 12 dB over, then 24 dB over: every sample from the first onset on.
  kernel_harness h("audio.compressor", {{"threshold", -12}, {"mode", limiter}}, {2});
  h.input([](uint32_t, uint32_t c, uint64_t f) {
    const double amp = f < 4800 ? 0 : f < 24000 ? db_to_gain(0) : db_to_gain(12);
    return static_cast<float>((c == 0 ? amp : amp / 2) *
                              std::sin(2 * M_PI * 997 * static_cast<double>(f) / rate));
  });
  h.run(48000, 100);
  const double ceiling = db_to_gain(-12) * (1 + 1e-6);
  EXPECT_LE(peak(h.out()[0]), ceiling);
  EXPECT_LE(peak(h.out()[1]), ceiling);
  // And it does limit, rather than silence: the peaks sit at the threshold.
  EXPECT_NEAR(db(peak(range(h.out()[0], 30000))), -12, 0.1);
}

TEST(compressor, in_compressor_mode_an_onset_overshoots_for_about_the_attack_time) {
  // The contrast with the limiter: attack lets the first milliseconds through.
  kernel_harness h("audio.compressor", {{"threshold", -12}, {"ratio", 100}, {"attack", 10}}, {1});
  h.input([](uint32_t, uint32_t, uint64_t f) {
    const double x = std::sin(2 * M_PI * 997 * static_cast<double>(f) / rate);
    return f < 4800 ? 0.0f : static_cast<float>(x);
  });
  h.run(48000, 100);
  const auto& y = h.out()[0];
  EXPECT_GT(db(peak(range(y, 4800, 4800 + 96))), -3);
  EXPECT_NEAR(db(peak(range(y, 24000))), -12 + 12.0 / 100, 0.1);
}

/// Gain in dB of every frame for a constant input that steps from `from` to `to` at frame
/// 24000 (a constant is its own peak, so the gain is simply out/in).
std::vector<double> gain_track(const params& p, float from, float to) {
  kernel_harness h("audio.compressor", p, {1});
  h.input([=](uint32_t, uint32_t, uint64_t f) { return f < 24000 ? from : to; });
  h.run(24000 + 96000);
  std::vector<double> g;
  for (size_t f = 0; f < h.out()[0].size(); ++f)
    g.push_back(db(h.out()[0][f] / (f < 24000 ? from : to)));
  return g;
}

TEST(compressor, attack_time_sets_how_fast_the_gain_comes_down) {
  // -6 dBFS against a -18 threshold at ratio 4: 9 dB of reduction once settled.
  const auto g = gain_track({{"threshold", -18}, {"ratio", 4}, {"attack", 20}}, 0.01f, 0.5f);
  const double final_db = g.back();
  EXPECT_NEAR(final_db, -9, 0.05);
  EXPECT_GT(g[24000 + 48], 0.25 * final_db) << "1 ms in: most of the reduction still to come";
  // After one attack time constant the detector has covered 63 % of the way (in level, so
  // 6 of the 9 dB); after ten it is done.
  EXPECT_NEAR(g[24000 + 960], final_db * 2 / 3, 0.5);
  EXPECT_NEAR(g[24000 + 9600], final_db, 0.05);
}

TEST(compressor, release_time_sets_how_fast_the_gain_recovers) {
  const auto g =
    gain_track({{"threshold", -18}, {"ratio", 4}, {"attack", 1}, {"release", 200}}, 0.5f, 0.01f);
  EXPECT_NEAR(g[23999], -9, 0.05);
  EXPECT_LT(g[24000 + 480], -7.0) << "10 ms in: a 200 ms release has barely started";
  EXPECT_GT(g[24000 + 9600], -6.0) << "one time constant";
  EXPECT_NEAR(g[24000 + 48000], 0.0, 0.01) << "five time constants";
}

TEST(compressor, detection_is_stereo_linked) {
  // A loud left and a quiet right: the right is turned down exactly as much as the left.
  kernel_harness h("audio.compressor", {{"threshold", -18}, {"ratio", 4}}, {2});
  h.input([](uint32_t, uint32_t c, uint64_t f) {
    const double amp = c == 0 ? db_to_gain(-6) : db_to_gain(-40);
    return static_cast<float>(amp * std::sin(2 * M_PI * 440 * static_cast<double>(f) / rate));
  });
  h.run(48000);
  EXPECT_NEAR(db(peak(range(h.out()[0], 24000))), -15, 0.15);
  EXPECT_NEAR(db(peak(range(h.out()[1], 24000))), -40 - 9, 0.15);
}

TEST(compressor, live_threshold_changes_do_not_step) {
  kernel_harness h("audio.compressor", {{"threshold", -6}, {"ratio", 8}}, {1});
  h.input(dc_source(0.5f));
  h.run(4800, 64);
  h.set("threshold", -30);
  h.run(9600, 64);
  const auto& y = h.out()[0];
  EXPECT_LE(max_step(y), 0.01);
  EXPECT_NEAR(db(y.back()), -30 + (30 - 6.02) / 8, 0.05);
}

} // namespace
} // namespace sg::test
