#pragma once

// A JACK dummy server started by the fixture, studiograph's MIDI device actor (RtMidi, JACK
// backend) on a graph device "pads", and a second JACK MIDI client the test sends from
// (RtMidiOut) to play the performer.

#include <rtmidi/RtMidi.h>

#include <cmath>
#include <filesystem>

#include "tests/controllers/fixture.hpp"
#include "tests/integration/jack_server.hpp"

namespace sg::test {

class midi_fixture : public controller_fixture {
protected:
  void SetUp() override {
    if (!have("jackd") || !have("jack_lsp"))
      GTEST_SKIP() << "jackd not installed (Debian: jackd2)";
    jack_ = std::make_unique<jack_server>(128, false);
    if (!jack_->up())
      GTEST_SKIP() << "the JACK dummy server did not start; see " << jack_->log();
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
    const auto evs = collect(3000ms, [](const v1::Event& e) {
      return e.has_device_status() && e.device_status().device() == "pads" &&
             e.device_status().state() != v1::DeviceStatus::STATE_OPENING;
    });
    ASSERT_FALSE(evs.empty());
    ASSERT_EQ(evs.back().device_status().state(), v1::DeviceStatus::STATE_RUNNING)
      << evs.back().device_status().message();
    collect(300ms);  // controllers have their snapshots
  }

  void send(std::vector<unsigned char> bytes) { out_->sendMessage(&bytes); }
  void cc(unsigned channel, unsigned number, unsigned value) {
    send({static_cast<unsigned char>(0xB0 | (channel - 1)), static_cast<unsigned char>(number),
          static_cast<unsigned char>(value)});
  }
  void note(bool on, unsigned key, unsigned velocity = 100, unsigned channel = 1) {
    send({static_cast<unsigned char>((on ? 0x90 : 0x80) | (channel - 1)),
          static_cast<unsigned char>(key), static_cast<unsigned char>(velocity)});
  }

  /// Waits for the committed value of node.param to satisfy `ok`.
  bool wait_value(const std::string& node, const std::string& p,
                  const std::function<bool(double)>& ok, std::chrono::milliseconds d = 2000ms) {
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      const auto v = param(node, p).value();
      const double x = v.has_double_value() ? v.double_value()
                       : v.has_int_value()  ? static_cast<double>(v.int_value())
                                            : (v.bool_value() ? 1.0 : 0.0);
      if (ok(x))
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  double value(const std::string& node, const std::string& p) {
    const auto v = param(node, p).value();
    return v.has_double_value() ? v.double_value()
           : v.has_int_value()  ? static_cast<double>(v.int_value())
                                : (v.bool_value() ? 1.0 : 0.0);
  }

  std::unique_ptr<jack_server> jack_;
  std::unique_ptr<RtMidiOut> out_;
};

} // namespace sg::test
