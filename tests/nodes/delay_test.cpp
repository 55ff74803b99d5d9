// audio.delay: an impulse comes out after exactly `time`, repeats decay by `feedback`, `mix`
// blends dry and wet, time changes glide, channels stay apart.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"
#include "tests/nodes/spectrum.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

kernel_harness::source impulse(uint64_t at = 0, uint32_t channel = 0) {
  return [=](uint32_t, uint32_t c, uint64_t f) { return f == at && c == channel ? 1.0f : 0.0f; };
}

/// Frames of the non-zero samples of `x`.
std::vector<size_t> nonzero(const std::vector<float>& x, float above = 1e-6f) {
  std::vector<size_t> at;
  for (size_t i = 0; i < x.size(); ++i)
    if (std::fabs(x[i]) > above)
      at.push_back(i);
  return at;
}

class delay_time : public ::testing::TestWithParam<double> {};

TEST_P(delay_time, an_impulse_comes_out_after_exactly_time) {
  const double ms = GetParam();
  kernel_harness h("audio.delay", {{"time", ms}, {"feedback", 0}, {"mix", 1}}, {1});
  h.input(impulse());
  h.run(static_cast<uint64_t>(ms * 48) + 1000);
  const auto& y = h.out()[0];
  const double frames = ms * rate / 1000;
  size_t loudest = 0;
  for (size_t i = 0; i < y.size(); ++i)
    loudest = std::fabs(y[i]) > std::fabs(y[loudest]) ? i : loudest;
  EXPECT_NEAR(static_cast<double>(loudest), frames, 1.0) << ms << " ms";
  if (frames == std::floor(frames)) {  // a whole number of frames: the impulse, untouched
    EXPECT_EQ(y[loudest], 1.0f);
    EXPECT_EQ(nonzero(y), std::vector<size_t>{loudest});
  }
}

INSTANTIATE_TEST_SUITE_P(delay, delay_time, ::testing::Values(250.0, 10.5, 1.23, 2000.0, 0.1));

/// The delay as its header defines it, frame by frame in double precision: out = dry +
/// mix·(wet − dry), the line fed dry + feedback·wet, the read Hermite-interpolated `d` frames
/// back.
std::vector<double> reference_delay(const kernel_harness::source& x, uint64_t frames, double d,
                                    double feedback, double mix) {
  std::vector<double> line(frames, 0.0), out(frames);
  const auto i = static_cast<int64_t>(d);
  const double t = d - static_cast<double>(i);
  auto at = [&](int64_t n) { return n < 0 ? 0.0 : line[static_cast<size_t>(n)]; };
  for (uint64_t n = 0; n < frames; ++n) {
    const auto k = static_cast<int64_t>(n);
    const double xm1 = at(k - i + 1), x0 = at(k - i), x1 = at(k - i - 1), x2 = at(k - i - 2);
    const double c1 = 0.5 * (x1 - xm1);
    const double c2 = xm1 - 2.5 * x0 + 2.0 * x1 - 0.5 * x2;
    const double c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
    const double wet = ((c3 * t + c2) * t + c1) * t + x0;
    const double dry = x(0, 0, n);
    line[n] = dry + feedback * wet;
    out[n] = dry + mix * (wet - dry);
  }
  return out;
}

struct steady_case {
  double ms;
  uint32_t block;
};

class delay_steady : public ::testing::TestWithParam<steady_case> {};

TEST_P(delay_steady, block_rendering_matches_the_definition_across_the_line_wrap) {
  // 3 s crosses the end of the 2 s line; a delay longer than the block takes the block-wise
  // path, a shorter one the frame-by-frame path: both must be the same delay.
  const auto [ms, block] = GetParam();
  const kernel_harness::source noise = [](uint32_t, uint32_t, uint64_t f) {
    return static_cast<float>(((f * 2654435761u) >> 7) % 2001) / 1000.0f - 1.0f;
  };
  kernel_harness h("audio.delay", {{"time", ms}, {"feedback", 0.6}, {"mix", 0.7}}, {1});
  h.input(noise);
  const uint64_t frames = 3 * 48000;
  h.run(frames, block);
  const auto want = reference_delay(noise, frames, ms * 48, 0.6, 0.7);
  double worst = 0;
  for (uint64_t n = 0; n < frames; ++n)
    worst = std::max(worst, std::fabs(h.out()[0][n] - want[n]));
  EXPECT_LT(worst, 2e-5) << ms << " ms, block " << block;
}

INSTANTIATE_TEST_SUITE_P(delay, delay_steady,
                         ::testing::Values(steady_case{250, 128}, steady_case{123.4567, 64},
                                           steady_case{1999.9, 128}, steady_case{1, 128},
                                           steady_case{2.5, 37}));

TEST(delay, time_is_in_milliseconds_at_any_sample_rate) {
  for (double fs : {44100.0, 96000.0}) {
    kernel_harness h("audio.delay", {{"time", 250}, {"feedback", 0}, {"mix", 1}}, {1}, 0,
                     {fs, 128});
    h.input(impulse());
    h.run(static_cast<uint64_t>(0.3 * fs));
    EXPECT_EQ(nonzero(h.out()[0]), std::vector<size_t>{static_cast<size_t>(0.25 * fs)}) << fs;
  }
}

TEST(delay, time_zero_is_one_frame) {
  kernel_harness h("audio.delay", {{"time", 0}, {"feedback", 0}, {"mix", 1}}, {1});
  h.input(impulse(10));
  h.run(100);
  EXPECT_EQ(nonzero(h.out()[0]), std::vector<size_t>{11});
}

TEST(delay, each_repeat_is_feedback_times_the_one_before) {
  for (double fb : {0.5, 0.3, 0.95}) {
    kernel_harness h("audio.delay", {{"time", 10}, {"feedback", fb}, {"mix", 1}}, {1});
    h.input(impulse());
    h.run(480 * 6 + 100);
    const auto& y = h.out()[0];
    EXPECT_EQ(nonzero(y), (std::vector<size_t>{480, 960, 1440, 1920, 2400, 2880})) << fb;
    for (int k = 1; k <= 6; ++k)
      EXPECT_NEAR(y[480 * k], std::pow(fb, k - 1), 1e-6) << fb << " repeat " << k;
  }
}

TEST(delay, mix_zero_is_the_dry_signal_and_one_the_wet) {
  kernel_harness dry("audio.delay", {{"time", 5}, {"feedback", 0.5}, {"mix", 0}}, {2});
  dry.input(sine_source(440, 0.8));
  dry.run(4800);
  for (uint32_t c = 0; c < 2; ++c)
    for (uint64_t f = 0; f < 4800; ++f)
      ASSERT_EQ(dry.out()[c][f], sine_source(440, 0.8)(0, c, f));

  kernel_harness half("audio.delay", {{"time", 10}, {"feedback", 0}, {"mix", 0.5}}, {1});
  half.input(impulse());
  half.run(1000);
  EXPECT_EQ(nonzero(half.out()[0]), (std::vector<size_t>{0, 480}));
  EXPECT_FLOAT_EQ(half.out()[0][0], 0.5f);
  EXPECT_FLOAT_EQ(half.out()[0][480], 0.5f);
}

TEST(delay, channels_have_their_own_lines) {
  kernel_harness h("audio.delay", {{"time", 10}, {"feedback", 0.5}, {"mix", 1}}, {2});
  h.input(impulse(0, 1));
  h.run(2000);
  EXPECT_EQ(peak(h.out()[0]), 0.0);
  EXPECT_EQ(nonzero(h.out()[1]), (std::vector<size_t>{480, 960, 1440, 1920}));
}

TEST(delay, fractional_delays_keep_the_highs) {
  // 100.5 frames: a linear interpolator would lose 2 dB at 10 kHz, the Hermite one about 0.5.
  kernel_harness h("audio.delay", {{"time", 100.5 / 48}, {"feedback", 0}, {"mix", 1}}, {1});
  h.input(sine_source(10000, 0.5));
  h.run(48000 + 4800);
  EXPECT_GE(db(amplitude_at(range(h.out()[0], 4800), 10000, rate) / 0.5), -0.7);
}

TEST(delay, a_time_change_glides_without_steps_and_lands_on_the_new_time) {
  kernel_harness h("audio.delay", {{"time", 100}, {"feedback", 0}, {"mix", 1}}, {1});
  h.input(sine_source(200, 0.5));
  h.run(9600, 64);
  h.set("time", 50);
  h.run(24000, 64);
  const auto& y = h.out()[0];
  // Shortening 50 ms with a 50 ms glide reads at most 2 frames ahead per frame, so the pitch
  // rises to at most 3x: steps stay under 3x the sine's own; a jump would step up to 1.
  EXPECT_LE(max_step(range(y, 4800)), 3 * 2 * M_PI * 200 / rate * 0.5 * 1.05);

  // And then the echo sits at 50 ms.
  kernel_harness k("audio.delay", {{"time", 100}, {"feedback", 0}, {"mix", 1}}, {1});
  k.set("time", 50);
  k.run(72000);  // 30 time constants
  k.input(impulse(72000));
  k.run(4000);
  EXPECT_EQ(nonzero(k.out()[0]), std::vector<size_t>{72000 + 2400});
}

} // namespace
} // namespace sg::test
