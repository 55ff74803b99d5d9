#include "nodes/audio/filter/filter.hpp"

#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

constexpr double glide_seconds = 0.01;

filter_kernel::modes to_mode(double v) noexcept SG_NONBLOCKING {
  const auto i = static_cast<int>(v + 0.5);
  return static_cast<filter_kernel::modes>(i < 0 ? 0 : i > 6 ? 6 : i);
}

double clamp(double v, double lo, double hi) noexcept SG_NONBLOCKING {
  return v < lo ? lo : v > hi ? hi : v;
}

/// State this small is inaudible; zeroing it keeps a decaying filter out of denormals.
double flush(double v) noexcept SG_NONBLOCKING {
  return v > -1e-30 && v < 1e-30 ? 0.0 : v;
}

} // namespace

void filter_kernel::configure(const param_values& values) {
  initial_ = values;
}

expected<void> filter_kernel::prepare(const audio_format& format, const port_layout& layout) {
  sample_rate_ = format.sample_rate;
  const uint32_t channels = layout.out_channels.empty() ? 1 : layout.out_channels[0];
  state_.assign(channels, state{});
  fading_state_.assign(channels, state{});
  fade_frames_ = static_cast<uint32_t>(0.01 * sample_rate_) + 1;
  glide_coeff_ = 1.0 - std::exp(-static_cast<double>(control_frames) /
                                (glide_seconds * sample_rate_));
  mode_ = to_mode(initial_.numbers[mode]);
  for (uint32_t p : {frequency, q, gain})
    set_param(p, initial_.numbers[p]);
  current_ = target_;
  settled_ = true;
  c_ = design(mode_, current_);
  return {};
}

void filter_kernel::set_param(uint32_t index, double value) noexcept {
  switch (index) {
    case mode:
      if (to_mode(value) != mode_) {
        // Let the old filter ring out under a crossfade; the new one starts from its state.
        fading_c_ = c_;
        for (size_t c = 0; c < state_.size(); ++c)
          fading_state_[c] = state_[c];
        fade_left_ = fade_frames_;
        mode_ = to_mode(value);
        c_ = design(mode_, current_);
      }
      break;
    case frequency:
      target_.log_hz = __builtin_log2(clamp(value, 1.0, 0.49 * sample_rate_));
      settled_ = false;
      break;
    case q:
      target_.log_q = __builtin_log(clamp(value, 0.01, 100.0));
      settled_ = false;
      break;
    case gain:
      target_.gain_db = clamp(value, -60.0, 60.0);
      settled_ = false;
      break;
    default:
      break;
  }
}

filter_kernel::coeffs filter_kernel::design(modes m, const shape& s) const noexcept {
  const double w0 = 2.0 * M_PI * __builtin_exp2(s.log_hz) / sample_rate_;
  const double cw = __builtin_cos(w0);
  const double alpha = __builtin_sin(w0) / (2.0 * __builtin_exp(s.log_q));
  const double a = __builtin_pow(10.0, s.gain_db / 40.0);
  const double sa = 2.0 * __builtin_sqrt(a) * alpha;
  double b0 = 1, b1 = 0, b2 = 0, a0 = 1, a1 = 0, a2 = 0;
  switch (m) {
    case lowpass:
      b0 = b2 = (1.0 - cw) / 2.0;
      b1 = 1.0 - cw;
      a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
      break;
    case highpass:
      b0 = b2 = (1.0 + cw) / 2.0;
      b1 = -(1.0 + cw);
      a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
      break;
    case bandpass:
      b0 = alpha, b1 = 0.0, b2 = -alpha;
      a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
      break;
    case notch:
      b0 = b2 = 1.0;
      b1 = -2.0 * cw;
      a0 = 1.0 + alpha, a1 = -2.0 * cw, a2 = 1.0 - alpha;
      break;
    case peak:
      b0 = 1.0 + alpha * a, b1 = -2.0 * cw, b2 = 1.0 - alpha * a;
      a0 = 1.0 + alpha / a, a1 = -2.0 * cw, a2 = 1.0 - alpha / a;
      break;
    case lowshelf:
      b0 = a * ((a + 1.0) - (a - 1.0) * cw + sa);
      b1 = 2.0 * a * ((a - 1.0) - (a + 1.0) * cw);
      b2 = a * ((a + 1.0) - (a - 1.0) * cw - sa);
      a0 = (a + 1.0) + (a - 1.0) * cw + sa;
      a1 = -2.0 * ((a - 1.0) + (a + 1.0) * cw);
      a2 = (a + 1.0) + (a - 1.0) * cw - sa;
      break;
    case highshelf:
      b0 = a * ((a + 1.0) + (a - 1.0) * cw + sa);
      b1 = -2.0 * a * ((a - 1.0) + (a + 1.0) * cw);
      b2 = a * ((a + 1.0) + (a - 1.0) * cw - sa);
      a0 = (a + 1.0) - (a - 1.0) * cw + sa;
      a1 = 2.0 * ((a - 1.0) - (a + 1.0) * cw);
      a2 = (a + 1.0) - (a - 1.0) * cw - sa;
      break;
  }
  return {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

void filter_kernel::glide() noexcept {
  auto step = [this](double& cur, double target, double tolerance) {
    cur += glide_coeff_ * (target - cur);
    if (__builtin_fabs(target - cur) < tolerance)
      cur = target;
    return cur == target;
  };
  // Tolerances: 0.0001 octave, 0.01 % of q, 0.001 dB — all far below audibility.
  const bool f = step(current_.log_hz, target_.log_hz, 1e-4);
  const bool qq = step(current_.log_q, target_.log_q, 1e-4);
  const bool g = step(current_.gain_db, target_.gain_db, 1e-3);
  settled_ = f && qq && g;
  c_ = design(mode_, current_);
}

void filter_kernel::run(const process_context& ctx, uint32_t first, uint32_t n) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  const auto prepared = static_cast<uint32_t>(state_.size());
  const uint32_t channels = out.count < prepared ? out.count : prepared;
  const coeffs k = c_;
  const coeffs o = fading_c_;
  const bool fading = fade_left_ != 0;
  for (uint32_t c = 0; c < channels; ++c) {
    const float* x = in.channels[c < in.count ? c : 0] + first;
    float* y = out.channels[c] + first;
    state s = state_[c];
    state fs = fading_state_[c];
    for (uint32_t i = 0; !fading && i < n; ++i) {  // the common case: no crossfade
      const double v = x[i];
      const double w = k.b0 * v + s.s1;
      s.s1 = k.b1 * v - k.a1 * w + s.s2;
      s.s2 = k.b2 * v - k.a2 * w;
      y[i] = static_cast<float>(w);
    }
    for (uint32_t i = 0; fading && i < n; ++i) {
      const double v = x[i];
      double w = k.b0 * v + s.s1;
      s.s1 = k.b1 * v - k.a1 * w + s.s2;
      s.s2 = k.b2 * v - k.a2 * w;
      if (fade_left_ > i) {
        const double old = o.b0 * v + fs.s1;
        fs.s1 = o.b1 * v - o.a1 * old + fs.s2;
        fs.s2 = o.b2 * v - o.a2 * old;
        const double t = static_cast<double>(fade_left_ - i) / fade_frames_;
        w += t * (old - w);
      }
      y[i] = static_cast<float>(w);
    }
    state_[c] = {flush(s.s1), flush(s.s2)};
    fading_state_[c] = {flush(fs.s1), flush(fs.s2)};
  }
  for (uint32_t c = channels; c < out.count; ++c)  // wider than prepared: pass through
    for (uint32_t i = 0; i < n; ++i)
      out.channels[c][first + i] = in.channels[c < in.count ? c : 0][first + i];
  fade_left_ = fade_left_ > n ? fade_left_ - n : 0;
}

process_status filter_kernel::process(process_context& ctx) noexcept {
  if (settled_) {  // fixed coefficients: the whole block at once
    run(ctx, 0, ctx.frames);
    return process_status::ok;
  }
  for (uint32_t first = 0; first < ctx.frames; first += control_frames) {
    if (!settled_)
      glide();
    const uint32_t left = ctx.frames - first;
    run(ctx, first, left < control_frames ? left : control_frames);
  }
  return process_status::ok;
}

node_info filter_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.filter";
  info.summary = "Biquad filter (RBJ cookbook): pass, notch, shelf and peak modes";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio)};
  info.params = {
    choice("mode", {"lowpass", "highpass", "bandpass", "notch", "lowshelf", "highshelf", "peak"},
           0, "Filter type"),
    real("frequency", 20, 20000, 1000, "Hz", "Cutoff, center or shelf midpoint"),
    real("q", 0.1, 20, 0.707, "", "Resonance / bandwidth (cookbook Q)"),
    real("gain", -24, 24, 0, "dB", "Boost or cut of the shelf and peak modes"),
  };
  info.keeps_history = true;
  info.make = [] { return std::make_unique<filter_kernel>(); };
  return info;
}

} // namespace sg
