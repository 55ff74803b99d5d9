#pragma once

/// audio.meter — peak and RMS levels per channel.
///
/// Ports:      in (audio, follows input; up to 8 channels are metered)
/// Parameters: rate  double  1..60 Hz  default 20  live (how often levels are published)
/// Output:     a telemetry record (peak dBFS then RMS dBFS per channel) every 1/rate seconds,
///             which the device actor publishes as a MeterLevels event.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <array>

#include "nodes/core/kernel.hpp"

namespace sg {

class meter_kernel final : public kernel {
public:
  static constexpr uint32_t max_channels = telemetry_record::max_values / 2;
  enum param : uint32_t { rate = 0 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  void publish(process_context& ctx) noexcept SG_NONBLOCKING;

  double rate_ = 20;
  double sample_rate_ = 48000;
  uint32_t period_ = 2400;  // frames between publications
  uint32_t counted_ = 0;
  uint32_t channels_ = 0;
  std::array<float, max_channels> peak_{};
  std::array<double, max_channels> sum_sq_{};
};

node_info meter_info();

} // namespace sg
