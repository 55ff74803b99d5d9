#pragma once

/// Spectral measurements for the node tests (header-only, test code): the amplitude of one
/// frequency (a single DFT bin), and an averaged power spectrum for band energies.

#include <cmath>
#include <complex>
#include <span>
#include <stdexcept>
#include <vector>

namespace sg::test {

/// Amplitude of the component at `hz` in `x` (a sine of amplitude a gives a), by correlating
/// with a complex exponential. Exact without a window when `hz` completes a whole number of
/// cycles over x (every integer hz, for one second at an integer sample rate).
inline double amplitude_at(std::span<const float> x, double hz, double sample_rate) {
  std::complex<double> sum = 0;
  const double w = 2 * M_PI * hz / sample_rate;
  for (size_t n = 0; n < x.size(); ++n)
    sum += static_cast<double>(x[n]) * std::polar(1.0, -w * static_cast<double>(n));
  return 2 * std::abs(sum) / static_cast<double>(x.size());
}

/// In-place radix-2 FFT; the size must be a power of two.
inline void fft(std::vector<std::complex<double>>& a) {
  const size_t n = a.size();
  if (n == 0 || (n & (n - 1)) != 0)
    throw std::invalid_argument("fft size is not a power of two");
  for (size_t i = 1, j = 0; i < n; ++i) {
    size_t bit = n >> 1;
    for (; j & bit; bit >>= 1)
      j ^= bit;
    j ^= bit;
    if (i < j)
      std::swap(a[i], a[j]);
  }
  for (size_t len = 2; len <= n; len <<= 1) {
    const auto w = std::polar(1.0, -2 * M_PI / static_cast<double>(len));
    for (size_t i = 0; i < n; i += len) {
      std::complex<double> wk = 1;
      for (size_t k = 0; k < len / 2; ++k, wk *= w) {
        const auto u = a[i + k], v = a[i + k + len / 2] * wk;
        a[i + k] = u + v;
        a[i + k + len / 2] = u - v;
      }
    }
  }
}

/// Power spectral density estimate (Welch: Hann-windowed segments of `size`, half overlap),
/// bins 0..size/2, each in the same arbitrary unit, so only ratios between bins mean anything.
inline std::vector<double> power_spectrum(std::span<const float> x, size_t size) {
  std::vector<double> psd(size / 2 + 1, 0.0);
  std::vector<double> window(size);
  for (size_t i = 0; i < size; ++i)
    window[i] = 0.5 - 0.5 * std::cos(2 * M_PI * static_cast<double>(i) / static_cast<double>(size));
  std::vector<std::complex<double>> buf(size);
  size_t segments = 0;
  for (size_t start = 0; start + size <= x.size(); start += size / 2, ++segments) {
    for (size_t i = 0; i < size; ++i)
      buf[i] = x[start + i] * window[i];
    fft(buf);
    for (size_t k = 0; k < psd.size(); ++k)
      psd[k] += std::norm(buf[k]);
  }
  for (auto& p : psd)
    p /= static_cast<double>(segments);
  return psd;
}

/// Sum of `psd` (from power_spectrum with `size`) over the bins in [lo, hi) Hz.
inline double band_power(const std::vector<double>& psd, size_t size, double sample_rate,
                         double lo, double hi) {
  double sum = 0;
  for (size_t k = 0; k < psd.size(); ++k) {
    const double hz = static_cast<double>(k) * sample_rate / static_cast<double>(size);
    if (hz >= lo && hz < hi)
      sum += psd[k];
  }
  return sum;
}

} // namespace sg::test
