#pragma once

/// audio.reverb — an algorithmic stereo reverb: a feedback delay network (8 lines, Hadamard
/// feedback matrix) fed through predelay and allpass diffusers, with frequency-dependent decay.
///
/// Ports:      in (audio, follows its source: mono or stereo; wider inputs fold channel c onto
///             c % 2), out (audio, 2 channels)
/// Parameters: decay     double  0.1..20 s     default 2    live  RT60 at low and mid frequencies
///             damping   double  0..1          default 0.5  live  how much faster highs die: the
///                                                                RT60 at Nyquist is decay * (1 - 0.9 damping)
///             predelay  double  0..200 ms     default 10   live  delay before the wet signal (glides,
///                                                                no clicks)
///             mix       double  0..1          default 0.3  live  dry/wet crossfade (smoothed); 0 is
///                                                                the dry input exactly
///             size      double  0.1..1        default 0.7  structural: scales the delay lengths
///                                                          (room size, echo density)
/// A mono input feeds both dry channels; the two wet channels are taken from the network with
/// orthogonal tap signs, so they are decorrelated.
/// Threads:    configure/prepare on a control thread; set_param/process on the realtime thread.

#include <array>
#include <vector>

#include "nodes/core/kernel.hpp"

namespace sg {

class reverb_kernel final : public kernel {
public:
  static constexpr uint32_t lines = 8;
  static constexpr uint32_t diffusers = 4;
  enum param : uint32_t { decay = 0, damping = 1, predelay = 2, mix = 3, size = 4 };

  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// A circular buffer of at least `length` samples with a power-of-two mask.
  struct delay_line {
    std::vector<float> buffer;
    uint32_t mask = 0;
    uint32_t write = 0;
    uint32_t length = 0;  // fixed read distance, for the network lines and diffusers
    void allocate(uint32_t max_length);
    float read(uint32_t distance) const noexcept SG_NONBLOCKING {
      return buffer[(write - distance) & mask];
    }
    void push(float x) noexcept SG_NONBLOCKING {
      buffer[write & mask] = x;
      ++write;
    }
  };
  /// One-pole absorption filter of a network line: gain g0 at DC, g_pi at Nyquist.
  struct absorber {
    float b0 = 1, a1 = 0, state = 0;
  };

  void update_absorbers() noexcept SG_NONBLOCKING;
  float predelayed(delay_line& d) noexcept SG_NONBLOCKING;

  param_values initial_;
  double sample_rate_ = 48000;
  double decay_s_ = 2;
  double damping_ = 0.5;
  float predelay_now_ = 0, predelay_target_ = 0;  // in samples
  float predelay_coeff_ = 0;
  uint32_t in_channels_ = 1;
  smoothed_gain mix_;
  std::array<delay_line, 2> predelay_;
  std::array<std::array<delay_line, diffusers>, 2> diffuser_;
  std::array<delay_line, lines> line_;
  std::array<absorber, lines> absorb_;
};

node_info reverb_info();

} // namespace sg
