// audio.noise: RMS level, spectral slope (flat white, -3 dB/octave pink), determinism by seed.

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"
#include "tests/nodes/spectrum.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
constexpr int white = 0, pink = 1;

TEST(noise, white_rms_is_the_level_and_peaks_stay_4_8_db_above) {
  for (double level : {-18.0, -6.0, -40.0}) {
    kernel_harness h("audio.noise", {{"color", white}, {"level", level}, {"seed", 7}});
    h.run(48000);
    EXPECT_NEAR(db(rms(h.out()[0])), level, 0.1) << level;
    // Uniform noise: the peak is √3 times the RMS and no more.
    EXPECT_LE(db(peak(h.out()[0])), level + 4.7712 + 0.001) << level;
    EXPECT_GE(db(peak(h.out()[0])), level + 4.7) << level;
  }
}

TEST(noise, pink_rms_is_the_level) {
  for (double level : {-18.0, -30.0}) {
    kernel_harness h("audio.noise", {{"color", pink}, {"level", level}, {"seed", 11}});
    h.run(480000);
    // Skip the first half second while the lowest sections (5 Hz) fill up.
    EXPECT_NEAR(db(rms(range(h.out()[0], 24000))), level, 0.25) << level;
  }
}

/// Least-squares slope, in dB per octave, of the power density over the octave bands
/// 62.5 Hz..20 kHz; also returns the largest deviation of a band from that line.
double slope_db_per_octave(const std::vector<float>& x, double& worst, double fs = rate) {
  constexpr size_t size = 8192;
  const auto psd = power_spectrum(x, size);
  std::vector<double> octave, density;
  for (double lo = 62.5; lo < 20000; lo *= 2) {
    const double hi = std::min(2 * lo, 20000.0);  // the top band: 16..20 kHz
    octave.push_back(std::log2(std::sqrt(lo * hi)));
    density.push_back(10 * std::log10(band_power(psd, size, fs, lo, hi) / (hi - lo)));
  }
  const auto n = static_cast<double>(octave.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < octave.size(); ++i) {
    sx += octave[i], sy += density[i];
    sxx += octave[i] * octave[i], sxy += octave[i] * density[i];
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const double offset = (sy - slope * sx) / n;
  worst = 0;
  for (size_t i = 0; i < octave.size(); ++i)
    worst = std::max(worst, std::fabs(density[i] - (offset + slope * octave[i])));
  return slope;
}

TEST(noise, pink_falls_3_db_per_octave) {
  kernel_harness h("audio.noise", {{"color", pink}, {"level", -18}, {"seed", 3}});
  h.run(480000);
  double worst = 0;
  EXPECT_NEAR(slope_db_per_octave(h.out()[0], worst), -3.0103, 0.15);
  EXPECT_LE(worst, 0.35) << "an octave band strays from the -3 dB/octave line";
}

TEST(noise, pink_is_designed_for_the_sample_rate) {
  for (double fs : {44100.0, 96000.0}) {
    kernel_harness h("audio.noise", {{"color", pink}, {"level", -18}, {"seed", 3}}, {}, 0,
                     {fs, 128});
    h.run(static_cast<uint64_t>(10 * fs));
    double worst = 0;
    EXPECT_NEAR(slope_db_per_octave(h.out()[0], worst, fs), -3.0103, 0.15) << fs;
    EXPECT_LE(worst, 0.35) << fs;
    EXPECT_NEAR(db(rms(range(h.out()[0], static_cast<size_t>(fs / 2)))), -18, 0.25) << fs;
  }
}

TEST(noise, white_is_flat) {
  kernel_harness h("audio.noise", {{"color", white}, {"level", -18}, {"seed", 3}});
  h.run(480000);
  double worst = 0;
  EXPECT_NEAR(slope_db_per_octave(h.out()[0], worst), 0.0, 0.15);
  EXPECT_LE(worst, 0.35);
}

TEST(noise, a_seed_gives_the_same_sequence_and_another_seed_a_different_one) {
  auto render = [](double seed, double color) {
    kernel_harness h("audio.noise", {{"color", color}, {"seed", seed}});
    h.run(4800, 100);
    return h.out()[0];
  };
  for (double color : {0.0, 1.0}) {
    EXPECT_EQ(render(42, color), render(42, color));
    EXPECT_NE(render(42, color), render(43, color));
  }
  // Seed 0 draws a fresh sequence per instance, so two default noise nodes are uncorrelated.
  EXPECT_NE(render(0, 0), render(0, 0));
}

TEST(noise, switching_color_live_keeps_the_level) {
  kernel_harness h("audio.noise", {{"color", white}, {"level", -18}, {"seed", 5}});
  h.run(48000);
  h.set("color", pink);
  h.run(480000);
  const auto& x = h.out()[0];
  EXPECT_NEAR(db(rms(range(x, 0, 48000))), -18, 0.1);
  EXPECT_NEAR(db(rms(range(x, 48000))), -18, 0.25);
  double worst = 0;
  EXPECT_NEAR(slope_db_per_octave(std::vector<float>(x.begin() + 48000, x.end()), worst),
              -3.0103, 0.15);
}

TEST(noise, level_minus_120_is_silence) {
  kernel_harness h("audio.noise", {{"level", -120}, {"seed", 1}});
  h.run(4800);
  EXPECT_EQ(peak(h.out()[0]), 0.0);
}

} // namespace
} // namespace sg::test
