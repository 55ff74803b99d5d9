#include "nodes/audio/delay/delay.hpp"

#include <algorithm>
#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

constexpr double glide_seconds = 0.05;

float clamp_to(double v, double hi) noexcept SG_NONBLOCKING {
  return static_cast<float>(v < 0.0 ? 0.0 : v > hi ? hi : v);
}

} // namespace

void delay_kernel::configure(const param_values& values) {
  initial_ = values;
}

expected<void> delay_kernel::prepare(const audio_format& format, const port_layout& layout) {
  sample_rate_ = format.sample_rate;
  channels_ = layout.out_channels.empty() ? 1 : layout.out_channels[0];
  // Hermite reads up to two frames beyond the delay; one more keeps the write slot apart.
  size_ = static_cast<uint32_t>(std::ceil(max_ms / 1000.0 * sample_rate_)) + 4;
  lines_.assign(static_cast<size_t>(size_) * channels_, 0.0f);
  scratch_.assign(format.max_block, 0.0f);
  write_ = 0;
  glide_coeff_ = 1.0 - std::exp(-1.0 / (glide_seconds * sample_rate_));
  delay_ = target_ = to_frames(initial_.numbers[time]);
  feedback_.prepare(sample_rate_, clamp_to(initial_.numbers[feedback], 0.95));
  mix_.prepare(sample_rate_, clamp_to(initial_.numbers[mix], 1.0));
  return {};
}

double delay_kernel::to_frames(double ms) const noexcept {
  const double d = ms * sample_rate_ / 1000.0;
  const double longest = static_cast<double>(size_) - 4.0;
  return d < 1.0 ? 1.0 : d > longest ? longest : d;
}

void delay_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == time)
    target_ = to_frames(value);
  else if (index == feedback)
    feedback_.set_target(clamp_to(value, 0.95));
  else if (index == mix)
    mix_.set_target(clamp_to(value, 1.0));
}

float delay_kernel::read(const float* line, uint32_t w, double d) const noexcept {
  const auto i = static_cast<uint32_t>(d);
  const auto frac = static_cast<float>(d - i);
  auto at = [&](uint32_t back) {
    const uint32_t k = w + size_ - back;
    return line[k >= size_ ? k - size_ : k];
  };
  const float x0 = at(i), x1 = at(i + 1);
  if (i < 2)  // the newer neighbour would be the frame being written
    return x0 + frac * (x1 - x0);
  const float xm1 = at(i - 1), x2 = at(i + 2);
  const float c1 = 0.5f * (x1 - xm1);
  const float c2 = xm1 - 2.5f * x0 + 2.0f * x1 - 0.5f * x2;
  const float c3 = 0.5f * (x2 - xm1) + 1.5f * (x0 - x1);
  return ((c3 * frac + c2) * frac + c1) * frac + x0;
}

process_status delay_kernel::process(process_context& ctx) noexcept {
  const uint32_t channels = ctx.out[0].count < channels_ ? ctx.out[0].count : channels_;
  // Steady delay, feedback and mix, and every tap older than this block: the read is a fixed
  // 4-tap filter over frames already in the line, so the block can be done channel by channel.
  if (delay_ == target_ && feedback_.settled() && mix_.settled() &&
      static_cast<uint32_t>(delay_) >= ctx.frames + 2 && ctx.frames <= scratch_.size()) {
    feedback_.snap();
    mix_.snap();
    for (uint32_t c = 0; c < channels; ++c)
      steady_channel(ctx, c);
  } else {
    gliding(ctx, channels);
  }
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  for (uint32_t c = channels; c < out.count; ++c)  // wider than prepared: dry
    for (uint32_t f = 0; f < ctx.frames; ++f)
      out.channels[c][f] = in.channels[c < in.count ? c : 0][f];
  write_ = (write_ + ctx.frames) % size_;
  return process_status::ok;
}

void delay_kernel::steady_channel(process_context& ctx, uint32_t c) noexcept {
  const audio_bus& in = ctx.in[0];
  const float* dry = in.channels[c < in.count ? c : 0];
  float* out = ctx.out[0].channels[c];
  float* line = lines_.data() + static_cast<size_t>(c) * size_;
  float* wet = scratch_.data();
  const uint32_t n = ctx.frames;
  const auto i = static_cast<uint32_t>(delay_);
  const auto t = static_cast<float>(delay_ - i);
  // The Hermite interpolation of read() written as weights of x2, x1, x0, x-1 (oldest first).
  const float w2 = 0.5f * t * t * (t - 1.0f);
  const float w1 = t * (0.5f + t * (2.0f - 1.5f * t));
  const float w0 = 1.0f + t * t * (1.5f * t - 2.5f);
  const float wm1 = t * (-0.5f + t * (1.0f - 0.5f * t));
  // The oldest tap of frame 0 is i + 2 frames back; frames f take taps from start + f on.
  const uint32_t start = (write_ + size_ - (i + 2)) % size_;
  if (start + n + 3 <= size_) {
    const float* x = line + start;
    for (uint32_t f = 0; f < n; ++f)
      wet[f] = w2 * x[f] + w1 * x[f + 1] + w0 * x[f + 2] + wm1 * x[f + 3];
  } else {  // the taps wrap around the end of the line in this block
    for (uint32_t f = 0; f < n; ++f) {
      auto at = [&](uint32_t k) { return line[(start + f + k) % size_]; };
      wet[f] = w2 * at(0) + w1 * at(1) + w0 * at(2) + wm1 * at(3);
    }
  }
  const float fb = feedback_.current();
  const float m = mix_.current();
  for (uint32_t f = 0; f < n; ++f) {
    const float fed = dry[f] + fb * wet[f];
    out[f] = dry[f] + m * (wet[f] - dry[f]);
    // Repeats fading into the denormal range would cost CPU for seconds; cut them at −300 dB.
    wet[f] = fed > -1e-15f && fed < 1e-15f ? 0.0f : fed;
  }
  const uint32_t first = size_ - write_ < n ? size_ - write_ : n;  // frames before the wrap
  std::copy_n(wet, first, line + write_);
  std::copy_n(wet + first, n - first, line);
}

void delay_kernel::gliding(process_context& ctx, uint32_t channels) noexcept {
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  uint32_t w = write_;
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    if (delay_ != target_) {
      delay_ += glide_coeff_ * (target_ - delay_);
      if (__builtin_fabs(target_ - delay_) < 1e-6)
        delay_ = target_;
    }
    const float fb = feedback_.next();
    const float m = mix_.next();
    for (uint32_t c = 0; c < channels; ++c) {
      float* line = lines_.data() + static_cast<size_t>(c) * size_;
      const float dry = in.channels[c < in.count ? c : 0][f];
      const float wet = read(line, w, delay_);
      float fed = dry + fb * wet;
      if (fed > -1e-15f && fed < 1e-15f)
        fed = 0.0f;
      line[w] = fed;
      out.channels[c][f] = dry + m * (wet - dry);
    }
    w = w + 1 == size_ ? 0 : w + 1;
  }
}

node_info delay_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.delay";
  info.summary = "Feedback delay (echo) with interpolated, gliding delay time";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio)};
  info.params = {
    real("time", 0, delay_kernel::max_ms, 250, "ms", "Delay time"),
    real("feedback", 0, 0.95, 0.3, "", "Level of each repeat relative to the one before"),
    real("mix", 0, 1, 0.5, "", "0 dry only, 1 delayed signal only"),
  };
  info.keeps_history = true;
  info.make = [] { return std::make_unique<delay_kernel>(); };
  return info;
}

} // namespace sg
