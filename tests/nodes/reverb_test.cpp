// audio.reverb: the decay time measured from impulse responses (Schroeder integration), damping
// measured per band, an exact dry path at mix 0, predelay, decorrelated stereo and stability.

#include <cmath>

#include <gtest/gtest.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

kernel_harness::source impulse() {
  return [](uint32_t, uint32_t, uint64_t frame) { return frame == 0 ? 1.0f : 0.0f; };
}

/// Stereo impulse response of a fully wet reverb fed a mono impulse.
channels impulse_response(double decay_s, double damping, double seconds, double size = 0.7) {
  kernel_harness h("audio.reverb",
                   {{"decay", decay_s}, {"damping", damping}, {"mix", 1}, {"predelay", 0},
                    {"size", size}},
                   {1});
  h.input(impulse());
  h.run(static_cast<uint64_t>(seconds * rate));
  return h.out();
}

/// RT60 from the energy decay curve (Schroeder backward integration of the summed channels):
/// a least-squares line through -5..-35 dB, extrapolated to -60 dB.
double rt60(const std::vector<double>& energy) {
  std::vector<double> edc(energy.size());
  double acc = 0;
  for (size_t i = energy.size(); i-- > 0;) {
    acc += energy[i];
    edc[i] = acc;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  size_t n = 0;
  for (size_t i = 0; i < edc.size(); ++i) {
    const double level = 10 * std::log10(edc[i] / edc[0]);
    if (level > -5)
      continue;
    if (level < -35)
      break;
    const double t = static_cast<double>(i) / rate;
    sx += t;
    sy += level;
    sxx += t * t;
    sxy += t * level;
    ++n;
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);  // dB per second
  return -60.0 / slope;
}

std::vector<double> energy(const channels& x) {
  std::vector<double> e(x[0].size());
  for (const auto& ch : x)
    for (size_t i = 0; i < ch.size(); ++i)
      e[i] += static_cast<double>(ch[i]) * ch[i];
  return e;
}

/// RBJ biquad (test-only), to measure the decay in one band.
channels filtered(const channels& x, double hz, bool highpass) {
  const double w = 2 * M_PI * hz / rate, cw = std::cos(w), alpha = std::sin(w) / (2 * M_SQRT1_2);
  const double b1 = highpass ? -(1 + cw) : 1 - cw, b0 = highpass ? (1 + cw) / 2 : (1 - cw) / 2;
  const double a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
  channels y = x;
  for (auto& ch : y) {
    double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
    for (auto& s : ch) {
      const double out = (b0 * s + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2) / a0;
      x2 = x1;
      x1 = s;
      y2 = y1;
      y1 = out;
      s = static_cast<float>(out);
    }
  }
  return y;
}

class reverb_decay : public ::testing::TestWithParam<double> {};

TEST_P(reverb_decay, rt60_of_the_impulse_response_matches_decay) {
  const double decay = GetParam();
  const auto ir = impulse_response(decay, 0, decay * 0.9 + 0.5);
  const double measured = rt60(energy(ir));
  EXPECT_NEAR(measured, decay, decay * 0.10) << "decay " << decay << " s";
}

INSTANTIATE_TEST_SUITE_P(reverb, reverb_decay, ::testing::Values(0.5, 1.0, 2.0, 6.0));

TEST(reverb, default_damping_keeps_the_broadband_rt60_within_25_percent) {
  const auto ir = impulse_response(2, 0.5, 2.5);
  EXPECT_NEAR(rt60(energy(ir)), 2.0, 0.5);
  // Low and mid frequencies decay at exactly `decay`.
  EXPECT_NEAR(rt60(energy(filtered(ir, 1000, false))), 2.0, 0.2);
}

TEST(reverb, damping_shortens_the_high_frequency_decay) {
  for (double damping : {0.0, 0.5, 1.0}) {
    const auto ir = impulse_response(2, damping, 2.5);
    const double low = rt60(energy(filtered(ir, 1000, false)));
    const double high = rt60(energy(filtered(ir, 8000, true)));
    if (damping == 0) {
      EXPECT_NEAR(high / low, 1.0, 0.08);
    } else {
      // At Nyquist the RT60 is decay * (1 - 0.9 damping); at 8..24 kHz somewhat longer.
      EXPECT_LT(high / low, 1.0 - 0.3 * damping) << "damping " << damping;
      EXPECT_GT(high / low, 1.0 - 0.9 * damping) << "damping " << damping;
    }
  }
}

TEST(reverb, mix_zero_is_the_dry_input_exactly) {
  kernel_harness h("audio.reverb", {{"mix", 0}}, {2});
  auto src = [](uint32_t, uint32_t c, uint64_t f) {
    return static_cast<float>(0.5 * std::sin(0.01 * static_cast<double>(f) * (c + 1)));
  };
  h.input(src);
  h.run(9600, 100);
  for (uint32_t c = 0; c < 2; ++c)
    for (uint64_t f = 0; f < 9600; ++f)
      ASSERT_EQ(h.out()[c][f], src(0, c, f)) << "channel " << c << " frame " << f;
}

TEST(reverb, mono_input_feeds_both_dry_channels) {
  kernel_harness h("audio.reverb", {{"mix", 0}}, {1});
  h.input(sine_source(440, 0.5));
  h.run(4800);
  for (uint64_t f = 0; f < 4800; ++f) {
    ASSERT_EQ(h.out()[0][f], sine_source(440, 0.5)(0, 0, f));
    ASSERT_EQ(h.out()[1][f], h.out()[0][f]);
  }
}

TEST(reverb, stereo_outputs_are_decorrelated) {
  const auto ir = impulse_response(2, 0.5, 1.5);
  double ll = 0, rr = 0, lr = 0;
  for (size_t i = 0; i < ir[0].size(); ++i) {
    ll += static_cast<double>(ir[0][i]) * ir[0][i];
    rr += static_cast<double>(ir[1][i]) * ir[1][i];
    lr += static_cast<double>(ir[0][i]) * ir[1][i];
  }
  EXPECT_GT(ll, 0);
  EXPECT_NEAR(db(std::sqrt(ll / rr)), 0, 1.5) << "both sides carry the tail";
  EXPECT_LT(std::fabs(lr) / std::sqrt(ll * rr), 0.2) << "normalised L/R correlation";
}

TEST(reverb, predelay_holds_back_the_wet_signal) {
  for (double ms : {0.0, 50.0, 200.0}) {
    kernel_harness h("audio.reverb", {{"predelay", ms}, {"mix", 1}}, {1});
    h.input(impulse());
    h.run(static_cast<uint64_t>(0.5 * rate));
    size_t onset = 0;
    while (onset < h.out()[0].size() && h.out()[0][onset] == 0 && h.out()[1][onset] == 0)
      ++onset;
    const double onset_ms = onset * 1000 / rate;
    // The shortest network line (31.3 ms x size 0.7) adds its length before the first echo.
    EXPECT_GE(onset_ms, ms + 20) << "predelay " << ms;
    EXPECT_LE(onset_ms, ms + 25) << "predelay " << ms;
  }
}

TEST(reverb, longest_decay_stays_bounded_under_sustained_input) {
  kernel_harness h("audio.reverb", {{"decay", 20}, {"damping", 0}, {"mix", 1}}, {2});
  h.input(sine_source(997, 0.5));
  h.run(static_cast<uint64_t>(10 * rate));
  const double late = peak(range(h.out()[0], static_cast<size_t>(9 * rate)));
  EXPECT_TRUE(std::isfinite(late));
  EXPECT_LT(late, 20.0);
  EXPECT_GT(late, 0.01);
}

TEST(reverb, live_mix_change_glides) {
  kernel_harness h("audio.reverb", {{"mix", 0}}, {1});
  h.input(dc_source(0.5f));
  h.run(4800);
  h.set("mix", 1);
  h.run(4800);
  // A dry/wet switch in one sample would step by up to 0.5; the smoother spreads it.
  EXPECT_LT(max_step(range(h.out()[0], 4799, 4800 + 480)), 0.02);
}

} // namespace
} // namespace sg::test
