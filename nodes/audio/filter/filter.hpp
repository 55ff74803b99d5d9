#pragma once

/// audio.filter — a second-order (biquad) filter from the RBJ Audio EQ Cookbook, per channel.
///
/// Ports:      in (audio, follows input), out (audio, same width as in)
/// Parameters: mode       enum    lowpass|highpass|bandpass|notch|lowshelf|highshelf|peak
///                                default lowpass   live (10 ms crossfade between the modes)
///             frequency  double  20..20000 Hz   default 1000   live (glides, ~10 ms)
///             q          double  0.1..20        default 0.707  live (glides, ~10 ms)
///             gain       double  -24..24 dB     default 0      live (glides; shelves and peak)
/// Frequency is the cutoff (−3 dB at q = 0.707) of the pass filters, the center of bandpass
/// (0 dB peak), notch and peak, and the midpoint (half the gain) of the shelves; q is the
/// cookbook's Q for every mode, shelves included (0.707 gives the steepest monotonic shelf).
/// Frequencies above 0.49 × the sample rate are clamped there. Parameter glides move frequency
/// and q on a log scale and recompute the coefficients every 16 frames, so sweeps do not zip.
/// Keeps history (the filter state).
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class filter_kernel final : public kernel {
public:
  enum param : uint32_t { mode = 0, frequency = 1, q = 2, gain = 3 };
  enum modes : uint32_t { lowpass, highpass, bandpass, notch, lowshelf, highshelf, peak };
  /// Frames between coefficient updates while a parameter glides.
  static constexpr uint32_t control_frames = 16;

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// Normalized biquad coefficients (a0 = 1).
  struct coeffs {
    double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  };
  /// Transposed direct form II state of one channel.
  struct state {
    double s1 = 0, s2 = 0;
  };
  /// The smoothed parameters: log2 of the frequency, ln q, gain in dB.
  struct shape {
    double log_hz = 0, log_q = 0, gain_db = 0;
  };

  coeffs design(modes m, const shape& s) const noexcept SG_NONBLOCKING;
  /// One control step of the parameter glide, and the coefficients for it.
  void glide() noexcept SG_NONBLOCKING;
  /// Filters `n` frames of every channel from frame `first`.
  void run(const process_context& ctx, uint32_t first, uint32_t n) noexcept SG_NONBLOCKING;

  param_values initial_;
  double sample_rate_ = 48000;
  modes mode_ = lowpass;
  shape target_, current_;
  double glide_coeff_ = 1;  // one-pole step per control_frames
  bool settled_ = true;
  coeffs c_;
  std::vector<state> state_;
  // The filter of the previous mode, faded out after a mode change.
  coeffs fading_c_;
  std::vector<state> fading_state_;
  uint32_t fade_left_ = 0;
  uint32_t fade_frames_ = 480;
};

node_info filter_info();

} // namespace sg
