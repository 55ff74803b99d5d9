#pragma once

/// audio.pan — places a mono source in the stereo field, or balances a stereo one.
///
/// Ports:      in (audio, follows input), out (audio, 2 channels: left, right)
/// Parameters: pan  double  -1..1  default 0  live (smoothed, ~5 ms)  -1 left, 0 center, 1 right
/// Mono input: equal-power law, left = cos θ and right = sin θ with θ = (pan + 1)·π/4, so the
/// center is −3.01 dB on each side and left² + right² = 1 everywhere.
/// Stereo input: balance. The side pan moves towards keeps unity gain, the other is attenuated
/// by cos(|pan|·π/2): −3 dB at |pan| = 0.5, silent at ±1. Inputs wider than stereo are folded
/// first (channel c to side c % 2).
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class pan_kernel final : public kernel {
public:
  enum param : uint32_t { pan = 0 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// Sets the left and right gain targets for `position` under the law of the input width.
  void aim(double position) noexcept SG_NONBLOCKING;

  double pan_ = 0;
  bool mono_ = true;
  smoothed_gain left_, right_;
};

node_info pan_info();

} // namespace sg
