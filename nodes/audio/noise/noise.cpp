#include "nodes/audio/noise/noise.hpp"

#include <cmath>
#include <random>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

constexpr double lowest_pole_hz = 5;
/// The one-zero tilt 1 + a·z⁻¹ that brings the top octave back onto the −3 dB/octave line
/// (the matched-z sections overshoot near Nyquist); fitted at 44.1, 48 and 96 kHz.
constexpr double tilt = 0.13;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

} // namespace

void noise_kernel::configure(const param_values& values) {
  color_ = values.numbers[color] >= 0.5 ? pink : white;
  level_db_ = static_cast<float>(values.numbers[level]);
  auto s = static_cast<uint64_t>(values.numbers[seed]);
  if (s == 0)
    s = (static_cast<uint64_t>(std::random_device{}()) << 32) | std::random_device{}();
  state_ = splitmix64(s);
  if (state_ == 0)  // xorshift's one forbidden state
    state_ = 1;
}

expected<void> noise_kernel::prepare(const audio_format& format, const port_layout&) {
  const double fs = format.sample_rate;
  n_sections_ = 0;
  // Poles an octave apart, each zero half an octave above its pole: the response alternates
  // −6 dB/octave and flat every half octave, −3 dB/octave on average.
  for (double hz = lowest_pole_hz; hz <= fs / 4 && n_sections_ < max_sections; hz *= 2) {
    section& s = sections_[n_sections_++];
    s = {};
    s.pole = std::exp(-2 * M_PI * hz / fs);
    s.zero = std::exp(-2 * M_PI * hz * M_SQRT2 / fs);
  }
  // Unit-RMS white in, unit-RMS pink out: the filter's power gain is the energy of its
  // impulse response, summed here over 12 time constants of the lowest pole.
  const auto n = static_cast<size_t>(12 * fs / (2 * M_PI * lowest_pole_hz));
  double energy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double h = pink_filter(i == 0 ? 1.0 : 0.0);
    energy += h * h;
  }
  pink_scale_ = 1.0 / std::sqrt(energy);
  for (uint32_t i = 0; i < n_sections_; ++i)
    sections_[i].x1 = sections_[i].y1 = 0;
  tilt_x1_ = 0;
  gain_.prepare(fs, db_to_gain(level_db_));
  return {};
}

void noise_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == color)
    color_ = value >= 0.5 ? pink : white;
  else if (index == level)
    gain_.set_target(db_to_gain(value));
}

double noise_kernel::white_sample() noexcept {
  state_ ^= state_ >> 12;
  state_ ^= state_ << 25;
  state_ ^= state_ >> 27;
  const uint64_t r = state_ * 0x2545f4914f6cdd1dull;
  // The top 53 bits as a uniform value in [-1, 1), times √3 for an RMS of 1.
  const double u = static_cast<double>(r >> 11) * 0x1.0p-52 - 1.0;
  return u * 1.7320508075688772;
}

double noise_kernel::pink_filter(double x) noexcept {
  for (uint32_t i = 0; i < n_sections_; ++i) {
    section& s = sections_[i];
    const double y = x - s.zero * s.x1 + s.pole * s.y1;
    s.x1 = x;
    s.y1 = y;
    x = y;
  }
  const double y = x + tilt * tilt_x1_;
  tilt_x1_ = x;
  return y;
}

process_status noise_kernel::process(process_context& ctx) noexcept {
  float* out = ctx.out[0].channels[0];
  // The pink filter runs in either color so that switching to pink starts without a settling
  // transient.
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    const double w = white_sample();
    const double p = pink_filter(w) * pink_scale_;
    out[f] = gain_.next() * static_cast<float>(color_ == pink ? p : w);
  }
  return process_status::ok;
}

node_info noise_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.noise";
  info.summary = "White or pink noise";
  info.ports = {output("out", media_kind::audio, 1)};
  info.params = {
    choice("color", {"white", "pink"}, 0, "white: flat; pink: -3 dB per octave"),
    real("level", -120, 0, -18, "dBFS", "RMS level (-120 is silence)"),
    integer("seed", 0, 2147483647, 0, "", "Random sequence (0: a fresh one per node instance)")
      .on_rebuild(),
  };
  info.make = [] { return std::make_unique<noise_kernel>(); };
  return info;
}

} // namespace sg
