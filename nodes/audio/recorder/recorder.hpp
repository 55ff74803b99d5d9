#pragma once

/// audio.recorder — records its input to a WAV or FLAC file.
///
/// Ports:      in (audio, follows its source; the file gets as many channels). No output: it
///             is a sink, like audio.meter; fan the source out to keep listening to it.
/// Parameters: file    string                  structural  path of the file (created or
///                                                         truncated when the plan is built)
///             format  enum  wav, flac         default wav      structural
///             bits    enum  16, 24, float     default 24       structural  sample format;
///                     FLAC stores integers only, so `float` with FLAC writes 24-bit
///             buffer  double  0.1..10 s       default 1        structural  ring capacity
///                     between the realtime thread and the writer
/// Data path:  process copies each block, interleaved, into a lock-free single-producer ring;
///             a writer thread drains it with libsndfile every few milliseconds. When a block
///             does not fit (the disk stalled for longer than `buffer`), the whole block is
///             dropped and counted, never waited for, and an error telemetry record is posted:
///               values[0] = 1 (recorder_overflow), values[1] = frames dropped since the last
///               record, values[2] = frames dropped in total; count = 3.
///             Records are posted at most every 100 ms while blocks keep being dropped, and once
///             when a block fits again, so the sum of values[1] is every frame dropped. A write
///             that libsndfile refuses (disk full) is reported the same way with values[0] = 2
///             (recorder_write_failed) and the frames lost.
/// Threads:    configure on a control thread; prepare (control) opens the file (failing with
///             the path and libsndfile's reason if it cannot) and starts the writer thread;
///             the destructor (control) stops it, writes what is left and closes the file.
///             process runs on the realtime thread and never blocks.

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>
#include <sndfile.h>

#include "nodes/core/kernel.hpp"

namespace sg {

class recorder_kernel final : public kernel {
public:
  enum param : uint32_t { file = 0, format = 1, bits = 2, buffer = 3 };
  /// values[0] of the error telemetry records this kernel posts.
  static constexpr float recorder_overflow = error_frames_dropped;
  static constexpr float recorder_write_failed = error_write_failed;

  ~recorder_kernel() override;
  void configure(const param_values& values) override;
  expected<void> prepare(const audio_format& format, const port_layout& layout) override;
  void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING override;
  process_status process(process_context& ctx) noexcept SG_NONBLOCKING override;

private:
  /// Creates the file for `channels_` channels at `sample_rate`.
  expected<void> open(double sample_rate);
  void stop_writer();
  void writer_loop();
  /// thread: writer (or control once the writer is gone). Writes what the ring holds.
  size_t drain();
  void report(process_context& ctx, bool dropping) noexcept SG_NONBLOCKING;
  static bool post(process_context& ctx, float code, uint64_t since, uint64_t total) noexcept
    SG_NONBLOCKING;

  std::string path_;
  uint32_t format_ = 0, bits_ = 1;
  double buffer_s_ = 1;
  uint32_t channels_ = 1;
  SNDFILE* sndfile_ = nullptr;
  std::unique_ptr<boost::lockfree::spsc_queue<float>> ring_;
  std::vector<float> interleaved_;  // realtime: one block, interleaved
  std::vector<float> scratch_;      // writer: what one drain pops
  std::thread writer_;
  std::atomic<bool> stop_{false};
  std::chrono::milliseconds period_{10};
  // Realtime-side overflow bookkeeping.
  uint64_t dropped_total_ = 0;
  uint64_t dropped_pending_ = 0;  // not yet reported
  uint64_t frames_since_post_ = 0;
  uint64_t post_interval_ = 4800;
  std::atomic<uint64_t> write_failed_{0};  // frames libsndfile did not take (writer thread)
  uint64_t write_failed_reported_ = 0;
};

node_info recorder_info();

} // namespace sg
