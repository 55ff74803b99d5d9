#pragma once

/// audio.sine — a sine oscillator.
///
/// Ports:      out (audio, 1 channel)
/// Parameters: frequency  double  1..20000 Hz   default 440   live (phase-continuous)
///             level      double  -120..0 dBFS  default -12   live (smoothed)
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class sine_kernel final : public kernel {
public:
  enum param : uint32_t { frequency = 0, level = 1 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  double frequency_ = 440;
  double sample_rate_ = 48000;
  double phase_ = 0;  // cycles, in [0, 1)
  float level_db_ = -12;
  smoothed_gain gain_;
};

node_info sine_info();

} // namespace sg
