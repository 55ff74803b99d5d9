#pragma once

/// The null device's recorder: the realtime thread hands each rendered block over, a writer
/// thread appends it to a WAV file. Frames that do not fit the ring are counted, never waited
/// for.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>
#include <sndfile.h>

#include "nodes/core/realtime.hpp"

namespace sg {

class wav_tap {
public:
  /// Takes `file` (closed by the destructor, after everything pushed is written). `ring_frames`
  /// is how far the writer may fall behind; `max_block` the largest block `push` gets.
  wav_tap(SNDFILE* file, uint32_t channels, size_t ring_frames, uint32_t max_block,
          std::chrono::microseconds drain_period = std::chrono::milliseconds(20));
  ~wav_tap();
  wav_tap(const wav_tap&) = delete;
  wav_tap& operator=(const wav_tap&) = delete;

  /// thread: realtime. Interleaves one block and hands it over whole: the writer never sees
  /// part of a frame. A block that does not fit is dropped and counted.
  void push(float* const* planar, uint32_t frames) noexcept SG_NONBLOCKING;

  /// Frames dropped because the writer fell `ring_frames` behind.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  void run();
  void drain();

  SNDFILE* file_;
  uint32_t channels_;
  boost::lockfree::spsc_queue<float> ring_;
  std::vector<float> block_;    // realtime thread: the block being interleaved
  std::vector<float> scratch_;  // writer thread
  std::chrono::microseconds drain_period_;
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> dropped_{0};
  std::thread writer_;
};

} // namespace sg
