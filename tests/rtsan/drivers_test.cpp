// The drivers' realtime entry points under -fsanitize=realtime, each on its real thread: the
// null device's block cycle with its WAV tap and silent inputs, the JACK process callback (inputs
// and outputs) on a JACK dummy server's process thread, and the MIDI input callback on JACK's
// MIDI thread. Any allocation,
// free, lock or blocking call reached from them aborts the process with RTSan's report.
//
// Usage: rtsan_drivers null|jack|midi. Exit 0: passed; 1: failed; 77: skipped (jackd is not
// installed; a failure under CI=true, where it must be).

#include <unistd.h>

#include <rtmidi/RtMidi.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sndfile.h>

#include "hardware/audio_driver.hpp"
#include "hardware/midi_input.hpp"
#include "tests/integration/jack_server.hpp"

namespace {

using namespace sg;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what.c_str());
  failures += ok ? 0 : 1;
}

/// Missing jackd: skipped, or failed under CI=true.
int missing(const std::string& what) {
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true") {
    std::printf("FAIL: CI=true requires it: %s\n", what.c_str());
    return 1;
  }
  if (const char* log = std::getenv("SG_SKIP_LOG"); log && *log)
    std::ofstream(log, std::ios::app) << "rtsan.drivers [missing]: " << what << "\n";
  std::printf("skipped: %s\n", what.c_str());
  return 77;
}

/// A sine into the device's two channels, and the device's two inputs into them too.
std::unique_ptr<render_plan> tone_plan() {
  const node_info* sine = node_registry::builtin().find("audio.sine");
  const node_info* input = node_registry::builtin().find("audio.input");
  const node_info* output = node_registry::builtin().find("audio.output");
  param_values both = input->defaults();
  both.strings[static_cast<size_t>(input->param_index("channels"))] = "1-2";
  std::vector<plan_node_spec> nodes = {{"tone", sine, sine->defaults(), nullptr},
                                       {"in", input, both, nullptr},
                                       {"out", output, output->defaults(), nullptr},
                                       {"thru", output, output->defaults(), nullptr}};
  auto plan = render_plan::compile(std::move(nodes), {{0, "out", 2, "in"}, {1, "out", 3, "in"}},
                                   {48000, 128}, 2);
  if (!plan) {
    std::fprintf(stderr, "plan: %s\n", plan.error().c_str());
    return nullptr;
  }
  return std::move(*plan);
}

device_spec device(const std::string& backend) {
  device_spec spec;
  spec.name = "main";
  spec.kind = "audio";
  spec.backend = backend;
  spec.sample_rate = 48000;
  spec.block = 128;
  spec.channels = 2;
  spec.inputs = 2;  // duplex: the inputs are read in the same callback
  return spec;
}

/// Waits until the engine rendered `frames` frames; false after `limit`.
bool rendered(render_engine& engine, uint64_t frames, std::chrono::seconds limit) {
  for (const auto end = steady::now() + limit; steady::now() < end;) {
    if (engine.frames() >= frames)
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

/// A JACK dummy server of this run's own; null, with the exit status in `status`, when it
/// cannot be had.
std::unique_ptr<sg::test::jack_server> start_jack(int& status) {
  if (!sg::test::have("jackd") || !sg::test::have("jack_lsp")) {
    status = missing("jackd/jack_lsp not installed (package jackd2)");
    return nullptr;
  }
  auto server = std::make_unique<sg::test::jack_server>(128, false);
  check(server->up(), "the JACK dummy server starts (log " + server->log() + ")");
  if (!server->up()) {
    status = 1;
    return nullptr;
  }
  return server;
}

int null_device() {
  const std::string wav = "/tmp/sg-rtsan-null-" + std::to_string(getpid()) + ".wav";
  uint64_t frames = 0;
  {
    render_engine engine(2, 48000, 2);
    check(engine.submit_plan(tone_plan()), "plan submitted");
    auto spec = device("null");
    spec.options["path"] = wav;
    auto opened = open_audio_driver(spec, engine);
    check(opened.has_value(),
          "null device opens with a WAV tap: " + (opened ? std::string() : opened.error()));
    if (!opened)
      return 1;
    check(rendered(engine, 24000, 20s), "the null device's thread renders blocks");
    opened->driver->stop();
    frames = engine.frames();
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(wav.c_str(), SFM_READ, &info);
  check(f != nullptr && info.channels == 2 && static_cast<uint64_t>(info.frames) == frames,
        "the tap wrote every rendered frame (" + std::to_string(frames) + ")");
  if (f)
    sf_close(f);
  std::remove(wav.c_str());
  return failures == 0 ? 0 : 1;
}

int jack_device() {
  int status = 0;
  const auto server = start_jack(status);
  if (!server)
    return status;
  render_engine engine(2, 48000, 2);
  check(engine.submit_plan(tone_plan()), "plan submitted");
  auto opened = open_audio_driver(device("jack"), engine);
  check(opened.has_value(), "the JACK client opens: " + (opened ? std::string() : opened.error()));
  if (!opened)
    return 1;
  check(opened->driver->backend() == "jack", "backend jack");
  check(rendered(engine, 48000, 20s), "JACK's process thread renders a second of blocks");
  opened->driver->stop();
  return failures == 0 ? 0 : 1;
}

int midi_device() {
  int status = 0;
  const auto server = start_jack(status);
  if (!server)
    return status;
  std::atomic<int> received{0};
  std::atomic<int> last_data2{-1};
  auto spec = device("jack");
  spec.name = "keys";
  spec.kind = "midi";
  auto opened = midi_input::open(spec, [&](const midi_message& m) {
    last_data2.store(m.data2);
    received.fetch_add(1);
  });
  check(opened.has_value(), "the MIDI input opens: " + (opened ? std::string() : opened.error()));
  if (!opened)
    return 1;
  midi_input& in = **opened;
  check(in.backend() == "jack", "MIDI input on JACK");
  RtMidiOut out(RtMidi::UNIX_JACK, "sg-rtsan-out");
  out.openVirtualPort("out");
  const auto connect = sg::test::run("jack_connect sg-rtsan-out:out studiograph-midi:keys 2>&1");
  check(connect.exit_code == 0, "connected: " + connect.output);
  constexpr int messages = 200;
  for (int i = 0; i < messages; ++i) {
    std::vector<unsigned char> cc = {0xB0, 7, static_cast<unsigned char>(i % 128)};
    out.sendMessage(&cc);
    if (i % 20 == 19)
      std::this_thread::sleep_for(3ms);  // spread over a few JACK cycles
  }
  for (const auto end = steady::now() + 20s; received.load() < messages && steady::now() < end;)
    std::this_thread::sleep_for(5ms);
  check(received.load() == messages,
        "every message went through the callback (" + std::to_string(received.load()) + ")");
  check(last_data2.load() == (messages - 1) % 128, "in order, the last one last");
  check(in.dropped() == 0, "nothing dropped");
  return failures == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "null")
    return null_device();
  if (mode == "jack")
    return jack_device();
  if (mode == "midi")
    return midi_device();
  std::fprintf(stderr, "usage: rtsan_drivers null|jack|midi\n");
  return 2;
}
