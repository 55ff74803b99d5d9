#pragma once

/// audio.noise — white or pink noise.
///
/// Ports:      out (audio, 1 channel)
/// Parameters: color  enum    white|pink         default white  live
///             level  double  -120..0 dBFS       default -18    live (smoothed, ~5 ms)
///             seed   int     0..2147483647      default 0      structural (0: a fresh seed
///                                                              per node instance)
/// Level is the RMS level (so -18 dBFS is the usual alignment level). Peaks run higher: white
/// noise is uniform, its peak 4.8 dB above the RMS; pink noise peaks around 12 dB above it.
/// White is flat; pink falls 3 dB per octave (equal energy per octave) within ±0.2 dB from
/// 20 Hz to 20 kHz, flattening below about 5 Hz so its power stays finite. It is white noise
/// through a cascade of one-pole/one-zero sections spaced an octave apart (poles from 5 Hz to
/// a quarter of the sample rate), designed for the sample rate at prepare. A non-zero seed
/// gives the same sequence on every run.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <array>

#include "nodes/core/kernel.hpp"

namespace sg {

class noise_kernel final : public kernel {
public:
  enum param : uint32_t { color = 0, level = 1, seed = 2 };
  enum colors : uint32_t { white = 0, pink = 1 };
  static constexpr uint32_t max_sections = 16;

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// One pole/zero pair: y = x − zero·x[n−1] + pole·y[n−1].
  struct section {
    double pole = 0, zero = 0;
    double x1 = 0, y1 = 0;
  };

  /// Uniform white noise with an RMS of 1 (xorshift64*).
  double white_sample() noexcept SG_NONBLOCKING;
  /// The pink filter: the sections, then a one-zero tilt that trims the top octave.
  double pink_filter(double x) noexcept SG_NONBLOCKING;

  colors color_ = white;
  float level_db_ = -18;
  uint64_t state_ = 0;
  std::array<section, max_sections> sections_{};
  uint32_t n_sections_ = 0;
  double tilt_x1_ = 0;
  double pink_scale_ = 1;  // makes the pink output's RMS 1
  smoothed_gain gain_;
};

node_info noise_info();

} // namespace sg
