#include "nodes/audio/oscillator/oscillator.hpp"

#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

/// PolyBLEP residual of a rising step of 2 (−1 to +1) at t = 0; `t` is the phase since the
/// step and `dt` the phase increment per frame. Two frames wide: one either side of the jump.
double blep(double t, double dt) noexcept SG_NONBLOCKING {
  if (t < dt) {
    t /= dt;
    return t + t - t * t - 1.0;
  }
  if (t > 1.0 - dt) {
    t = (t - 1.0) / dt;
    return t * t + t + t + 1.0;
  }
  return 0.0;
}

/// PolyBLAMP residual of a slope increase of 1 per frame at t = 0: the integral of the
/// PolyBLEP residual, (1 ± x)³/6 on the two frames around the corner.
double blamp(double t, double dt) noexcept SG_NONBLOCKING {
  if (t < dt) {
    const double x = 1.0 - t / dt;
    return x * x * x / 6.0;
  }
  if (t > 1.0 - dt) {
    const double x = (t - 1.0) / dt + 1.0;
    return x * x * x / 6.0;
  }
  return 0.0;
}

double wrap(double phase) noexcept SG_NONBLOCKING {
  return phase >= 1.0 ? phase - 1.0 : phase;
}

oscillator_kernel::wave to_wave(double v) noexcept SG_NONBLOCKING {
  const auto i = static_cast<int>(v + 0.5);
  return static_cast<oscillator_kernel::wave>(i < 0 ? 0 : i > 3 ? 3 : i);
}

} // namespace

void oscillator_kernel::configure(const param_values& values) {
  wave_ = fading_wave_ = to_wave(values.numbers[waveform]);
  frequency_ = values.numbers[frequency];
  level_db_ = static_cast<float>(values.numbers[level]);
  pulse_width_ = static_cast<float>(values.numbers[pulse_width]);
}

expected<void> oscillator_kernel::prepare(const audio_format& format, const port_layout&) {
  sample_rate_ = format.sample_rate;
  fade_frames_ = static_cast<uint32_t>(0.005 * sample_rate_) + 1;
  set_frequency(frequency_);
  gain_.prepare(sample_rate_, db_to_gain(level_db_));
  width_.prepare(sample_rate_, pulse_width_);
  return {};
}

void oscillator_kernel::set_frequency(double hz) noexcept {
  frequency_ = hz;
  // PolyBLEP needs fewer than two frames per half cycle; above 0.49 fs it would also alias.
  const double inc = hz / sample_rate_;
  inc_ = inc < 0.0 ? 0.0 : inc > 0.49 ? 0.49 : inc;
}

void oscillator_kernel::set_param(uint32_t index, double value) noexcept {
  switch (index) {
    case waveform:
      if (to_wave(value) != wave_) {
        fading_wave_ = wave_;
        wave_ = to_wave(value);
        fade_left_ = fade_frames_;
      }
      break;
    case frequency:
      set_frequency(value);
      break;
    case level:
      gain_.set_target(db_to_gain(value));
      break;
    case pulse_width:
      width_.set_target(static_cast<float>(value < 0.05 ? 0.05 : value > 0.95 ? 0.95 : value));
      break;
    default:
      break;
  }
}

inline double oscillator_kernel::shape(wave w, double p, double pw) const noexcept {
  const double dt = inc_;
  switch (w) {
    case sine:
      return __builtin_sin(2.0 * M_PI * p);
    case saw:
      return 2.0 * p - 1.0 - blep(p, dt);
    case square:
      return (p < pw ? 1.0 : -1.0) + blep(p, dt) - blep(wrap(p - pw + 1.0), dt);
    case triangle: {
      // Corners at 0.25 (slope +4 to −4 per cycle) and 0.75 (−4 to +4), in phase with sine.
      const double naive = p < 0.25 ? 4.0 * p : p < 0.75 ? 2.0 - 4.0 * p : 4.0 * p - 4.0;
      return naive + 8.0 * dt * (blamp(wrap(p + 0.25), dt) - blamp(wrap(p + 0.75), dt));
    }
  }
  return 0.0;
}

template <oscillator_kernel::wave W>
void oscillator_kernel::steady(float* out, uint32_t frames) noexcept {
  const float g = gain_.current();
  const double pw = width_.current();
  const double inc = inc_;
  double p = phase_;
  for (uint32_t f = 0; f < frames; ++f) {
    out[f] = g * static_cast<float>(shape(W, p, pw));
    p = wrap(p + inc);
  }
  phase_ = p;
}

process_status oscillator_kernel::process(process_context& ctx) noexcept {
  float* out = ctx.out[0].channels[0];
  if (fade_left_ == 0 && gain_.settled() && width_.settled()) {
    // Nothing gliding: one loop per waveform with the level and width fixed.
    gain_.snap();
    width_.snap();
    switch (wave_) {
      case sine: steady<sine>(out, ctx.frames); break;
      case saw: steady<saw>(out, ctx.frames); break;
      case square: steady<square>(out, ctx.frames); break;
      case triangle: steady<triangle>(out, ctx.frames); break;
    }
    return process_status::ok;
  }
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    const double pw = width_.next();
    double y = shape(wave_, phase_, pw);
    if (fade_left_ > 0) {
      const double t = static_cast<double>(fade_left_--) / fade_frames_;
      y += t * (shape(fading_wave_, phase_, pw) - y);
    }
    out[f] = gain_.next() * static_cast<float>(y);
    phase_ = wrap(phase_ + inc_);
  }
  return process_status::ok;
}

node_info oscillator_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.osc";
  info.summary = "Band-limited oscillator: sine, saw, square, triangle";
  info.ports = {output("out", media_kind::audio, 1)};
  info.params = {
    choice("waveform", {"sine", "saw", "square", "triangle"}, 0, "Waveform"),
    real("frequency", 1, 20000, 440, "Hz", "Oscillator frequency"),
    real("level", -120, 0, -12, "dBFS", "Peak level (-120 is silence)"),
    real("pulse_width", 0.05, 0.95, 0.5, "", "Fraction of the cycle a square is high"),
  };
  info.make = [] { return std::make_unique<oscillator_kernel>(); };
  return info;
}

} // namespace sg
