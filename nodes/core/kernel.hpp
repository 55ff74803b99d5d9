#pragma once

#include <cstdint>
#include <span>

#include <boost/lockfree/spsc_queue.hpp>

#include "nodes/core/expected.hpp"
#include "nodes/core/node_info.hpp"
#include "nodes/core/realtime.hpp"

namespace sg {

/// Planar audio: `count` channel pointers, each `frames` long for the current block.
struct audio_bus {
  float* const* channels = nullptr;
  uint32_t count = 0;
};

struct audio_format {
  double sample_rate = 48000;
  uint32_t max_block = 128;
};

/// A small record a kernel posts from the realtime thread (meter levels, errors); the device
/// actor drains them on a control thread and turns them into events. Error records carry
/// values[0] = code (error_frames_dropped, error_write_failed), values[1] = frames affected since
/// the previous record and values[2] = frames affected in total.
struct telemetry_record {
  enum kind_t : uint8_t { meter = 1, error = 2 };
  static constexpr uint32_t max_values = 16;
  uint32_t slot = 0;
  kind_t kind = meter;
  uint32_t count = 0;
  float values[max_values] = {};
};

inline constexpr float error_frames_dropped = 1;
inline constexpr float error_write_failed = 2;

using telemetry_queue =
  boost::lockfree::spsc_queue<telemetry_record, boost::lockfree::capacity<1024>>;

/// A note or trigger for one kernel, delivered with the block it falls in.
struct kernel_event {
  enum kind_t : uint8_t { note_on = 1, note_off = 2, trigger = 3, stop = 4 };
  kind_t kind = trigger;
  uint32_t offset = 0;  // frame inside the block (< frames), events sorted by offset
  uint8_t note = 0;     // MIDI note number (note_on / note_off)
  float velocity = 0;   // 0..1 (note_on; trigger: 0 means full level)
};

/// What `process` sees for one block.
struct process_context {
  uint32_t frames = 0;
  const audio_bus* in = nullptr;  // one per resolved input port, in declaration order
  uint32_t n_in = 0;
  audio_bus* out = nullptr;       // one per resolved output port
  uint32_t n_out = 0;
  audio_bus device_in;            // the device's captured channels (audio.input reads them)
  audio_bus device_out;           // the device's output channels (audio.output sums into them)
  uint32_t slot = 0;              // this node's slot in the domain
  telemetry_queue* telemetry = nullptr;
  const kernel_event* events = nullptr;  // this block's notes/triggers for this node, by offset
  uint32_t n_events = 0;
};

enum class process_status : uint8_t { ok, silent, error };

/// Channel layout a kernel is prepared for.
struct port_layout {
  std::span<const uint32_t> in_channels;
  std::span<const uint32_t> out_channels;
  uint32_t device_channels = 0;
};

/// A node's media-plane half. Lifecycle: configure -> prepare -> process* -> (destroy).
/// Everything that allocates happens before the first `process`.
///
/// Failures: only `prepare` can fail (a missing or unreadable file, a format the file cannot
/// hold). It returns `unexpected("<node type>: what is wrong")` instead of throwing; the plan
/// compiler prefixes the node's id and type, and the kernel is never processed. The realtime
/// calls cannot fail: they report trouble through error telemetry records.
class kernel {
public:
  virtual ~kernel() = default;

  /// thread: control. Takes the node's initial parameter values.
  virtual void configure(const param_values& values) = 0;

  /// thread: control. Allocates whatever `process` needs for this format and layout; a
  /// failure says why the node cannot run (see the class comment).
  virtual expected<void> prepare(const audio_format& format, const port_layout& layout) = 0;

  /// thread: realtime. A live parameter change, applied at a block boundary.
  virtual void set_param(uint32_t index, double value) noexcept SG_NONBLOCKING = 0;

  /// thread: realtime. Renders one block of at most `format.max_block` frames.
  virtual process_status process(process_context& ctx) noexcept SG_NONBLOCKING = 0;
};

/// dB to linear amplitude; -120 dB and below is treated as silence.
inline float db_to_gain(double db) noexcept SG_NONBLOCKING {
  return db <= -120.0 ? 0.0f : static_cast<float>(__builtin_pow(10.0, db / 20.0));
}

/// A gain that glides to its target with a one-pole smoother (about 5 ms time constant), so that
/// level changes never click.
class smoothed_gain {
public:
  /// thread: control
  void prepare(double sample_rate, float initial) {
    coeff_ = 1.0f - static_cast<float>(__builtin_exp(-1.0 / (0.005 * sample_rate)));
    current_ = target_ = initial;
  }
  /// thread: realtime
  void set_target(float g) noexcept SG_NONBLOCKING { target_ = g; }
  /// thread: realtime. The next per-sample gain.
  float next() noexcept SG_NONBLOCKING {
    // Near gains of 1 and above the float step rounds to nothing while still short of the
    // target (by ~7e-6 at 1.0): land on the target then, instead of hovering off it forever.
    const float next = current_ + coeff_ * (target_ - current_);
    current_ = next == current_ ? target_ : next;
    return current_;
  }
  /// thread: realtime. True when the glide has reached its target.
  bool settled() const noexcept SG_NONBLOCKING {
    float d = target_ - current_;
    return d < 1e-6f && d > -1e-6f;
  }
  /// thread: realtime. Jumps to the target.
  void snap() noexcept SG_NONBLOCKING { current_ = target_; }
  float current() const noexcept SG_NONBLOCKING { return current_; }
  float target() const noexcept SG_NONBLOCKING { return target_; }

private:
  float coeff_ = 1.0f;
  float current_ = 1.0f;
  float target_ = 1.0f;
};

} // namespace sg
