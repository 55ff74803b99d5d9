#include "nodes/audio/input/input.hpp"

#include <cstring>

#include "nodes/core/channel_list.hpp"
#include "nodes/core/describe.hpp"

namespace sg {

namespace {

/// Channels a valid `channels` value lists (1 for anything else: the loader refuses it first).
uint32_t listed_channels(const param_values& values) {
  const auto& text = values.strings.size() > input_kernel::channels
                       ? values.strings[input_kernel::channels]
                       : std::string();
  auto list = parse_channel_list(text);
  return list ? static_cast<uint32_t>(list->size()) : 1;
}

} // namespace

void input_kernel::configure(const param_values& values) {
  auto list = parse_channel_list(values.strings[channels]);
  sources_ = list ? *list : std::vector<uint32_t>{0};
  level_db_ = static_cast<float>(values.numbers[level]);
}

expected<void> input_kernel::prepare(const audio_format& format, const port_layout&) {
  gain_.prepare(format.sample_rate, db_to_gain(level_db_));
  return {};
}

void input_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    gain_.set_target(db_to_gain(value));
}

process_status input_kernel::process(process_context& ctx) noexcept {
  const audio_bus& out = ctx.out[0];
  const audio_bus& dev = ctx.device_in;
  const bool steady = gain_.settled();
  if (steady)
    gain_.snap();
  bool any = false;
  for (uint32_t c = 0; c < out.count; ++c) {
    float* y = out.channels[c];
    const uint32_t src = c < sources_.size() ? sources_[c] : 0;
    if (src >= dev.count) {
      std::memset(y, 0, ctx.frames * sizeof(float));
      continue;
    }
    any = true;
    const float* x = dev.channels[src];
    if (steady) {
      const float g = gain_.current();
      for (uint32_t f = 0; f < ctx.frames; ++f)
        y[f] = x[f] * g;
      continue;
    }
    smoothed_gain g = gain_;  // every channel follows the same ramp
    for (uint32_t f = 0; f < ctx.frames; ++f)
      y[f] = x[f] * g.next();
  }
  if (!steady)
    for (uint32_t f = 0; f < ctx.frames; ++f)
      gain_.next();
  return any ? process_status::ok : process_status::silent;
}

node_info input_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.input";
  info.summary = "Brings channels the bound audio device captures into the graph";
  port_info out = output("out", media_kind::audio);
  out.channels_of = listed_channels;
  info.ports = {std::move(out)};
  info.params = {
    channel_list("channels", "1", "Device input channels, 1-based: [1, 2], 1-2 or 3"),
    text_list("connect", "physical", "\n",
              "What these channels' device ports connect to: JACK port names, regular "
              "expressions, 'physical' (the sound card); an empty list connects nothing"),
    real("level", -120, 24, 0, "dB", "Input level"),
  };
  info.needs_device = true;
  info.device_channels_param = "channels";
  info.device_inputs = true;
  info.connect_param = "connect";
  info.make = [] { return std::make_unique<input_kernel>(); };
  return info;
}

} // namespace sg
