#include "nodes/audio/meter/meter.hpp"

#include <algorithm>
#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

float to_db(double amplitude) noexcept SG_NONBLOCKING {
  return amplitude <= 1e-6 ? -120.0f : static_cast<float>(20.0 * __builtin_log10(amplitude));
}

// Frames between publications; at least one, or process would loop without consuming frames.
uint32_t period_for(double sample_rate, double rate) noexcept SG_NONBLOCKING {
  const double frames = sample_rate / rate;
  return frames < 1.0 ? 1u : static_cast<uint32_t>(frames);
}

} // namespace

void meter_kernel::configure(const param_values& values) {
  rate_ = values.numbers[rate];
}

expected<void> meter_kernel::prepare(const audio_format& format, const port_layout& layout) {
  sample_rate_ = format.sample_rate;
  period_ = period_for(sample_rate_, rate_);
  channels_ = std::min<uint32_t>(layout.in_channels.empty() ? 1 : layout.in_channels[0],
                                 max_channels);
  return {};
}

void meter_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == rate && value > 0) {
    rate_ = value;
    period_ = period_for(sample_rate_, rate_);
  }
}

process_status meter_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const uint32_t nch = std::min(channels_, in.count);
  uint32_t f = 0;
  while (f < ctx.frames) {
    const uint32_t n = std::min(ctx.frames - f, period_ - counted_);
    for (uint32_t c = 0; c < nch; ++c) {
      const float* s = in.channels[c] + f;
      float peak = peak_[c];
      double sum = sum_sq_[c];
      for (uint32_t i = 0; i < n; ++i) {
        const float a = s[i] < 0 ? -s[i] : s[i];
        peak = a > peak ? a : peak;
        sum += static_cast<double>(s[i]) * s[i];
      }
      peak_[c] = peak;
      sum_sq_[c] = sum;
    }
    counted_ += n;
    f += n;
    if (counted_ >= period_)
      publish(ctx);
  }
  return process_status::ok;
}

void meter_kernel::publish(process_context& ctx) noexcept {
  telemetry_record r;
  r.slot = ctx.slot;
  r.kind = telemetry_record::meter;
  r.count = channels_;
  for (uint32_t c = 0; c < channels_; ++c) {
    r.values[c] = to_db(peak_[c]);
    r.values[max_channels + c] = to_db(__builtin_sqrt(sum_sq_[c] / counted_));
    peak_[c] = 0;
    sum_sq_[c] = 0;
  }
  counted_ = 0;
  if (ctx.telemetry)
    ctx.telemetry->push(r);
}

node_info meter_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.meter";
  info.summary = "Peak and RMS meter, published as MeterLevels events";
  info.ports = {input("in", media_kind::audio)};
  info.params = {real("rate", 1, 60, 20, "Hz", "Publications per second")};
  info.make = [] { return std::make_unique<meter_kernel>(); };
  return info;
}

} // namespace sg
