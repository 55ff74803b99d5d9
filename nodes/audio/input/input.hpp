#pragma once

/// audio.input — brings channels the audio device it is bound to captures into the graph, in
/// the same block the device plays (the device's input buffers are read directly: no queue, no
/// added latency).
///
/// Ports:      out (audio, one channel per listed device channel)
/// Parameters: channels  text  device input channels, 1-based: [1, 2], 1-2, 3   default 1
///             connect   text  what the device's ports for these channels connect to (JACK:
///                             port names, regular expressions or `physical`, a list; see
///                             docs/GRAPH_FORMAT.md)                      default physical
///             level     double  -120..24 dB  default 0  live (smoothed)
/// A channel the device does not capture (a null device without an input file) reads silence.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class input_kernel final : public kernel {
public:
  enum param : uint32_t { channels = 0, connect = 1, level = 2 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  std::vector<uint32_t> sources_;  // device input channel per output channel, 0-based
  float level_db_ = 0;
  smoothed_gain gain_;
};

node_info input_info();

} // namespace sg
