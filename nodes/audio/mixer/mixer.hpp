#pragma once

/// audio.mixer — sums N inputs, each with its own level, through a master level.
///
/// Ports:      in1..inN (audio, follow their sources), out (audio, widest input)
/// Parameters: inputs     int     1..16        default 2   structural (sets N)
///             level      double  -120..24 dB  default 0   live (smoothed master)
///             level1..16 double  -120..24 dB  default 0   live (smoothed, one per input)
/// Narrower inputs are up-mixed to the output width with the plan's rules (mono feeds every
/// channel). Threads: configure/prepare on a control thread; set_param/process realtime.

#include <array>

#include "nodes/core/kernel.hpp"

namespace sg {

class mixer_kernel final : public kernel {
public:
  static constexpr uint32_t per_input_levels = 16;
  enum param : uint32_t { inputs = 0, level = 1, level1 = 2 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  param_values initial_;
  smoothed_gain master_;
  std::array<smoothed_gain, per_input_levels> input_gain_;
};

node_info mixer_info();

} // namespace sg
