#include "nodes/audio/sine/sine.hpp"

#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

void sine_kernel::configure(const param_values& values) {
  frequency_ = values.numbers[frequency];
  level_db_ = static_cast<float>(values.numbers[level]);
}

expected<void> sine_kernel::prepare(const audio_format& format, const port_layout&) {
  sample_rate_ = format.sample_rate;
  gain_.prepare(sample_rate_, db_to_gain(level_db_));
  return {};
}

void sine_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == frequency)
    frequency_ = value;
  else if (index == level)
    gain_.set_target(db_to_gain(value));
}

process_status sine_kernel::process(process_context& ctx) noexcept {
  float* out = ctx.out[0].channels[0];
  const double inc = frequency_ / sample_rate_;
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    out[f] = gain_.next() * static_cast<float>(__builtin_sin(2.0 * M_PI * phase_));
    phase_ += inc;
    phase_ -= __builtin_floor(phase_);
  }
  return process_status::ok;
}

node_info sine_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.sine";
  info.summary = "Sine oscillator";
  info.ports = {output("out", media_kind::audio, 1)};
  info.params = {
    real("frequency", 1, 20000, 440, "Hz", "Oscillator frequency"),
    real("level", -120, 0, -12, "dBFS", "Output level (-120 is silence)"),
  };
  info.make = [] { return std::make_unique<sine_kernel>(); };
  return info;
}

} // namespace sg
