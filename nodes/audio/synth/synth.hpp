#pragma once

/// audio.synth — a polyphonic subtractive synthesizer played by notes (kernel_event).
///
/// Ports:      out (audio, 1 channel)
/// Parameters: voices     int     1..32          default 8     structural (polyphony)
///             waveform   enum    sine, saw, square, triangle  default saw  live
///                                (saw and square band-limited with PolyBLEP)
///             attack     double  0..10000 ms    default 5     live  linear rise to full level
///             decay      double  0..10000 ms    default 100   live  exponential fall; the time
///                                                                   a fall from 1 to 0 would take
///             sustain    double  0..1           default 0.7   live  level held while the note is on
///             release    double  0..10000 ms    default 200   live  exponential fall to silence;
///                                                                   reaches 0 within this time
///             level      double  -120..0 dBFS   default -12   live  (smoothed) output level of one
///                                                                   full-velocity voice at sustain 1
///             cutoff     double  20..20000 Hz   default 8000  live  per-voice state-variable
///                                                                   lowpass (glides ~10 ms)
///             resonance  double  0..1           default 0     live  lowpass Q from 0.707 to ~20
/// Events:     note_on starts a note at its sample offset with amplitude = velocity (a velocity
///             of 0 is a note_off); note_off releases it; stop releases every note; triggers are
///             ignored. The block is rendered in pieces split at event offsets, so every event is
///             sample-accurate.
/// Voices:     a note already sounding (even in release) retriggers its own voice. Otherwise a
///             free voice is used; when none is free, the quietest voice in release is stolen,
///             else the oldest note. A retriggered or stolen voice keeps its phase and its
///             envelope attacks from the level it had, so neither clicks.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <array>

#include "nodes/core/kernel.hpp"

namespace sg {

class synth_kernel final : public kernel {
public:
  static constexpr uint32_t max_voices = 32;
  enum param : uint32_t {
    voices = 0, waveform = 1, attack = 2, decay = 3, sustain = 4, release = 5, level = 6,
    cutoff = 7, resonance = 8
  };
  enum class shape : uint8_t { sine, saw, square, triangle };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  enum class stage : uint8_t { idle, attack, decay, sustain, release };
  struct voice {
    stage st = stage::idle;
    uint8_t note = 0;
    float velocity = 0;
    float env = 0;
    double phase = 0;  // 0..1
    double inc = 0;    // cycles per sample
    uint64_t age = 0;  // note_on counter when it started: smaller is older
    float ic1 = 0, ic2 = 0;  // lowpass integrator states
  };

  void note_on(uint8_t note, float velocity) noexcept SG_NONBLOCKING;
  void note_off(uint8_t note) noexcept SG_NONBLOCKING;
  voice& pick_voice(uint8_t note) noexcept SG_NONBLOCKING;
  void render(float* out, uint32_t from, uint32_t to) noexcept SG_NONBLOCKING;
  void render_voice(voice& v, float* out, uint32_t from, uint32_t to) noexcept SG_NONBLOCKING;
  float advance_envelope(voice& v) noexcept SG_NONBLOCKING;
  void update_filter(uint32_t frames) noexcept SG_NONBLOCKING;
  double segment_coeff(double ms, double ratio) const noexcept SG_NONBLOCKING;
  void set_time(uint32_t index, double ms) noexcept SG_NONBLOCKING;

  param_values initial_;
  double sample_rate_ = 48000;
  uint32_t n_voices_ = 8;
  shape shape_ = shape::saw;
  std::array<voice, max_voices> voice_{};
  uint64_t next_age_ = 0;
  smoothed_gain level_;
  // Envelope: linear attack step; decay and release are one-pole curves aimed past their
  // target (by `ratio`) so that they arrive in the stated time.
  float attack_step_ = 1;
  float decay_coeff_ = 0, decay_base_ = 0;
  float release_coeff_ = 0, release_base_ = 0;
  float sustain_ = 0.7f;
  double decay_ms_ = 100;
  // Lowpass: cutoff glides toward its target once per render piece.
  double cutoff_now_ = 8000, cutoff_target_ = 8000;
  float g_ = 0, k_ = 1.414f;  // SVF coefficients (tan(pi fc / fs), 1/Q)
  float a1_ = 0, a2_ = 0, a3_ = 0;
};

node_info synth_info();

} // namespace sg
