#include "nodes/audio/compressor/compressor.hpp"

#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

double clamp(double v, double lo, double hi) noexcept SG_NONBLOCKING {
  return v < lo ? lo : v > hi ? hi : v;
}

float slope_of(double ratio) noexcept SG_NONBLOCKING {
  return static_cast<float>(1.0 - 1.0 / clamp(ratio, 1.0, 1000.0));
}

compressor_kernel::modes to_mode(double v) noexcept SG_NONBLOCKING {
  return v >= 0.5 ? compressor_kernel::limiter : compressor_kernel::compressor;
}

} // namespace

void compressor_kernel::configure(const param_values& values) {
  initial_ = values;
}

expected<void> compressor_kernel::prepare(const audio_format& format, const port_layout&) {
  sample_rate_ = format.sample_rate;
  mode_ = to_mode(initial_.numbers[mode]);
  attack_pole_ = pole(initial_.numbers[attack]);
  release_pole_ = pole(initial_.numbers[release]);
  hold_ = env_ = 0;
  threshold_db_.prepare(sample_rate_, static_cast<float>(initial_.numbers[threshold]));
  slope_.prepare(sample_rate_, slope_of(initial_.numbers[ratio]));
  makeup_.prepare(sample_rate_, db_to_gain(initial_.numbers[makeup]));
  threshold_for_lin_ = threshold_db_.current();
  threshold_lin_ = std::pow(10.0, threshold_for_lin_ / 20.0);
  return {};
}

double compressor_kernel::pole(double ms) const noexcept {
  return __builtin_exp(-1000.0 / (clamp(ms, 0.01, 10000.0) * sample_rate_));
}

void compressor_kernel::set_param(uint32_t index, double value) noexcept {
  switch (index) {
    case threshold:
      threshold_db_.set_target(static_cast<float>(clamp(value, -120.0, 24.0)));
      break;
    case ratio:
      slope_.set_target(slope_of(value));
      break;
    case attack:
      attack_pole_ = pole(value);
      break;
    case release:
      release_pole_ = pole(value);
      break;
    case makeup:
      makeup_.set_target(db_to_gain(value));
      break;
    case mode:
      mode_ = to_mode(value);
      break;
    default:
      break;
  }
}

double compressor_kernel::gain_for(double level, double thr, double slope) const noexcept {
  if (level <= thr)
    return 1.0;
  // slope dB of reduction per dB over the threshold: (level/thr)^-slope.
  return __builtin_exp(-slope * __builtin_log(level / thr));
}

process_status compressor_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    double level = 0;
    for (uint32_t c = 0; c < in.count; ++c) {
      const double v = __builtin_fabs(in.channels[c][f]);
      level = v > level ? v : level;
    }
    const double fallen = release_pole_ * hold_ + (1.0 - release_pole_) * level;
    hold_ = level > fallen ? level : fallen;
    env_ = attack_pole_ * env_ + (1.0 - attack_pole_) * hold_;
    // A decaying detector would otherwise spend seconds in denormals after the input stops.
    if (hold_ < 1e-30)
      hold_ = 0;
    if (env_ < 1e-30)
      env_ = 0;
    const float thr_db = threshold_db_.next();
    if (thr_db != threshold_for_lin_) {
      threshold_for_lin_ = thr_db;
      threshold_lin_ = __builtin_pow(10.0, thr_db / 20.0);
    }
    const double slope = slope_.next();
    // Limiter: thr/hold puts the held peak, and so every sample under it, on the threshold.
    const double g = mode_ == limiter ? (hold_ > threshold_lin_ ? threshold_lin_ / hold_ : 1.0)
                                      : gain_for(env_, threshold_lin_, slope);
    const auto gain = static_cast<float>(g) * makeup_.next();
    for (uint32_t c = 0; c < out.count; ++c)
      out.channels[c][f] = in.channels[c < in.count ? c : 0][f] * gain;
  }
  return process_status::ok;
}

node_info compressor_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.compressor";
  info.summary = "Compressor / peak limiter with stereo-linked detection";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio)};
  info.params = {
    real("threshold", -60, 0, -18, "dBFS", "Level above which the gain is reduced"),
    real("ratio", 1, 100, 4, "", "Input dB over the threshold per output dB"),
    real("attack", 0.1, 200, 5, "ms", "Time constant of the gain reduction"),
    real("release", 1, 2000, 100, "ms", "Time constant of the recovery"),
    real("makeup", 0, 24, 0, "dB", "Gain after compression"),
    choice("mode", {"compressor", "limiter"}, 0, "limiter: infinite ratio, instant attack"),
  };
  info.keeps_history = true;
  info.make = [] { return std::make_unique<compressor_kernel>(); };
  return info;
}

} // namespace sg
