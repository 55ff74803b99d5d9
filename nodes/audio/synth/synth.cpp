#include "nodes/audio/synth/synth.hpp"

#include <cmath>
#include <cstring>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

// How far past its target a decay or release curve aims (-80 dB): the curve is close to
// exponential yet lands on its target in finite, stated time.
constexpr double curve_ratio = 0.0001;
constexpr double two_pi = 6.283185307179586;

/// PolyBLEP residual for a unit step at phase 0 (t and dt in cycles).
float poly_blep(double t, double dt) noexcept SG_NONBLOCKING {
  if (t < dt) {
    t /= dt;
    return static_cast<float>(t + t - t * t - 1.0);
  }
  if (t > 1.0 - dt) {
    t = (t - 1.0) / dt;
    return static_cast<float>(t * t + t + t + 1.0);
  }
  return 0.0f;
}

float oscillator(synth_kernel::shape s, double t, double dt) noexcept SG_NONBLOCKING {
  switch (s) {
    case synth_kernel::shape::sine: return static_cast<float>(__builtin_sin(two_pi * t));
    case synth_kernel::shape::saw: return static_cast<float>(2.0 * t - 1.0) - poly_blep(t, dt);
    case synth_kernel::shape::square: {
      double t2 = t + 0.5;
      t2 -= t2 >= 1.0 ? 1.0 : 0.0;
      return (t < 0.5 ? 1.0f : -1.0f) + poly_blep(t, dt) - poly_blep(t2, dt);
    }
    case synth_kernel::shape::triangle:
      // Its discontinuities are in the slope only: harmonics already fall at 12 dB/octave.
      return static_cast<float>(1.0 - 4.0 * (t < 0.5 ? 0.5 - t : t - 0.5));
  }
  return 0.0f;
}

synth_kernel::shape to_shape(double index) noexcept SG_NONBLOCKING {
  const auto i = static_cast<int>(index + 0.5);
  return i <= 0 ? synth_kernel::shape::sine
         : i == 1 ? synth_kernel::shape::saw
         : i == 2 ? synth_kernel::shape::square
                  : synth_kernel::shape::triangle;
}

double clamp(double x, double lo, double hi) noexcept SG_NONBLOCKING {
  return x < lo ? lo : x > hi ? hi : x;
}

} // namespace

void synth_kernel::configure(const param_values& values) {
  initial_ = values;
  n_voices_ = static_cast<uint32_t>(clamp(std::lround(values.numbers[voices]), 1, max_voices));
}

expected<void> synth_kernel::prepare(const audio_format& format, const port_layout&) {
  sample_rate_ = format.sample_rate;
  for (uint32_t i = waveform; i <= resonance; ++i)
    set_param(i, initial_.numbers[i]);
  level_.prepare(sample_rate_, db_to_gain(initial_.numbers[level]));
  cutoff_now_ = cutoff_target_;
  update_filter(0);
  return {};
}

double synth_kernel::segment_coeff(double ms, double ratio) const noexcept {
  const double samples = ms * sample_rate_ / 1000.0;
  if (samples < 1.0)
    return 0.0;
  return __builtin_exp(-__builtin_log((1.0 + ratio) / ratio) / samples);
}

void synth_kernel::set_time(uint32_t index, double ms) noexcept {
  ms = clamp(ms, 0, 10000);
  if (index == attack) {
    const double samples = ms * sample_rate_ / 1000.0;
    attack_step_ = samples < 1.0 ? 1.0f : static_cast<float>(1.0 / samples);
  } else if (index == decay) {
    decay_ms_ = ms;
    const double c = segment_coeff(ms, curve_ratio);
    decay_coeff_ = static_cast<float>(c);
    decay_base_ = static_cast<float>((sustain_ - curve_ratio) * (1.0 - c));
  } else if (index == release) {
    const double c = segment_coeff(ms, curve_ratio);
    release_coeff_ = static_cast<float>(c);
    release_base_ = static_cast<float>(-curve_ratio * (1.0 - c));
  }
}

void synth_kernel::set_param(uint32_t index, double value) noexcept {
  switch (index) {
    case waveform: shape_ = to_shape(value); break;
    case attack:
    case decay:
    case release: set_time(index, value); break;
    case sustain:
      sustain_ = static_cast<float>(clamp(value, 0, 1));
      set_time(decay, decay_ms_);  // the decay curve aims at the sustain level
      break;
    case level: level_.set_target(db_to_gain(value)); break;
    case cutoff: cutoff_target_ = clamp(value, 20, 20000); break;
    case resonance: {
      const double q = 0.70710678 * __builtin_pow(28.0, clamp(value, 0, 1));  // 0.707..~20
      k_ = static_cast<float>(1.0 / q);
      break;
    }
    default: break;
  }
}

void synth_kernel::update_filter(uint32_t frames) noexcept {
  if (cutoff_now_ != cutoff_target_) {
    // Glide in the log domain with a ~10 ms time constant, one step per render piece.
    const double alpha = 1.0 - __builtin_exp(-static_cast<double>(frames) / (0.01 * sample_rate_));
    cutoff_now_ *= __builtin_pow(cutoff_target_ / cutoff_now_, alpha);
    if (__builtin_fabs(cutoff_now_ - cutoff_target_) < 0.01)
      cutoff_now_ = cutoff_target_;
  }
  const double fc = cutoff_now_ < 0.45 * sample_rate_ ? cutoff_now_ : 0.45 * sample_rate_;
  g_ = static_cast<float>(__builtin_tan(M_PI * fc / sample_rate_));
  a1_ = 1.0f / (1.0f + g_ * (g_ + k_));
  a2_ = g_ * a1_;
  a3_ = g_ * a2_;
}

synth_kernel::voice& synth_kernel::pick_voice(uint8_t note) noexcept {
  voice* quietest_release = nullptr;
  voice* oldest = nullptr;
  for (uint32_t i = 0; i < n_voices_; ++i) {
    voice& v = voice_[i];
    if (v.st != stage::idle && v.note == note)
      return v;
  }
  for (uint32_t i = 0; i < n_voices_; ++i) {
    voice& v = voice_[i];
    if (v.st == stage::idle) {
      v.phase = 0;
      v.env = 0;
      v.ic1 = v.ic2 = 0;
      return v;
    }
    if (v.st == stage::release) {
      if (!quietest_release || v.env < quietest_release->env)
        quietest_release = &v;
    } else if (!oldest || v.age < oldest->age) {
      oldest = &v;
    }
  }
  return quietest_release ? *quietest_release : *oldest;
}

void synth_kernel::note_on(uint8_t note, float velocity) noexcept {
  if (velocity <= 0.0f) {
    note_off(note);
    return;
  }
  voice& v = pick_voice(note);
  v.note = note;
  v.velocity = velocity > 1.0f ? 1.0f : velocity;
  v.inc = 440.0 * __builtin_exp2((static_cast<double>(note) - 69.0) / 12.0) / sample_rate_;
  v.age = next_age_++;
  v.st = stage::attack;
}

void synth_kernel::note_off(uint8_t note) noexcept {
  for (uint32_t i = 0; i < n_voices_; ++i) {
    voice& v = voice_[i];
    if (v.note == note && v.st != stage::idle && v.st != stage::release)
      v.st = stage::release;
  }
}

float synth_kernel::advance_envelope(voice& v) noexcept {
  switch (v.st) {
    case stage::attack:
      v.env += attack_step_;
      if (v.env >= 1.0f) {
        v.env = 1.0f;
        v.st = stage::decay;
      }
      break;
    case stage::decay:
      v.env = decay_base_ + v.env * decay_coeff_;
      if (v.env <= sustain_) {
        v.env = sustain_;
        v.st = stage::sustain;
      }
      break;
    case stage::sustain:
      v.env += 0.002f * (sustain_ - v.env);  // follows live sustain changes without a step
      break;
    case stage::release:
      v.env = release_base_ + v.env * release_coeff_;
      if (v.env <= 0.0f) {
        v.env = 0.0f;
        v.st = stage::idle;
      }
      break;
    case stage::idle: break;
  }
  return v.env;
}

void synth_kernel::render_voice(voice& v, float* out, uint32_t from, uint32_t to) noexcept {
  for (uint32_t f = from; f < to && v.st != stage::idle; ++f) {
    const float x = oscillator(shape_, v.phase, v.inc);
    // Zero-delay-feedback state-variable lowpass (trapezoidal integrators).
    const float v3 = x - v.ic2;
    const float v1 = a1_ * v.ic1 + a2_ * v3;
    const float v2 = v.ic2 + a2_ * v.ic1 + a3_ * v3;
    v.ic1 = 2.0f * v1 - v.ic1;
    v.ic2 = 2.0f * v2 - v.ic2;
    out[f] += v2 * advance_envelope(v) * v.velocity;
    v.phase += v.inc;
    v.phase -= v.phase >= 1.0 ? 1.0 : 0.0;
  }
}

void synth_kernel::render(float* out, uint32_t from, uint32_t to) noexcept {
  if (to <= from)
    return;
  update_filter(to - from);
  for (uint32_t i = 0; i < n_voices_; ++i)
    if (voice_[i].st != stage::idle)
      render_voice(voice_[i], out, from, to);
}

process_status synth_kernel::process(process_context& ctx) noexcept {
  if (ctx.frames == 0)
    return process_status::silent;
  float* out = ctx.out[0].channels[0];
  std::memset(out, 0, ctx.frames * sizeof(float));
  uint32_t pos = 0;
  for (uint32_t e = 0; e < ctx.n_events; ++e) {
    const kernel_event& ev = ctx.events[e];
    const uint32_t at = ev.offset < ctx.frames ? ev.offset : ctx.frames - 1;
    render(out, pos, at);
    pos = at > pos ? at : pos;
    switch (ev.kind) {
      case kernel_event::note_on: note_on(ev.note, ev.velocity); break;
      case kernel_event::note_off: note_off(ev.note); break;
      case kernel_event::stop:
        for (uint32_t i = 0; i < n_voices_; ++i)
          if (voice_[i].st != stage::idle)
            voice_[i].st = stage::release;
        break;
      case kernel_event::trigger: break;
    }
  }
  render(out, pos, ctx.frames);
  bool sounding = false;
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    out[f] *= level_.next();
    sounding = sounding || out[f] != 0.0f;
  }
  return sounding ? process_status::ok : process_status::silent;
}

node_info synth_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.synth";
  info.summary = "Polyphonic subtractive synthesizer played by notes";
  info.ports = {output("out", media_kind::audio, 1)};
  info.params = {
    integer("voices", 1, synth_kernel::max_voices, 8, "", "Polyphony: notes that can sound at once")
      .on_rebuild(),
    choice("waveform", {"sine", "saw", "square", "triangle"}, 1, "Oscillator waveform"),
    real("attack", 0, 10000, 5, "ms", "Envelope attack: linear rise to full level"),
    real("decay", 0, 10000, 100, "ms", "Envelope decay toward the sustain level"),
    real("sustain", 0, 1, 0.7, "", "Envelope level held while a note is on"),
    real("release", 0, 10000, 200, "ms", "Envelope fall to silence after note off"),
    real("level", -120, 0, -12, "dBFS", "Level of one full-velocity voice"),
    real("cutoff", 20, 20000, 8000, "Hz", "Lowpass cutoff of every voice"),
    real("resonance", 0, 1, 0, "", "Lowpass resonance (Q 0.707 to ~20)"),
  };
  info.accepts_events = true;
  info.keeps_history = true;
  info.make = [] { return std::make_unique<synth_kernel>(); };
  return info;
}

} // namespace sg
