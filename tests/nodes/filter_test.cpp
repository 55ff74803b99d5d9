// audio.filter: magnitude response measured with sine inputs for every mode, independent
// channels, parameter glides without steps, mode changes without clicks.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"
#include "tests/nodes/spectrum.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
enum mode_index { lowpass, highpass, bandpass, notch, lowshelf, highshelf, peaking };

/// Gain in dB at `hz` (an integer), measured after half a second of settling over one second.
double response_db(const params& p, double hz) {
  kernel_harness h("audio.filter", p, {1});
  h.input(sine_source(hz, 0.5));
  h.run(72000);
  return db(amplitude_at(range(h.out()[0], 24000), hz, rate) / 0.5);
}

struct point {
  double hz;
  double expected_db;
  double tolerance_db;  // negative: the response must be at most expected_db
};

struct response_case {
  const char* name;
  params p;
  std::vector<point> points;
};

class filter_response : public ::testing::TestWithParam<response_case> {};

TEST_P(filter_response, measured_magnitude_matches_the_mode) {
  const auto& c = GetParam();
  for (const auto& pt : c.points) {
    const double got = response_db(c.p, pt.hz);
    if (pt.tolerance_db < 0)
      EXPECT_LE(got, pt.expected_db) << c.name << " at " << pt.hz << " Hz";
    else
      EXPECT_NEAR(got, pt.expected_db, pt.tolerance_db) << c.name << " at " << pt.hz << " Hz";
  }
}

INSTANTIATE_TEST_SUITE_P(
  filter, filter_response,
  ::testing::Values(
    response_case{"lowpass 1k",
                  {{"mode", lowpass}, {"frequency", 1000}},
                  {{100, 0, 0.05}, {1000, -3.01, 0.05}, {10000, -35, -1}, {20000, -50, -1}}},
    response_case{"highpass 1k",
                  {{"mode", highpass}, {"frequency", 1000}},
                  {{10000, 0, 0.05}, {1000, -3.01, 0.05}, {100, -35, -1}, {20, -60, -1}}},
    response_case{"lowpass 200 Hz, q 4 resonates",
                  {{"mode", lowpass}, {"frequency", 200}, {"q", 4}},
                  {{20, 0, 0.1}, {200, 12.04, 0.1}, {2000, -35, -1}}},
    response_case{"bandpass 1k q 2",
                  {{"mode", bandpass}, {"frequency", 1000}, {"q", 2}},
                  {{1000, 0, 0.05}, {100, -20, -1}, {10000, -20, -1}}},
    response_case{"notch 1k",
                  {{"mode", notch}, {"frequency", 1000}},
                  {{1000, -60, -1}, {100, 0, 0.15}, {10000, 0, 0.15}}},
    response_case{"lowshelf +6 dB at 1k",
                  {{"mode", lowshelf}, {"frequency", 1000}, {"gain", 6}},
                  {{20, 6, 0.1}, {1000, 3, 0.05}, {20000, 0, 0.1}}},
    response_case{"highshelf -12 dB at 1k",
                  {{"mode", highshelf}, {"frequency", 1000}, {"gain", -12}},
                  {{20, 0, 0.1}, {1000, -6, 0.05}, {20000, -12, 0.1}}},
    response_case{"peak +12 dB at 1k q 1",
                  {{"mode", peaking}, {"frequency", 1000}, {"q", 1}, {"gain", 12}},
                  {{1000, 12, 0.05}, {100, 0, 0.3}, {10000, 0, 0.4}}},
    response_case{"peak -9 dB at 3k q 4",
                  {{"mode", peaking}, {"frequency", 3000}, {"q", 4}, {"gain", -9}},
                  {{3000, -9, 0.05}, {300, 0, 0.1}, {15000, 0, 0.1}}},
    response_case{"gain leaves the pass modes alone",
                  {{"mode", lowpass}, {"frequency", 1000}, {"gain", 12}},
                  {{100, 0, 0.05}, {1000, -3.01, 0.05}}}));

TEST(filter, the_cutoff_holds_at_other_sample_rates) {
  for (double fs : {44100.0, 96000.0}) {
    kernel_harness h("audio.filter", {{"mode", lowpass}, {"frequency", 1000}}, {1}, 0, {fs, 128});
    h.input(sine_source(1000, 0.5, fs));
    h.run(static_cast<uint64_t>(1.5 * fs));
    const auto settled = range(h.out()[0], static_cast<size_t>(fs / 2));
    EXPECT_NEAR(db(amplitude_at(settled, 1000, fs) / 0.5), -3.01, 0.05) << fs;
  }
}

TEST(filter, channels_are_filtered_independently) {
  kernel_harness h("audio.filter", {{"mode", lowpass}, {"frequency", 1000}}, {2});
  h.input([](uint32_t, uint32_t c, uint64_t f) {
    const double hz = c == 0 ? 100 : 10000;
    return static_cast<float>(0.5 * std::sin(2 * M_PI * hz * static_cast<double>(f) / rate));
  });
  h.run(72000);
  const auto left = range(h.out()[0], 24000), right = range(h.out()[1], 24000);
  EXPECT_NEAR(db(amplitude_at(left, 100, rate) / 0.5), 0, 0.05);
  EXPECT_LE(db(amplitude_at(right, 10000, rate) / 0.5), -35);
  EXPECT_LE(db(amplitude_at(left, 10000, rate)), -120) << "right channel leaked into the left";
  EXPECT_LE(db(amplitude_at(right, 100, rate)), -120) << "left channel leaked into the right";
}

TEST(filter, silence_in_is_silence_out) {
  kernel_harness h("audio.filter", {{"mode", peaking}, {"gain", 12}, {"q", 10}}, {1});
  h.run(4800);
  EXPECT_EQ(peak(h.out()[0]), 0.0);
}

TEST(filter, a_cutoff_change_glides_instead_of_jumping) {
  // A 1 kHz sine through a lowpass whose cutoff moves from 200 Hz to 5 kHz.
  kernel_harness h("audio.filter", {{"mode", lowpass}, {"frequency", 200}}, {1});
  h.input(sine_source(1000, 0.5));
  h.run(24000, 64);
  h.set("frequency", 5000);
  h.run(24000, 64);
  const auto& y = h.out()[0];
  const double before = amplitude_at(range(y, 0, 24000), 1000, rate);
  const double after = amplitude_at(range(y, 24000 + 4800), 1000, rate);
  EXPECT_NEAR(db(before / 0.5), -28, 1.0);
  EXPECT_NEAR(db(after / 0.5), 0, 0.05);
  // 1 ms after the change the cutoff is still on its way (a jump would already pass 0 dB).
  EXPECT_LE(db(peak(range(y, 24000 + 48, 24000 + 96)) / 0.5), -12);
  // The output never moves faster than the unfiltered 1 kHz sine (plus 10 %): the coefficient
  // updates add no steps.
  EXPECT_LE(max_step(y), 2 * M_PI * 1000 / rate * 0.5 * 1.1);
}

TEST(filter, a_mode_change_crossfades_without_a_click) {
  // Lowpass and highpass at their cutoff are both -3 dB but 180 degrees apart: a hard switch
  // jumps across the waveform, the 10 ms crossfade passes through the dip smoothly.
  kernel_harness h("audio.filter", {{"mode", lowpass}, {"frequency", 1000}}, {1});
  h.input(sine_source(1000, 0.5));
  h.run(24010, 10);
  h.set("mode", highpass);
  h.run(24000, 10);
  const auto& y = h.out()[0];
  const double slope = 2 * M_PI * 1000 / rate * 0.5;
  EXPECT_LE(max_step(range(y, 23900, 25000)), slope * 1.1);
  EXPECT_NEAR(db(amplitude_at(range(y, 24010 + 4790, 24010 + 4790 + 19200), 1000, rate) / 0.5),
              -3.01, 0.05);
}

} // namespace
} // namespace sg::test
