#pragma once

// A JACK dummy server started by the fixture, studiograph's MIDI device actor (RtMidi, JACK
// backend) on a graph device "pads", and a second JACK MIDI client the test sends from
// (RtMidiOut) to play the performer.

#include <pthread.h>
#include <rtmidi/RtMidi.h>

#include <cmath>
#include <filesystem>

#include "tests/controllers/fixture.hpp"
#include "tests/integration/jack_server.hpp"
#include "tests/skip.hpp"

namespace sg::test {

/// Whether this process may run threads SCHED_FIFO (root, CAP_SYS_NICE or an rtprio limit).
inline bool may_run_realtime() {
  bool ok = false;
  std::thread([&ok] {
    sched_param p{};
    p.sched_priority = 1;
    ok = pthread_setschedparam(pthread_self(), SCHED_FIFO, &p) == 0;
  }).join();
  return ok;
}

class midi_fixture : public controller_fixture {
protected:
  void SetUp() override {
    if (!have("jackd") || !have("jack_lsp"))
      SG_SKIP_MISSING("jackd not installed (Debian: jackd2)");
    // A client late in a cycle loses that cycle's MIDI: run SCHED_FIFO where the machine
    // allows it, so a loaded machine does not make it late.
    jack_ = std::make_unique<jack_server>(128, may_run_realtime());
    if (!jack_->up())
      GTEST_FAIL() << "the JACK dummy server did not start; see " << jack_->log();
    out_ = std::make_unique<RtMidiOut>(RtMidi::UNIX_JACK, "sg-test");
    out_->openVirtualPort("out");
  }

  void TearDown() override {
    controller_fixture::TearDown();
    out_.reset();
    jack_.reset();
  }

  /// The graph with a MIDI device connected from this test's port, plus `nodes`.
  void start_midi(const std::string& nodes, const std::string& state = "none",
                  const std::string& edges = {}) {
    ASSERT_NO_FATAL_FAILURE(start(
      nodes, "  pads: { kind: midi, backend: jack, port: \"sg-test:out\" }\n", state, edges));
    // MIDI sent before a mapping has its snapshot would be ignored: wait for their statuses.
    std::optional<v1::DeviceStatus> pads;
    wait_controllers([&](const v1::Event& e) {
      if (e.has_device_status() && e.device_status().device() == "pads" &&
          e.device_status().state() != v1::DeviceStatus::STATE_OPENING)
        pads = e.device_status();
      return pads.has_value();
    });
    ASSERT_TRUE(pads) << "the MIDI device did not open";
    ASSERT_EQ(pads->state(), v1::DeviceStatus::STATE_RUNNING) << pads->message();
    // The port is open, but JACK may not route to it yet: probe with polyphonic aftertouch,
    // which no mapping or panel acts on.
    ASSERT_TRUE(deliver({0xA0, 0, 0})) << "no MIDI arrives from the test's port";
  }

  /// Sends `bytes` from the test's port and waits until the hub has published them, so what
  /// comes after is sent after they arrived. JACK drops the MIDI of a cycle a client finished
  /// late, or sent before a new connection is routed: a message not seen within 2 s (it takes
  /// milliseconds) is sent again.
  void send(const std::vector<unsigned char>& bytes) {
    if (!deliver(bytes))
      ADD_FAILURE() << "a MIDI message never arrived; late cycles in " << jack_->log();
  }
  bool deliver(std::vector<unsigned char> bytes) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      out_->sendMessage(&bytes);
      if (arrived(bytes, 2s))
        return true;
    }
    return false;
  }

  /// Reads the stream until the hub publishes `bytes` as MIDI of pads, for `within` at most;
  /// what it read stays for collect().
  bool arrived(const std::vector<unsigned char>& bytes, std::chrono::milliseconds within) {
    const auto end = std::chrono::steady_clock::now() + within;
    v1::Event ev;
    while (std::chrono::steady_clock::now() < end) {
      if (!stream_->next(ev, 20ms))
        continue;
      const auto& m = ev.midi();
      const bool it = ev.has_midi() && m.device() == "pads" && m.status() == bytes[0] &&
                      m.data1() == (bytes.size() > 1 ? bytes[1] : 0u) &&
                      m.data2() == (bytes.size() > 2 ? bytes[2] : 0u);
      held_.push_back(std::move(ev));
      if (it)
        return true;
    }
    return false;
  }
  void cc(unsigned channel, unsigned number, unsigned value) {
    send({static_cast<unsigned char>(0xB0 | (channel - 1)), static_cast<unsigned char>(number),
          static_cast<unsigned char>(value)});
  }
  void note(bool on, unsigned key, unsigned velocity = 100, unsigned channel = 1) {
    send({static_cast<unsigned char>((on ? 0x90 : 0x80) | (channel - 1)),
          static_cast<unsigned char>(key), static_cast<unsigned char>(velocity)});
  }

  std::unique_ptr<jack_server> jack_;
  std::unique_ptr<RtMidiOut> out_;
};

} // namespace sg::test
