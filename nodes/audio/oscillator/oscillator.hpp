#pragma once

/// audio.osc — a band-limited oscillator: sine, saw, square (pulse) and triangle.
///
/// Ports:      out (audio, 1 channel)
/// Parameters: waveform     enum    sine|saw|square|triangle  default sine  live (5 ms crossfade)
///             frequency    double  1..20000 Hz               default 440   live (phase-continuous)
///             level        double  -120..0 dBFS              default -12   live (smoothed, ~5 ms)
///             pulse_width  double  0.05..0.95                default 0.5   live (smoothed; square)
/// Level is the peak of the naive waveform, so every waveform spans ±level. Saw and square are
/// corrected with PolyBLEP at their jumps and the triangle with PolyBLAMP at its corners, which
/// removes most of the aliasing a naive waveform folds back below Nyquist. Frequencies are
/// limited to 0.49 × the sample rate. A square with pulse_width ≠ 0.5 keeps its DC offset of
/// (2·pulse_width − 1)·level, as a pulse wave does. The triangle is in phase with the sine.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include "nodes/core/kernel.hpp"

namespace sg {

class oscillator_kernel final : public kernel {
public:
  enum param : uint32_t { waveform = 0, frequency = 1, level = 2, pulse_width = 3 };
  enum wave : uint32_t { sine = 0, saw = 1, square = 2, triangle = 3 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// The band-limited waveform `w` at phase `p`, for pulse width `pw`.
  double shape(wave w, double p, double pw) const noexcept SG_NONBLOCKING;
  /// A block of waveform `W` with level and pulse width steady.
  template <wave W>
  void steady(float* out, uint32_t frames) noexcept SG_NONBLOCKING;
  void set_frequency(double hz) noexcept SG_NONBLOCKING;

  wave wave_ = sine;
  wave fading_wave_ = sine;  // the waveform being faded out after a change
  uint32_t fade_left_ = 0;   // frames of the crossfade still to render
  uint32_t fade_frames_ = 240;
  double frequency_ = 440;
  double sample_rate_ = 48000;
  double phase_ = 0;  // cycles, in [0, 1)
  double inc_ = 0;    // cycles per frame
  float level_db_ = -12;
  float pulse_width_ = 0.5f;
  smoothed_gain gain_;
  smoothed_gain width_;  // a one-pole smoother, here for the pulse width
};

node_info oscillator_info();

} // namespace sg
