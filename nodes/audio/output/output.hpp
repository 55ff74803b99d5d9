#pragma once

/// audio.output — sends its input to the audio device it is bound to (`device:` in the graph).
///
/// Ports:      in (audio, follows input)
/// Parameters: level  double  -120..24 dB  default 0  live (smoothed)
/// Channel rules: a mono input feeds every device channel; otherwise input channel c goes to
/// device channel c % device_channels. Several outputs on one device are summed.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class output_kernel final : public kernel {
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

node_info output_info();

} // namespace sg
