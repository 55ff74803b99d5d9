#pragma once

/// A MIDI input device through RtMidi (JACK or ALSA), without any actor: RtMidi calls back on
/// its MIDI thread (with JACK, the server's realtime process thread); the callback only
/// timestamps the message and pushes it into a lock-free single-producer queue. A delivery
/// thread of this object drains the queue every `poll_period` and hands each message to the
/// sink. The callback never wakes that thread: a wake is a system call (futex), which the
/// realtime thread may not make; the poll adds at most one period (0.5 ms) to a message's way.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/lockfree/spsc_queue.hpp>

#include "hardware/specs.hpp"
#include "nodes/core/expected.hpp"
#include "nodes/core/realtime.hpp"

class RtMidiIn;

namespace sg {

/// One channel or system-common message, as the MIDI thread saw it.
struct midi_message {
  uint8_t status = 0, data1 = 0, data2 = 0;
  int64_t time_ns = 0;  // steady clock
};

class midi_input {
public:
  /// thread: delivery. Called once per message, in arrival order.
  using sink = std::function<void(const midi_message&)>;

  /// thread: control. Opens the input `spec` names: its backend (jack, alsa or any), a
  /// virtual port named after the device, connected from the source port whose name contains
  /// the option `port` when one is given; fails saying why it cannot.
  static expected<std::unique_ptr<midi_input>> open(const device_spec& spec, sink deliver);
  /// thread: control. Stops delivery (messages still queued are dropped) and closes the port.
  ~midi_input();
  midi_input(const midi_input&) = delete;
  midi_input& operator=(const midi_input&) = delete;

  /// The RtMidi API actually opened ("jack", "alsa").
  const std::string& backend() const { return backend_; }
  /// How often the delivery thread drains the queue.
  static constexpr std::chrono::microseconds poll_period{500};

  /// Messages the queue had no room for.
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  /// thread: realtime (RtMidi's). Copies up to three bytes and a timestamp; never blocks.
  /// Public so that RtMidi can be given it, and tests can drive it.
  static void on_message(double, std::vector<unsigned char>* bytes, void* self) noexcept
    SG_NONBLOCKING;

private:
  midi_input(const device_spec& spec, sink deliver);
  /// Opens the RtMidi port (RtMidi throws RtMidiError when it cannot).
  expected<void> connect(const device_spec& spec);
  void run_delivery();

  std::string device_;
  sink deliver_;
  std::string backend_;
  std::unique_ptr<RtMidiIn> in_;
  boost::lockfree::spsc_queue<midi_message, boost::lockfree::capacity<4096>> queue_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace sg
