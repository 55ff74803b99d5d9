#include "nodes/audio/pan/pan.hpp"

#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

void pan_kernel::configure(const param_values& values) {
  pan_ = values.numbers[pan];
}

expected<void> pan_kernel::prepare(const audio_format& format, const port_layout& layout) {
  mono_ = layout.in_channels.empty() || layout.in_channels[0] <= 1;
  left_.prepare(format.sample_rate, 1.0f);
  right_.prepare(format.sample_rate, 1.0f);
  aim(pan_);
  left_.snap();
  right_.snap();
  return {};
}

void pan_kernel::aim(double position) noexcept {
  const double p = position < -1.0 ? -1.0 : position > 1.0 ? 1.0 : position;
  if (mono_) {
    const double theta = (p + 1.0) * M_PI / 4.0;
    left_.set_target(static_cast<float>(__builtin_cos(theta)));
    right_.set_target(static_cast<float>(__builtin_sin(theta)));
    return;
  }
  const auto faded = static_cast<float>(__builtin_cos(__builtin_fabs(p) * M_PI / 2.0));
  left_.set_target(p > 0.0 ? faded : 1.0f);
  right_.set_target(p < 0.0 ? faded : 1.0f);
}

void pan_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == pan)
    aim(value);
}

process_status pan_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  float* l = ctx.out[0].channels[0];
  float* r = ctx.out[0].channels[1];
  if (in.count <= 2 && left_.settled() && right_.settled()) {  // steady gains: two plain loops
    left_.snap();
    right_.snap();
    const float gl = left_.current(), gr = right_.current();
    const float* il = in.channels[0];
    const float* ir = in.count > 1 ? in.channels[1] : il;
    for (uint32_t f = 0; f < ctx.frames; ++f)
      l[f] = il[f] * gl;
    for (uint32_t f = 0; f < ctx.frames; ++f)
      r[f] = ir[f] * gr;
    return process_status::ok;
  }
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    float sl = in.channels[0][f];
    float sr = in.count > 1 ? in.channels[1][f] : sl;
    for (uint32_t c = 2; c < in.count; ++c)
      (c % 2 == 0 ? sl : sr) += in.channels[c][f];
    l[f] = sl * left_.next();
    r[f] = sr * right_.next();
  }
  return process_status::ok;
}

node_info pan_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.pan";
  info.summary = "Equal-power panner (mono in) or balance (stereo in), stereo out";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio, 2)};
  info.params = {real("pan", -1, 1, 0, "", "-1 left, 0 center, 1 right")};
  info.make = [] { return std::make_unique<pan_kernel>(); };
  return info;
}

} // namespace sg
