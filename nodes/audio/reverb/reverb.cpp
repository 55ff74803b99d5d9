#include "nodes/audio/reverb/reverb.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

// Network line lengths at size 1, in ms: spread over 30..80 ms and made prime in samples, so
// that no two lines share a period and the echo density grows quickly.
constexpr double line_ms[reverb_kernel::lines] = {31.3, 37.9, 43.1, 49.7, 56.3, 61.9, 70.1, 79.3};
// Input diffusers (Schroeder allpasses) per channel; slightly different lengths left and right
// decorrelate a mono source before it enters the network.
constexpr double diffuser_ms[2][reverb_kernel::diffusers] = {{4.77, 3.59, 12.73, 9.30},
                                                             {4.91, 3.71, 12.31, 9.67}};
constexpr float diffuser_gain = 0.625f;
// Output taps: two orthogonal sign patterns (Hadamard rows), one per channel.
constexpr float tap_left[reverb_kernel::lines] = {1, -1, 1, -1, 1, -1, 1, -1};
constexpr float tap_right[reverb_kernel::lines] = {1, 1, -1, -1, 1, 1, -1, -1};
// Brings the summed taps of the network to roughly the input's level.
constexpr float wet_gain = 0.25f;
constexpr double max_predelay_ms = 200;

uint32_t next_prime(uint32_t n) {
  auto prime = [](uint32_t x) {
    if (x < 2)
      return false;
    for (uint32_t d = 2; d * d <= x; ++d)
      if (x % d == 0)
        return false;
    return true;
  };
  while (!prime(n))
    ++n;
  return n;
}

uint32_t samples_for(double ms, double scale, double sample_rate) {
  return std::max<uint32_t>(2, static_cast<uint32_t>(std::lround(ms * scale * sample_rate / 1000)));
}

/// Flushes denormals to zero for the scope: a decaying tail otherwise ends in denormal floats,
/// which are slow enough on x86 to blow a realtime deadline.
class no_denormals {
public:
  no_denormals() noexcept SG_NONBLOCKING {
#if defined(__SSE__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040);  // FTZ | DAZ
#endif
  }
  ~no_denormals() noexcept SG_NONBLOCKING {
#if defined(__SSE__)
    _mm_setcsr(saved_);
#endif
  }

private:
  unsigned saved_ = 0;
};

/// In-place 8-point Walsh-Hadamard transform scaled to be orthonormal (lossless mixing).
void hadamard8(float* x) noexcept SG_NONBLOCKING {
  for (uint32_t h = 1; h < 8; h *= 2)
    for (uint32_t i = 0; i < 8; i += 2 * h)
      for (uint32_t j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
  constexpr float norm = 0.35355339059327373f;  // 1/sqrt(8)
  for (uint32_t i = 0; i < 8; ++i)
    x[i] *= norm;
}

} // namespace

void reverb_kernel::delay_line::allocate(uint32_t max_length) {
  uint32_t n = 1;
  while (n < max_length + 1)
    n *= 2;
  buffer.assign(n, 0.0f);
  mask = n - 1;
  write = 0;
}

void reverb_kernel::configure(const param_values& values) {
  initial_ = values;
}

expected<void> reverb_kernel::prepare(const audio_format& format, const port_layout& layout) {
  sample_rate_ = format.sample_rate;
  in_channels_ = layout.in_channels.empty() ? 1 : std::max<uint32_t>(layout.in_channels[0], 1);
  const double size_scale = std::clamp(initial_.numbers[size], 0.1, 1.0);
  for (uint32_t i = 0; i < lines; ++i) {
    line_[i].length = next_prime(samples_for(line_ms[i], size_scale, sample_rate_));
    line_[i].allocate(line_[i].length);
  }
  for (uint32_t c = 0; c < 2; ++c) {
    for (uint32_t i = 0; i < diffusers; ++i) {
      diffuser_[c][i].length = next_prime(samples_for(diffuser_ms[c][i], size_scale, sample_rate_));
      diffuser_[c][i].allocate(diffuser_[c][i].length);
    }
    predelay_[c].allocate(static_cast<uint32_t>(max_predelay_ms * sample_rate_ / 1000) + 2);
  }
  decay_s_ = initial_.numbers[decay];
  damping_ = initial_.numbers[damping];
  update_absorbers();
  predelay_coeff_ = 1.0f - static_cast<float>(std::exp(-1.0 / (0.05 * sample_rate_)));
  set_param(predelay, initial_.numbers[predelay]);
  predelay_now_ = predelay_target_;
  mix_.prepare(sample_rate_, static_cast<float>(std::clamp(initial_.numbers[mix], 0.0, 1.0)));
  return {};
}

void reverb_kernel::update_absorbers() noexcept {
  const double t0 = decay_s_ < 0.1 ? 0.1 : decay_s_;
  const double damp = damping_ < 0 ? 0 : damping_ > 1 ? 1 : damping_;
  const double t_pi = t0 * (1.0 - 0.9 * damp);
  for (uint32_t i = 0; i < lines; ++i) {
    // -60 dB after t seconds: each pass through a line of d samples loses 60 d / (t fs) dB.
    const double d = line_[i].length;
    const double g0 = __builtin_pow(10.0, -3.0 * d / (t0 * sample_rate_));
    const double g_pi = __builtin_pow(10.0, -3.0 * d / (t_pi * sample_rate_));
    const double a1 = (g0 - g_pi) / (g0 + g_pi);
    absorb_[i].a1 = static_cast<float>(a1);
    absorb_[i].b0 = static_cast<float>(g0 * (1.0 - a1));
  }
}

void reverb_kernel::set_param(uint32_t index, double value) noexcept {
  switch (index) {
    case decay:
      decay_s_ = value;
      update_absorbers();
      break;
    case damping:
      damping_ = value;
      update_absorbers();
      break;
    case predelay: {
      const double ms = value < 0 ? 0 : value > max_predelay_ms ? max_predelay_ms : value;
      predelay_target_ = static_cast<float>(ms * sample_rate_ / 1000);
      break;
    }
    case mix: mix_.set_target(static_cast<float>(value < 0 ? 0 : value > 1 ? 1 : value)); break;
    default: break;
  }
}

float reverb_kernel::predelayed(delay_line& d) noexcept {
  // Called after the push: distance 1 is the sample just written, i.e. a delay of 0.
  const float pos = predelay_now_ + 1.0f;
  const auto i = static_cast<uint32_t>(pos);
  const float frac = pos - static_cast<float>(i);
  const float a = d.read(i), b = d.read(i + 1);
  return a + frac * (b - a);
}

process_status reverb_kernel::process(process_context& ctx) noexcept {
  no_denormals guard;
  const audio_bus& in = ctx.in[0];
  const audio_bus& out = ctx.out[0];
  const uint32_t nin = in.count < in_channels_ ? in.count : in_channels_;
  for (uint32_t f = 0; f < ctx.frames; ++f) {
    // Fold the input to stereo: mono feeds both sides, channel c lands on c % 2.
    float dry[2] = {0, 0};
    for (uint32_t c = 0; c < nin; ++c)
      dry[c & 1] += in.channels[c][f];
    if (nin == 1)
      dry[1] = dry[0];

    predelay_now_ += predelay_coeff_ * (predelay_target_ - predelay_now_);
    float inject[2];
    for (uint32_t c = 0; c < 2; ++c) {
      predelay_[c].push(dry[c]);
      float x = predelayed(predelay_[c]);
      for (auto& ap : diffuser_[c]) {
        const float delayed = ap.read(ap.length);
        const float w = x + diffuser_gain * delayed;
        ap.push(w);
        x = delayed - diffuser_gain * w;
      }
      inject[c] = x;
    }

    float y[lines];
    float wet[2] = {0, 0};
    for (uint32_t i = 0; i < lines; ++i) {
      absorber& a = absorb_[i];
      a.state = a.b0 * line_[i].read(line_[i].length) + a.a1 * a.state;
      y[i] = a.state;
      wet[0] += tap_left[i] * y[i];
      wet[1] += tap_right[i] * y[i];
    }
    hadamard8(y);
    // Left feeds the first half of the lines, right the second; the matrix spreads both.
    for (uint32_t i = 0; i < lines; ++i)
      line_[i].push(y[i] + inject[i < lines / 2 ? 0 : 1]);

    const float m = mix_.next();
    out.channels[0][f] = dry[0] * (1.0f - m) + wet[0] * wet_gain * m;
    out.channels[1][f] = dry[1] * (1.0f - m) + wet[1] * wet_gain * m;
  }
  return process_status::ok;
}

node_info reverb_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.reverb";
  info.summary = "Stereo algorithmic reverb (feedback delay network) with RT60 decay control";
  info.ports = {input("in", media_kind::audio), output("out", media_kind::audio, 2)};
  info.params = {
    real("decay", 0.1, 20, 2, "s", "RT60 at low and mid frequencies"),
    real("damping", 0, 1, 0.5, "",
         "High-frequency damping: RT60 at Nyquist is decay * (1 - 0.9 damping)"),
    real("predelay", 0, max_predelay_ms, 10, "ms", "Delay before the reverb"),
    real("mix", 0, 1, 0.3, "", "Dry/wet balance (0 dry, 1 wet)"),
    real("size", 0.1, 1, 0.7, "", "Room size: scales the delay lengths").on_rebuild(),
  };
  info.keeps_history = true;
  info.make = [] { return std::make_unique<reverb_kernel>(); };
  return info;
}

} // namespace sg
