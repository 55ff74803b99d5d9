// Controller latency: an OSC message (UDP, to control.osc) and a MIDI CC (JACK MIDI from a
// second client, through the MIDI device actor and a control.midi mapping) to the value being
// applied, over 10,000 messages each.
//
//   bench_controllers [--messages 10000] [--rate 1000]
//
// "Applied" is the ParamChanged the parameter's authority broadcasts after it took the value
// and handed it to the device actor, timed at an in-process subscriber; the audio thread takes
// it at the next block boundary, at most one block later (2.67 ms at 128 frames, 48 kHz), so
// the table also gives p99 + one block against the target (p99 below one 128-frame block plus
// 1 ms). Each message sets a new value so every echo is matched to its message. Results:
// docs/PERFORMANCE.md.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lo/lo.h>
#include <rtmidi/RtMidi.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "tests/ports.hpp"
#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "tests/integration/jack_server.hpp"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr double block_ms = 128.0 / 48.0;

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}


/// Waits for the ParamChanged of node.param carrying `value` (committed layer); ms since t0.
struct echo_waiter {
  std::shared_ptr<sg::event_stream> stream;
  int64_t last_midi_ns = 0;    // arrival (MIDI thread) of the last MIDI message seen
  double since_arrival_ms = 0;  // from that arrival to the echo, for the last MIDI wait
  std::optional<double> wait(const std::string& node, const std::string& param, double value,
                             clock_type::time_point t0) {
    v1::Event ev;
    const auto end = t0 + 2s;
    while (clock_type::now() < end) {
      if (!stream->next(ev, 50ms))
        continue;
      if (ev.has_midi())
        last_midi_ns = ev.midi().time_ns();
      if (!ev.has_param_changed())
        continue;
      const auto& pc = ev.param_changed();
      if (pc.node() == node && pc.param() == param && !pc.cleared() &&
          std::fabs(pc.value().double_value() - value) < 1e-9) {
        const auto now = clock_type::now();
        since_arrival_ms =
          (std::chrono::duration<double, std::nano>(now.time_since_epoch()).count() -
           static_cast<double>(last_midi_ns)) / 1e6;
        return std::chrono::duration<double, std::milli>(now - t0).count();
      }
    }
    return std::nullopt;
  }
};

void row(const char* what, const std::vector<double>& ms, size_t lost) {
  const double p99 = percentile(ms, 0.99);
  std::printf("| %s | %zu | %.3f | %.3f | %.3f | %.3f | %s | %zu |\n", what, ms.size(),
              percentile(ms, 0.5), p99, percentile(ms, 1.0), p99 + block_ms,
              p99 + block_ms < block_ms + 1.0 ? "met" : "NOT met", lost);
}

/// The bench graph: a tone into a gain on the null device, a control.osc server on
/// `osc_port` and, with MIDI, the JACK MIDI device "pads" and a CC 7 mapping to tone.level.
std::string bench_yaml(int osc_port, bool with_midi) {
  const std::string midi_device =
    with_midi ? "  pads: { kind: midi, backend: jack, port: \"sg-bench:out\" }\n" : "";
  std::string yaml = R"(version: 1
name: controller-bench
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
)" + midi_device + R"(nodes:
  - { id: tone, type: audio.sine }
  - { id: amp, type: audio.gain }
  - { id: out, type: audio.output, device: main }
  - { id: osc, type: control.osc, params: { listen: "127.0.0.1:)" +
                     std::to_string(osc_port) + R"(" } }
)";
  if (with_midi)
    yaml += "  - { id: knob, type: control.midi, device: pads, params: { message: cc, number: 7, "
            "target: tone.level, pickup: false } }\n";
  yaml += "edges:\n  - tone.out -> amp.in\n  - amp.out -> out.in\n";
  return yaml;
}

/// The latencies (ms) of one input's messages, and how many got no echo.
struct input_run {
  std::vector<double> sent_ms, arrival_ms;  // arrival_ms: MIDI only
  size_t lost = 0;
};

/// OSC: /sg/amp/level/commit with a new value each time, over a plain UDP socket, `messages`
/// of them one `period` apart.
input_run send_osc(echo_waiter& waiter, int osc_port, int messages,
                   std::chrono::duration<double> period) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(osc_port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  input_run r;
  for (int i = 0; i < messages; ++i) {
    const double value = -60.0 + 0.001 * (i % 50000);
    lo_message m = lo_message_new();
    lo_message_add_float(m, static_cast<float>(value));
    char buf[256];
    size_t len = sizeof buf;
    lo_message_serialise(m, "/sg/amp/level/commit", buf, &len);
    lo_message_free(m);
    const double sent_value = static_cast<float>(value);  // what travels: an OSC float
    const auto t0 = clock_type::now();
    ::sendto(fd, buf, len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (auto ms = waiter.wait("amp", "level", sent_value, t0))
      r.sent_ms.push_back(*ms);
    else
      ++r.lost;
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<clock_type::duration>(period));
  }
  ::close(fd);
  return r;
}

/// MIDI: a CC `number` on channel 1 alternating between two values, so every message changes
/// tone.level (range -120..0 dBFS: CC v lands at -120 + 120 * v / 127), `messages` of them one
/// `period` apart.
input_run send_ccs(RtMidiOut& midi_out, echo_waiter& waiter, int messages,
                   std::chrono::duration<double> period, unsigned char number, unsigned char low,
                   unsigned char high) {
  input_run r;
  for (int i = 0; i < messages; ++i) {
    const unsigned char v = i % 2 ? high : low;
    std::vector<unsigned char> msg{0xB0, number, v};
    const auto t0 = clock_type::now();
    midi_out.sendMessage(&msg);
    if (auto ms = waiter.wait("tone", "level", -120.0 + 120.0 * v / 127.0, t0)) {
      r.sent_ms.push_back(*ms);
      r.arrival_ms.push_back(waiter.since_arrival_ms);
    } else {
      ++r.lost;
    }
    std::this_thread::sleep_until(t0 + std::chrono::duration_cast<clock_type::duration>(period));
  }
  return r;
}

/// Creates the active knob panel "bench" of bank main: CC 8 -> tone.level; false if refused.
bool put_knob_panel(sg::runtime& rt) {
  v1::PutPanelRequest put;
  auto& p = *put.mutable_panel();
  p.set_id("bench");
  p.set_type(v1::PANEL_TYPE_KNOB);
  p.set_bank("main");
  p.set_active(true);
  auto& m = *p.add_mappings();
  m.set_number(8);
  m.set_action(v1::MAPPING_ACTION_SET);
  m.set_target("tone.level");
  m.set_no_pickup(true);
  put.set_create(true);
  return rt.put_panel(put).status().code() == 0;
}

/// Prints the table (docs/PERFORMANCE.md); `mapped` and `paneled` are null without MIDI.
void report(int messages, double rate, const input_run& osc, const input_run* mapped,
            const input_run* paneled) {
  std::printf("\n== controllers: message sent -> authority applied and handed to the audio "
              "device (ParamChanged at a subscriber), %d messages each at %.0f/s; 128-frame "
              "blocks at 48 kHz (%.2f ms)\n",
              messages, rate, block_ms);
  std::printf("| input | samples | p50 ms | p99 ms | max ms | p99 + one block ms | target "
              "(< block + 1 ms = %.2f ms) | lost |\n|---|---:|---:|---:|---:|---:|---|---:|\n",
              block_ms + 1.0);
  row("OSC UDP /sg/amp/level/commit", osc.sent_ms, osc.lost);
  if (mapped && paneled) {
    row("MIDI CC, from the sending JACK client", mapped->sent_ms, mapped->lost);
    row("MIDI CC, from its arrival at studiograph's MIDI thread", mapped->arrival_ms, mapped->lost);
    row("MIDI CC via an active knob panel, from the sending JACK client", paneled->sent_ms,
        paneled->lost);
    row("MIDI CC via an active knob panel, from its arrival", paneled->arrival_ms, paneled->lost);
  } else
    std::printf("| MIDI | skipped: jackd not installed | | | | | | |\n");
}

int bench(int messages, double rate) {
  sg::test::jack_server jack(128, false);
  const int osc_port = sg::test::free_loopback_port(SOCK_DGRAM);
  std::unique_ptr<RtMidiOut> midi_out;
  if (jack.up()) {
    midi_out = std::make_unique<RtMidiOut>(RtMidi::UNIX_JACK, "sg-bench");
    midi_out->openVirtualPort("out");
  }
  auto loaded =
    sg::load_graph_string(bench_yaml(osc_port, midi_out != nullptr), "controller-bench.yaml");
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", sg::format_diagnostic(loaded.errors.front()).c_str());
    return 2;
  }
  sg::runtime_options ro;
  ro.state_path = "none";
  sg::runtime rt(ro);
  v1::SubscribeRequest sub;
  sub.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  sub.add_kinds(v1::EVENT_KIND_MIDI);
  echo_waiter waiter{rt.subscribe(sub)};
  if (rt.apply_graph(loaded.spec).status().code() != 0)
    return 2;
  std::this_thread::sleep_for(1s);

  const auto period = std::chrono::duration<double>(1.0 / rate);
  const input_run osc = send_osc(waiter, osc_port, messages, period);
  input_run mapped, paneled;
  if (midi_out) {
    mapped = send_ccs(*midi_out, waiter, messages, period, 7, 20, 100);  // the node "knob"
    // The same through an active knob panel (the panel authority routes it): CC 8 -> tone.level.
    if (!put_knob_panel(rt))
      return 2;
    paneled = send_ccs(*midi_out, waiter, messages, period, 8, 30, 90);
  }
  report(messages, rate, osc, midi_out ? &mapped : nullptr, midi_out ? &paneled : nullptr);
  return osc.lost + mapped.lost + paneled.lost == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_controllers - OSC and MIDI CC to the applied value"};
  int messages = 10000;
  double rate = 1000;
  app.add_option("--messages", messages, "Messages per input")->capture_default_str();
  app.add_option("--rate", rate, "Messages per second")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return bench(messages, rate);
}
