#include "nodes/audio/mixer/mixer.hpp"

#include <cstring>

#include "nodes/core/describe.hpp"

namespace sg {

void mixer_kernel::configure(const param_values& values) {
  initial_ = values;
}

expected<void> mixer_kernel::prepare(const audio_format& format, const port_layout&) {
  master_.prepare(format.sample_rate, db_to_gain(initial_.numbers[level]));
  for (uint32_t i = 0; i < per_input_levels; ++i)
    input_gain_[i].prepare(format.sample_rate, db_to_gain(initial_.numbers[level1 + i]));
  return {};
}

void mixer_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    master_.set_target(db_to_gain(value));
  else if (index >= level1 && index < level1 + per_input_levels)
    input_gain_[index - level1].set_target(db_to_gain(value));
}

process_status mixer_kernel::process(process_context& ctx) noexcept {
  const audio_bus& out = ctx.out[0];
  for (uint32_t c = 0; c < out.count; ++c)
    std::memset(out.channels[c], 0, ctx.frames * sizeof(float));
  for (uint32_t i = 0; i < ctx.n_in; ++i) {
    const audio_bus& in = ctx.in[i];
    smoothed_gain* g = i < per_input_levels ? &input_gain_[i] : nullptr;
    if (!g || g->settled()) {  // a steady level: one plain loop per channel
      if (g)
        g->snap();
      const float gain = g ? g->current() : 1.0f;
      for (uint32_t c = 0; c < out.count; ++c) {
        const float* src = in.channels[in.count == 1 ? 0 : c % in.count];
        float* dst = out.channels[c];
        for (uint32_t f = 0; f < ctx.frames; ++f)
          dst[f] += src[f] * gain;
      }
      continue;
    }
    for (uint32_t f = 0; f < ctx.frames; ++f) {
      const float gain = g ? g->next() : 1.0f;
      for (uint32_t c = 0; c < out.count; ++c) {
        const float* src = in.channels[in.count == 1 ? 0 : c % in.count];
        out.channels[c][f] += src[f] * gain;
      }
    }
  }
  if (master_.settled()) {
    master_.snap();
    const float gain = master_.current();
    for (uint32_t c = 0; c < out.count; ++c)
      for (uint32_t f = 0; f < ctx.frames; ++f)
        out.channels[c][f] *= gain;
    return process_status::ok;
  }
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    const float gain = master_.next();
    for (uint32_t c = 0; c < out.count; ++c)
      out.channels[c][f] *= gain;
  }
  return process_status::ok;
}

node_info mixer_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.mixer";
  info.summary = "Sums N inputs with per-input and master levels";
  info.ports = {input("in", media_kind::audio, 0, "inputs"), output("out", media_kind::audio)};
  info.params = {
    integer("inputs", 1, mixer_kernel::per_input_levels, 2, "", "Number of inputs (in1..inN)")
      .on_rebuild(),
    real("level", -120, 24, 0, "dB", "Master level"),
  };
  for (uint32_t i = 1; i <= mixer_kernel::per_input_levels; ++i)
    info.params.push_back(
      real("level" + std::to_string(i), -120, 24, 0, "dB", "Level of input " + std::to_string(i)));
  info.make = [] { return std::make_unique<mixer_kernel>(); };
  return info;
}

} // namespace sg
