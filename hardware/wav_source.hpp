#pragma once

/// The null device's inputs: a WAV (or any libsndfile) file read whole when the device opens,
/// converted to the device's rate, and played into the device's input channels in a loop, so
/// tests and offline renders can feed audio.input without a sound card. Input channel c reads
/// the file's channel c % (the file's channel count).

#include <cstdint>
#include <string>
#include <vector>

#include "nodes/core/expected.hpp"
#include "nodes/core/realtime.hpp"

namespace sg {

class wav_source {
public:
  wav_source(wav_source&&) = default;
  wav_source& operator=(wav_source&&) = default;
  wav_source(const wav_source&) = delete;  // the block pointers point into this one's buffer
  wav_source& operator=(const wav_source&) = delete;

  /// thread: control. Reads `path` for `channels` inputs at `rate`; `max_block` is the largest
  /// block `next` is asked for. Fails with the path and libsndfile's reason.
  static expected<wav_source> open(const std::string& path, uint32_t channels, uint32_t rate,
                                   uint32_t max_block);
  /// Silence on `channels` inputs (a null device with inputs but no file).
  static wav_source silence(uint32_t channels, uint32_t max_block);

  /// thread: realtime. The next `frames` (<= max_block) frames of every input, planar, valid
  /// until the next call.
  const float* const* next(uint32_t frames) noexcept SG_NONBLOCKING;
  uint32_t channels() const { return static_cast<uint32_t>(block_ptrs_.size()); }
  /// Frames of one loop at the device rate (0 for silence).
  uint64_t loop_frames() const { return file_.empty() ? 0 : file_.front().size(); }

private:
  wav_source() = default;

  std::vector<std::vector<float>> file_;  // per file channel, at the device rate
  std::vector<float> block_;              // per input channel, max_block frames each
  std::vector<float*> block_ptrs_;
  uint64_t position_ = 0;  // realtime only
};

} // namespace sg
