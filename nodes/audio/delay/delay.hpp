#pragma once

/// audio.delay — a feedback delay (echo), per channel.
///
/// Ports:      in (audio, follows input), out (audio, same width as in)
/// Parameters: time      double  0..2000 ms  default 250  live (glides, ~50 ms time constant)
///             feedback  double  0..0.95     default 0.3  live (smoothed, ~5 ms)
///             mix       double  0..1        default 0.5  live (smoothed, ~5 ms)
/// out = (1 − mix)·in + mix·wet, wet being the delay line read `time` ago; the line is fed
/// in + feedback·wet, so each repeat is `feedback` times the one before. The shortest delay is
/// one frame (time 0 gives one frame). The read position is interpolated (4-point Hermite;
/// linear below two frames), so a change of `time` glides like tape and bends the pitch of
/// the repeats rather than clicking. The two-second line per channel is allocated in prepare.
/// Keeps history (the delay line).
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class delay_kernel final : public kernel {
public:
  enum param : uint32_t { time = 0, feedback = 1, mix = 2 };
  static constexpr double max_ms = 2000;

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// `ms` as a delay in frames, within the line.
  double to_frames(double ms) const noexcept SG_NONBLOCKING;
  /// Channel `line` read `d` frames before write position `w`.
  float read(const float* line, uint32_t w, double d) const noexcept SG_NONBLOCKING;
  /// One channel's block with delay, feedback and mix steady and every tap older than the
  /// block (vectorisable; the same interpolation as read()).
  void steady_channel(process_context& ctx, uint32_t c) noexcept SG_NONBLOCKING;
  /// The block frame by frame: gliding values, or a delay shorter than the block.
  void gliding(process_context& ctx, uint32_t channels) noexcept SG_NONBLOCKING;

  param_values initial_;
  double sample_rate_ = 48000;
  std::vector<float> lines_;  // channels_ lines of size_ frames, one after the other
  std::vector<float> scratch_;  // one block of the wet signal (steady path)
  uint32_t size_ = 0;
  uint32_t channels_ = 0;
  uint32_t write_ = 0;
  double delay_ = 1;         // frames, gliding towards target_
  double target_ = 1;
  double glide_coeff_ = 1;   // per frame
  smoothed_gain feedback_;
  smoothed_gain mix_;
};

node_info delay_info();

} // namespace sg
