#pragma once

/// audio.output — sends its input to the audio device it is bound to (`device:` in the graph).
///
/// Ports:      in (audio, follows input)
/// Parameters: level     double  -120..24 dB  default 0  live (smoothed)
///             channels  text    device output channels it plays on, 1-based: [1, 2], 3-4
///                               default: all of the device's outputs
///             connect   text    what the device's ports for these channels connect to (JACK:
///                               port names, regular expressions or `physical`, a list)
///                               default physical (the sound card)
/// Channel rules: a mono input feeds every listed channel; otherwise input channel c goes to
/// the listed channel c % count. Several outputs on one device are summed.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class output_kernel final : public kernel {
public:
  enum param : uint32_t { level = 0, channels = 1, connect = 2 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// Plays `in` (mono or as wide as `targets`) into the device channels `targets`.
  void play(const audio_bus& in, const audio_bus& dev, uint32_t frames) noexcept SG_NONBLOCKING;

  std::vector<uint32_t> listed_;   // the `channels` list, 0-based; empty: every device channel
  std::vector<uint32_t> targets_;  // what it plays on, within the device's channels
  float level_db_ = 0;
  smoothed_gain gain_;
};

node_info output_info();

} // namespace sg
