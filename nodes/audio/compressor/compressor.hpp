#pragma once

/// audio.compressor — a feed-forward compressor / peak limiter with stereo-linked detection.
///
/// Ports:      in (audio, follows input), out (audio, same width as in)
/// Parameters: threshold  double  -60..0 dBFS         default -18         live (smoothed, ~5 ms)
///             ratio      double  1..100              default 4           live (smoothed)
///             attack     double  0.1..200 ms         default 5           live
///             release    double  1..2000 ms          default 100         live
///             makeup     double  0..24 dB            default 0           live (smoothed, ~5 ms)
///             mode       enum    compressor|limiter  default compressor  live
/// A ratio of 100 is close to limiting.
/// Detection is on the peak level, linked: the largest |sample| over all channels drives one
/// gain for every channel, so the stereo image does not shift. The detector holds peaks
/// instantly and lets them fall with the release time constant; in compressor mode that is
/// then smoothed with the attack time constant. Above the threshold the level rises 1/ratio
/// dB per dB (hard knee): a steady signal `d` dB over the threshold comes out d/ratio dB over.
/// Limiter mode ignores ratio and attack: the gain follows the instant peak hold, so no output
/// sample exceeds threshold + makeup (no lookahead, so the gain falls at once on a transient).
/// Attack and release are time constants (to 63 %). Keeps history (the detector).
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class compressor_kernel final : public kernel {
public:
  enum param : uint32_t { threshold = 0, ratio = 1, attack = 2, release = 3, makeup = 4, mode = 5 };
  enum modes : uint32_t { compressor = 0, limiter = 1 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// One-pole coefficient for a time constant of `ms`.
  double pole(double ms) const noexcept SG_NONBLOCKING;
  /// The gain for detector level `level` (linear) with threshold `thr` (linear).
  double gain_for(double level, double thr, double slope) const noexcept SG_NONBLOCKING;

  param_values initial_;
  double sample_rate_ = 48000;
  modes mode_ = compressor;
  double attack_pole_ = 0;
  double release_pole_ = 0;
  double hold_ = 0;   // instant-attack peak hold, falling with the release
  double env_ = 0;    // hold_ smoothed with the attack (compressor mode)
  smoothed_gain threshold_db_;  // one-pole smoothers for the threshold (dB) ...
  smoothed_gain slope_;         // ... and 1 − 1/ratio, the dB of reduction per dB over it
  smoothed_gain makeup_;
  double threshold_lin_ = 1;
  float threshold_for_lin_ = 1;  // the threshold_db_ value threshold_lin_ was computed for
};

node_info compressor_info();

} // namespace sg
