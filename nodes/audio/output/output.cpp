#include "nodes/audio/output/output.hpp"

#include "nodes/core/describe.hpp"

namespace sg {

void output_kernel::configure(const param_values& values) {
  level_db_ = static_cast<float>(values.numbers[level]);
}

expected<void> output_kernel::prepare(const audio_format& format, const port_layout&) {
  gain_.prepare(format.sample_rate, db_to_gain(level_db_));
  return {};
}

void output_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    gain_.set_target(db_to_gain(value));
}

process_status output_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& dev = ctx.device_out;
  if (dev.count == 0 || in.count == 0)
    return process_status::silent;
  if (gain_.settled()) {  // steady level: one plain loop per channel pair
    gain_.snap();
    const float g = gain_.current();
    const uint32_t sources = in.count == 1 ? dev.count : in.count;
    for (uint32_t c = 0; c < sources; ++c) {
      const float* x = in.channels[in.count == 1 ? 0 : c];
      float* y = dev.channels[c % dev.count];
      for (uint32_t f = 0; f < ctx.frames; ++f)
        y[f] += x[f] * g;
    }
    return process_status::ok;
  }
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    const float g = gain_.next();
    if (in.count == 1) {
      for (uint32_t c = 0; c < dev.count; ++c)
        dev.channels[c][f] += in.channels[0][f] * g;
    } else {
      for (uint32_t c = 0; c < in.count; ++c)
        dev.channels[c % dev.count][f] += in.channels[c][f] * g;
    }
  }
  return process_status::ok;
}

node_info output_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.output";
  info.summary = "Plays its input on the bound audio device";
  info.ports = {input("in", media_kind::audio)};
  info.params = {real("level", -120, 24, 0, "dB", "Output level")};
  info.needs_device = true;
  info.make = [] { return std::make_unique<output_kernel>(); };
  return info;
}

} // namespace sg
