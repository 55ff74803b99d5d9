#include "nodes/audio/gain/gain.hpp"

#include "nodes/core/describe.hpp"

namespace sg {

void gain_kernel::configure(const param_values& values) {
  level_db_ = static_cast<float>(values.numbers[level]);
}

expected<void> gain_kernel::prepare(const audio_format& format, const port_layout&) {
  gain_.prepare(format.sample_rate, db_to_gain(level_db_));
  return {};
}

void gain_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    gain_.set_target(db_to_gain(value));
}

process_status gain_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  if (gain_.settled()) {
    const float g = gain_.target();
    for (uint32_t c = 0; c < out.count; ++c)
      for (uint32_t f = 0; f < ctx.frames; ++f)
        out.channels[c][f] = in.channels[c][f] * g;
    return process_status::ok;
  }
  // Gliding: one gain value per frame, shared by every channel.
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    const float g = gain_.next();
    for (uint32_t c = 0; c < out.count; ++c)
      out.channels[c][f] = in.channels[c][f] * g;
  }
  return process_status::ok;
}

node_info gain_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.gain";
  info.summary = "Gain stage with click-free level changes";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio)};
  info.params = {real("level", -120, 24, 0, "dB", "Gain (-120 is silence)")};
  info.make = [] { return std::make_unique<gain_kernel>(); };
  return info;
}

} // namespace sg
