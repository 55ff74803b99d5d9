#include "nodes/audio/output/output.hpp"

#include "nodes/core/channel_list.hpp"
#include "nodes/core/describe.hpp"

namespace sg {

void output_kernel::configure(const param_values& values) {
  level_db_ = static_cast<float>(values.numbers[level]);
  auto list = parse_channel_list(values.strings[channels]);
  listed_ = list ? *list : std::vector<uint32_t>{};
}

expected<void> output_kernel::prepare(const audio_format& format, const port_layout& layout) {
  gain_.prepare(format.sample_rate, db_to_gain(level_db_));
  targets_.clear();
  if (listed_.empty())
    for (uint32_t c = 0; c < layout.device_channels; ++c)
      targets_.push_back(c);
  for (uint32_t c : listed_)
    if (c < layout.device_channels)
      targets_.push_back(c);
  return {};
}

void output_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    gain_.set_target(db_to_gain(value));
}

void output_kernel::play(const audio_bus& in, const audio_bus& dev, uint32_t frames) noexcept {
  const uint32_t n = static_cast<uint32_t>(targets_.size());
  const uint32_t sources = in.count == 1 ? n : in.count;
  if (gain_.settled()) {  // steady level: one plain loop per channel pair
    gain_.snap();
    const float g = gain_.current();
    for (uint32_t c = 0; c < sources; ++c) {
      const float* x = in.channels[in.count == 1 ? 0 : c];
      float* y = dev.channels[targets_[c % n]];
      for (uint32_t f = 0; f < frames; ++f)
        y[f] += x[f] * g;
    }
    return;
  }
  for (uint32_t f = 0; f < frames; ++f) {
    const float g = gain_.next();
    for (uint32_t c = 0; c < sources; ++c)
      dev.channels[targets_[c % n]][f] += in.channels[in.count == 1 ? 0 : c][f] * g;
  }
}

process_status output_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& dev = ctx.device_out;
  if (dev.count == 0 || in.count == 0 || targets_.empty())
    return process_status::silent;
  play(in, dev, ctx.frames);
  return process_status::ok;
}

node_info output_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.output";
  info.summary = "Plays its input on the bound audio device";
  info.ports = {input("in", media_kind::audio)};
  info.params = {
    real("level", -120, 24, 0, "dB", "Output level"),
    channel_list("channels", "",
                 "Device output channels it plays on, 1-based: [1, 2] or 3-4 (default: all)"),
    text_list("connect", "physical", "\n",
              "What these channels' device ports connect to: JACK port names, regular "
              "expressions, 'physical' (the sound card); an empty list connects nothing"),
  };
  info.needs_device = true;
  info.device_channels_param = "channels";
  info.device_inputs = false;
  info.connect_param = "connect";
  info.make = [] { return std::make_unique<output_kernel>(); };
  return info;
}

} // namespace sg
