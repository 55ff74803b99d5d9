#include "hardware/wav_tap.hpp"

namespace sg {

wav_tap::wav_tap(SNDFILE* file, uint32_t channels, size_t ring_frames, uint32_t max_block,
                 std::chrono::microseconds drain_period)
  : file_(file), channels_(channels), ring_(ring_frames * channels),
    block_(static_cast<size_t>(max_block) * channels), scratch_(ring_frames * channels),
    drain_period_(drain_period) {
  writer_ = std::thread([this] { run(); });
}

wav_tap::~wav_tap() {
  done_.store(true);
  writer_.join();
  drain();
  sf_close(file_);
}

void wav_tap::push(float* const* planar, uint32_t frames) noexcept {
  const size_t n = static_cast<size_t>(frames) * channels_;
  if (n > block_.size() || ring_.write_available() < n) {
    dropped_.fetch_add(frames, std::memory_order_relaxed);
    return;
  }
  float* out = block_.data();
  for (uint32_t f = 0; f < frames; ++f)
    for (uint32_t c = 0; c < channels_; ++c)
      *out++ = planar[c][f];
  // One push publishes the whole block at once.
  ring_.push(block_.data(), n);
}

void wav_tap::run() {
  while (!done_.load()) {
    drain();
    std::this_thread::sleep_for(drain_period_);
  }
}

void wav_tap::drain() {
  // Whole blocks only ever reach the ring, so what is readable is whole frames.
  const size_t n = ring_.pop(scratch_.data(), scratch_.size());
  if (n > 0)
    sf_writef_float(file_, scratch_.data(), static_cast<sf_count_t>(n / channels_));
}

} // namespace sg
