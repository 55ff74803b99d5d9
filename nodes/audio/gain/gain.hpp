#pragma once

/// audio.gain — a smoothed gain stage.
///
/// Ports:      in (audio, follows input), out (audio, same width as in)
/// Parameters: level  double  -120..24 dB  default 0  live (one-pole smoothed, ~5 ms)
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class gain_kernel final : public kernel {
public:
  enum param : uint32_t { level = 0 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  float level_db_ = 0;
  smoothed_gain gain_;
};

node_info gain_info();

} // namespace sg
