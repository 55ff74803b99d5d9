// audio.osc: frequency and level measured from the output for every waveform, aliasing
// against a naive waveform, phase continuity, pulse width and waveform crossfades.

#include <cmath>
#include <complex>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"
#include "tests/nodes/spectrum.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
const char* const names[] = {"sine", "saw", "square", "triangle"};

struct freq_case {
  int wave;
  double hz;
};

class oscillator_frequency : public ::testing::TestWithParam<freq_case> {};

TEST_P(oscillator_frequency, measured_over_one_second_within_a_tenth_of_a_hertz) {
  const auto [wave, hz] = GetParam();
  kernel_harness h("audio.osc", {{"waveform", wave}, {"frequency", hz}, {"level", 0}});
  h.run(48000);
  EXPECT_NEAR(frequency(h.out()[0], rate), hz, 0.1) << names[wave];
}

INSTANTIATE_TEST_SUITE_P(oscillator, oscillator_frequency,
                         ::testing::Values(freq_case{0, 440}, freq_case{1, 440},
                                           freq_case{2, 440}, freq_case{3, 440},
                                           freq_case{1, 1000}, freq_case{2, 3000},
                                           freq_case{3, 55.5}, freq_case{1, 7000}));

TEST(oscillator, frequency_holds_at_other_sample_rates) {
  for (double fs : {44100.0, 96000.0})
    for (int wave = 0; wave < 4; ++wave) {
      kernel_harness h("audio.osc", {{"waveform", wave}, {"frequency", 440}, {"level", 0}}, {}, 0,
                       {fs, 128});
      h.run(static_cast<uint64_t>(fs));
      EXPECT_NEAR(frequency(h.out()[0], fs), 440, 0.1) << names[wave] << " at " << fs;
    }
}

struct level_case {
  int wave;
  double crest_db;  // peak over RMS of the ideal waveform
};

class oscillator_level : public ::testing::TestWithParam<level_case> {};

TEST_P(oscillator_level, rms_follows_the_level_with_the_waveforms_crest_factor) {
  const auto [wave, crest] = GetParam();
  for (double level : {0.0, -6.0, -30.0}) {
    kernel_harness h("audio.osc", {{"waveform", wave}, {"frequency", 100}, {"level", level}});
    h.run(48000);
    EXPECT_NEAR(db(rms(h.out()[0])), level - crest, 0.05) << names[wave] << " at " << level;
    EXPECT_LE(db(peak(h.out()[0])), level + 0.01) << names[wave];
    EXPECT_GE(db(peak(h.out()[0])), level - 0.1) << names[wave];
  }
}

// Sine and square: √2 and 1; saw and triangle: √3.
INSTANTIATE_TEST_SUITE_P(oscillator, oscillator_level,
                         ::testing::Values(level_case{0, 3.0103}, level_case{1, 4.7712},
                                           level_case{2, 0.0}, level_case{3, 4.7712}));

TEST(oscillator, level_minus_120_is_silence) {
  for (int wave = 0; wave < 4; ++wave) {
    kernel_harness h("audio.osc", {{"waveform", wave}, {"level", -120}});
    h.run(4800);
    EXPECT_EQ(peak(h.out()[0]), 0.0) << names[wave];
  }
}

/// FFT length of the aliasing measurement: 65536 frames, so that a frequency of a whole number
/// of bins puts every harmonic, and every image folded back from above Nyquist, on a bin of its
/// own (48000 Hz is 65536 bins): a rectangular window measures them all exactly.
constexpr size_t fft_size = 65536;
double bin_hz(size_t bins) {
  return static_cast<double>(bins) * rate / fft_size;
}

/// Power of `x` in the bins below `below_hz` that are not harmonics of `bins` (nor DC),
/// relative to the total power of `x`, in dB.
double alias_db(const std::vector<float>& x, size_t bins, double below_hz) {
  std::vector<std::complex<double>> a(x.begin(), x.begin() + fft_size);
  fft(a);
  double total = 0, alias = 0;
  for (size_t k = 0; k <= fft_size / 2; ++k) {
    const double p = std::norm(a[k]) * (k == 0 || k == fft_size / 2 ? 1 : 2);
    total += p;
    if (k % bins != 0 && bin_hz(k) < below_hz)
      alias += p;
  }
  return 10 * std::log10(alias / total);
}

/// The naive waveform at phase p (cycles) with pulse width 0.5, as the test's reference.
double naive(int wave, double p) {
  switch (wave) {
    case 1:
      return 2 * p - 1;
    case 2:
      return p < 0.5 ? 1 : -1;
    default:
      return p < 0.25 ? 4 * p : p < 0.75 ? 2 - 4 * p : 4 * p - 4;
  }
}

struct alias_case {
  int wave;
  size_t bins;            // frequency in FFT bins: 6827 is 5000.2 Hz, 1707 is 1250.2 Hz
  double at_most_db;      // alias power below Nyquist, relative to the total
  double below_naive_db;  // how far under the naive waveform's alias power
  double audible_db;      // alias power below 8 kHz, where nothing masks it
};

class oscillator_aliasing : public ::testing::TestWithParam<alias_case> {};

TEST_P(oscillator_aliasing, folded_power_is_far_below_a_naive_waveform) {
  const auto [wave, bins, at_most, below, audible] = GetParam();
  const double hz = bin_hz(bins);
  kernel_harness h("audio.osc", {{"waveform", wave}, {"frequency", hz}, {"level", 0}});
  h.run(fft_size);
  std::vector<float> ref(fft_size);
  for (size_t n = 0; n < ref.size(); ++n) {
    const double phase = static_cast<double>(n * bins % fft_size) / fft_size;  // exact
    ref[n] = static_cast<float>(naive(wave, phase));
  }
  const double ours = alias_db(h.out()[0], bins, rate / 2);
  const double reference = alias_db(ref, bins, rate / 2);
  EXPECT_LE(ours, at_most) << names[wave] << " at " << hz << " Hz, naive " << reference;
  EXPECT_LE(ours, reference - below) << names[wave] << " at " << hz << " Hz";
  const double low = alias_db(h.out()[0], bins, 8000);
  EXPECT_LE(low, audible) << names[wave] << " at " << hz << " Hz, naive "
                          << alias_db(ref, bins, 8000);
}

INSTANTIATE_TEST_SUITE_P(oscillator, oscillator_aliasing,
                         ::testing::Values(alias_case{1, 6827, -20, 10, -42},
                                           alias_case{1, 1707, -28, 13, -53},
                                           alias_case{2, 6827, -20, 10, -50},
                                           alias_case{2, 1707, -30, 14, -57},
                                           alias_case{3, 6827, -33, 8, -70},
                                           alias_case{3, 1707, -56, 11, -86}));

TEST(oscillator, sine_and_triangle_stay_continuous_through_a_frequency_change) {
  for (int wave : {0, 3}) {
    // Odd block size so the change lands mid-cycle, at an arbitrary phase.
    kernel_harness h("audio.osc", {{"waveform", wave}, {"frequency", 441}, {"level", 0}});
    h.run(12000, 100);
    h.set("frequency", 1000);
    h.run(24000, 100);
    const auto& x = h.out()[0];
    // The steepest slope per frame: 2π·f/fs for the sine, 4·f/fs for the triangle.
    const double slope = (wave == 0 ? 2 * M_PI : 4.0) * 1000 / rate;
    EXPECT_LE(max_step(range(x, 11990, 12010)), slope * 1.01) << names[wave];
    EXPECT_NEAR(frequency(range(x, 0, 12000), rate), 441, 0.1) << names[wave];
    EXPECT_NEAR(frequency(range(x, 12000), rate), 1000, 0.1) << names[wave];
  }
}

TEST(oscillator, saw_ramp_continues_from_its_phase_when_the_frequency_changes) {
  kernel_harness h("audio.osc", {{"waveform", 1}, {"frequency", 441}, {"level", 0}});
  h.run(12000, 100);  // 110.25 cycles: the change lands a quarter into the ramp
  h.set("frequency", 1000);
  h.run(4800, 100);
  const auto& x = h.out()[0];
  // Away from the wrap the saw rises 2·f/fs per frame: the old rate before, the new one from
  // the first frame after; a phase reset would instead jump back to -1.
  EXPECT_NEAR(x[11999] - x[11998], 2 * 441 / rate, 1e-5);
  EXPECT_NEAR(x[12000] - x[11999], 2 * 441 / rate, 1e-5);
  EXPECT_NEAR(x[12001] - x[12000], 2 * 1000 / rate, 1e-5);
  EXPECT_NEAR(x[12000], 2 * 0.25 - 1, 1e-3);
}

TEST(oscillator, pulse_width_sets_the_fraction_of_the_cycle_the_square_is_high) {
  for (double pw : {0.1, 0.25, 0.5, 0.8}) {
    kernel_harness h("audio.osc",
                     {{"waveform", 2}, {"frequency", 100}, {"level", 0}, {"pulse_width", pw}});
    h.run(48000);
    size_t high = 0;
    for (float v : h.out()[0])
      high += v > 0 ? 1 : 0;
    EXPECT_NEAR(static_cast<double>(high) / 48000, pw, 0.002) << pw;
    EXPECT_NEAR(frequency(h.out()[0], rate), 100, 0.1) << pw;
  }
}

TEST(oscillator, waveform_change_crossfades_instead_of_jumping) {
  kernel_harness h("audio.osc", {{"waveform", 0}, {"frequency", 441}, {"level", 0}});
  h.run(12100, 100);  // phase 0.169: sine 0.87, triangle 0.68
  h.set("waveform", 3);
  h.run(4800, 100);
  const auto& x = h.out()[0];
  // A hard switch would step by 0.2 on top of the slope; the 5 ms fade adds at most
  // 0.3/240 per frame to the steeper (sine's) slope.
  EXPECT_LE(max_step(range(x, 12090, 12400)), 2 * M_PI * 441 / rate + 0.3 / 240);
  // After the fade it is a triangle: an RMS of 1/√3 (a sine's would be 1/√2).
  EXPECT_NEAR(db(rms(range(x, 13000))), -4.77, 0.05);
}

TEST(oscillator, live_level_change_glides) {
  kernel_harness h("audio.osc", {{"waveform", 0}, {"frequency", 440}, {"level", -40}});
  h.run(4800, 100);
  h.set("level", 0);
  h.run(4800, 100);
  const auto& x = h.out()[0];
  EXPECT_LE(max_step(x), (2 * M_PI * 440 / rate + 1.0 / 240) * 1.001);
  EXPECT_NEAR(db(peak(range(x, 4800 + 2400))), 0.0, 0.05);
}

} // namespace
} // namespace sg::test
