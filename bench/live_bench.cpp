// A 32-node graph played on a JACK dummy server at 64-frame blocks while remote clients change
// its parameters over gRPC, 1,000 changes per second by default: xruns, blocks against the
// clock, the worst block's load, and the SetParam acknowledgement latency.
//
//   bench_live [--seconds 60] [--idle 10] [--rate 1000] [--clients 2] [--block 64]
//              [--jack-realtime]
//
// The graph (32 nodes): six voices, each osc -> gain -> lowpass -> pan, and a noise source into
// a 7-input mixer -> compressor -> delay -> reverb -> master gain -> meter -> output. Changes
// go round-robin over 31 live parameters (oscillator frequencies, voice levels, filter
// cutoffs, pan positions, mixer levels, delay and reverb mix), each client on its own
// connection, paced on an absolute schedule so a slow reply does not lower the rate. The same
// length of idle playing before (--idle) shows what the machine's own xruns are: a dummy
// server started --no-realtime (the default, as in the tests) wakes late on a busy machine by
// itself. Results and how to read them: docs/PERFORMANCE.md.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "actors/gateway/gateway.hpp"
#include "actors/runtime.hpp"
#include "tests/integration/jack_server.hpp"
#include "graph/loader.hpp"
#include "studiograph/v1/service.grpc.pb.h"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr int voices = 6;

std::string graph_yaml(uint32_t block, const std::string& backend) {
  std::string y = "version: 1\nname: live-bench\ndevices:\n  main: { kind: audio, backend: " +
                  backend + ", sample_rate: 48000, block: " + std::to_string(block) +
                  ", channels: 2 }\nnodes:\n";
  std::string edges = "edges:\n";
  for (int v = 0; v < voices; ++v) {
    const std::string n = std::to_string(v);
    y += "  - { id: osc" + n + ", type: audio.osc, params: { waveform: " +
         (v % 2 ? "square" : "saw") + ", frequency: " + std::to_string(110 * (v + 1)) +
         ", level: -12 } }\n";
    y += "  - { id: gain" + n + ", type: audio.gain, params: { level: -6 } }\n";
    y += "  - { id: filter" + n + ", type: audio.filter, params: { frequency: 2000 } }\n";
    y += "  - { id: pan" + n + ", type: audio.pan, params: { pan: " +
         std::to_string(-0.75 + 0.3 * v) + " } }\n";
    edges += "  - osc" + n + ".out -> gain" + n + ".in\n  - gain" + n + ".out -> filter" + n +
             ".in\n  - filter" + n + ".out -> pan" + n + ".in\n  - pan" + n + ".out -> mix.in" +
             std::to_string(v + 1) + "\n";
  }
  y += R"(  - { id: noise, type: audio.noise, params: { level: -40 } }
  - { id: mix, type: audio.mixer, params: { inputs: 7, level: -6 } }
  - { id: comp, type: audio.compressor, params: { threshold: -18, ratio: 4 } }
  - { id: echo, type: audio.delay, params: { time: 375, feedback: 0.35, mix: 0.25 } }
  - { id: room, type: audio.reverb, params: { decay: 1.5, mix: 0.2 } }
  - { id: master, type: audio.gain, params: { level: -3 } }
  - { id: meter, type: audio.meter }
  - { id: out, type: audio.output, device: main }
)";
  edges += R"(  - noise.out -> mix.in7
  - mix.out -> comp.in
  - comp.out -> echo.in
  - echo.out -> room.in
  - room.out -> master.in
  - master.out -> meter.in
  - master.out -> out.in
)";
  return y + edges;
}

/// One live parameter and the range its values sweep.
struct target {
  std::string node, param;
  double lo, hi;
};

std::vector<target> targets() {
  std::vector<target> t;
  for (int v = 0; v < voices; ++v) {
    const std::string n = std::to_string(v);
    t.push_back({"osc" + n, "frequency", 80, 1200});
    t.push_back({"gain" + n, "level", -24, -3});
    t.push_back({"filter" + n, "frequency", 300, 6000});
    t.push_back({"pan" + n, "pan", -1, 1});
    t.push_back({"mix", "level" + std::to_string(v + 1), -18, 0});
  }
  t.push_back({"echo", "mix", 0, 0.5});
  return t;  // 31 parameters
}

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

/// What one client sent: replies OK / failed and the acknowledgement latencies (µs).
struct client_result {
  uint64_t ok = 0, failed = 0, late = 0;  // late: sent more than one period behind schedule
  std::vector<double> ack_us;
};

/// Sends SetParams at `rate` per second for `seconds` on its own connection, starting with
/// target `first` and stepping by `stride`.
client_result run_client(const std::string& address, double rate, double seconds, size_t first,
                         size_t stride, int id) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a TCP connection of its own
  auto stub = v1::NodeService::NewStub(
    grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  const auto all = targets();
  client_result r;
  r.ack_us.reserve(static_cast<size_t>(rate * seconds) + 16);
  v1::SetParamRequest req;
  req.mutable_origin()->set_client_id("live-bench-" + std::to_string(id));
  const auto period = std::chrono::duration<double>(1.0 / rate);
  const auto t0 = clock_type::now();
  const auto n = static_cast<uint64_t>(rate * seconds);
  for (uint64_t k = 0; k < n; ++k) {
    const auto due = t0 + std::chrono::duration_cast<clock_type::duration>(period * k);
    const auto now = clock_type::now();
    if (now < due)
      std::this_thread::sleep_until(due);
    else if (now - due > period)
      ++r.late;
    const target& t = all[(first + k * stride) % all.size()];
    // A slow sweep (about 4 s end to end per parameter) so every write is a new value.
    const double phase = static_cast<double>(k % 4000) / 4000.0;
    req.set_node(t.node);
    req.set_param(t.param);
    req.mutable_value()->set_double_value(t.lo + (t.hi - t.lo) * phase);
    req.mutable_origin()->set_client_rev(k + 1);
    v1::SetParamReply reply;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 2s);
    const auto sent = clock_type::now();
    const bool ok = stub->SetParam(&ctx, req, &reply).ok() && reply.status().code() == 0;
    r.ack_us.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - sent).count());
    ok ? ++r.ok : ++r.failed;
  }
  return r;
}

v1::DeviceStatus device_of(sg::runtime& rt) {
  auto st = rt.status();
  return st.devices_size() > 0 ? st.devices(0) : v1::DeviceStatus{};
}

/// Blocks, xruns and the worst block's load of one window, polled once a second (each status
/// call restarts the device's peak, so the worst second is kept).
struct window {
  uint64_t blocks = 0, xruns = 0;
  double peak_load = 0;
  std::vector<uint64_t> xrun_seconds;  // seconds (from the window's start) with xruns
};

window watch(sg::runtime& rt, double seconds, const std::atomic<bool>* stop = nullptr) {
  window w;
  auto prev = device_of(rt);
  const auto first = prev;
  const auto t0 = clock_type::now();
  for (uint64_t s = 1; clock_type::now() - t0 < std::chrono::duration<double>(seconds); ++s) {
    std::this_thread::sleep_until(t0 + std::chrono::seconds(s));
    const auto d = device_of(rt);
    w.peak_load = std::max<double>(w.peak_load, d.peak_load());
    if (d.xruns() > prev.xruns())
      w.xrun_seconds.push_back(s);
    prev = d;
    if (stop && stop->load())
      break;
  }
  w.blocks = prev.blocks() - first.blocks();
  w.xruns = prev.xruns() - first.xruns();
  return w;
}

/// The command line: window lengths, the change rate and its clients, the block, the server.
struct live_options {
  double seconds = 60, idle = 10, rate = 1000;
  int clients = 2;
  uint32_t block = 64;
  bool realtime = false;
};

/// Loads the 32-node graph on `backend` and applies it; throws with the reason otherwise.
void apply_bench_graph(sg::runtime& rt, uint32_t block, const std::string& backend) {
  auto loaded = sg::load_graph_string(graph_yaml(block, backend), "live-bench.yaml");
  if (!loaded.ok())
    throw std::runtime_error(sg::format_diagnostic(loaded.errors.front()));
  if (loaded.spec.nodes_size() != 32)
    throw std::runtime_error("the graph has " + std::to_string(loaded.spec.nodes_size()) +
                             " nodes, not 32");
  auto applied = rt.apply_graph(loaded.spec);
  if (applied.status().code() != 0)
    throw std::runtime_error("apply_graph: " + applied.status().message());
}

/// The window under changes: what the device did and what each client sent, over `sent_s`.
struct changes_run {
  window busy;
  std::vector<client_result> results;
  double sent_s = 0;
};

/// Runs the clients against `address` while watching the device for `o.seconds`.
changes_run under_changes(sg::runtime& rt, const std::string& address, const live_options& o) {
  changes_run run;
  run.results.resize(static_cast<size_t>(o.clients));
  std::vector<std::thread> threads;
  const auto t0 = clock_type::now();
  for (int c = 0; c < o.clients; ++c)
    threads.emplace_back([&, c] {
      run.results[static_cast<size_t>(c)] =
        run_client(address, o.rate / o.clients, o.seconds, static_cast<size_t>(c),
                   static_cast<size_t>(o.clients), c);
    });
  run.busy = watch(rt, o.seconds);
  for (auto& t : threads)
    t.join();
  run.sent_s = std::chrono::duration<double>(clock_type::now() - t0).count();
  return run;
}

/// Prints the table (docs/PERFORMANCE.md) and the seconds with xruns; the exit code (0: no
/// SetParam failed).
int report(const live_options& o, bool on_jack, const window& quiet, const changes_run& run,
           const v1::DeviceStatus& device, const std::string& jack_log) {
  client_result all;
  for (auto& r : run.results) {
    all.ok += r.ok;
    all.failed += r.failed;
    all.late += r.late;
    all.ack_us.insert(all.ack_us.end(), r.ack_us.begin(), r.ack_us.end());
  }
  const window& busy = run.busy;
  const auto u = [](uint64_t x) { return static_cast<unsigned long long>(x); };
  std::printf(
    "\n== live: 32-node graph, %s, %u-frame blocks at 48 kHz; %d gRPC clients, %.0f "
    "SetParams/s over %zu parameters for %.0f s; load average %s\n",
    on_jack ? (o.realtime ? "JACK dummy server (realtime)" : "JACK dummy server (--no-realtime)")
            : "null backend (jackd not installed)",
    o.block, o.clients, o.rate, targets().size(), o.seconds, load_average().c_str());
  std::printf("| figure | idle (%.0f s) | under changes (%.0f s) |\n|---|---:|---:|\n", o.idle,
              o.seconds);
  std::printf("| xruns | %llu | %llu |\n", u(quiet.xruns), u(busy.xruns));
  std::printf("| blocks (expected at the clock) | %llu (%.0f) | %llu (%.0f) |\n", u(quiet.blocks),
              o.idle * 48000 / o.block, u(busy.blocks), o.seconds * 48000 / o.block);
  std::printf("| worst block load (of the block period) | %.1f %% | %.1f %% |\n",
              quiet.peak_load * 100, busy.peak_load * 100);
  std::printf("| SetParams acknowledged OK / failed | | %llu / %llu (%.0f/s) |\n", u(all.ok),
              u(all.failed), static_cast<double>(all.ok) / run.sent_s);
  std::printf("| sends more than one period behind schedule | | %llu |\n", u(all.late));
  std::printf("| SetParam ack p50 / p99 / max | | %.0f / %.0f / %.0f us |\n",
              percentile(all.ack_us, 0.5), percentile(all.ack_us, 0.99),
              percentile(all.ack_us, 1.0));
  std::printf("device: %s, realtime priority %s, %llu xruns in total\n", device.backend().c_str(),
              device.realtime_priority() ? "yes" : "no", u(device.xruns()));
  for (const auto* w : {&quiet, &busy}) {
    if (w->xrun_seconds.empty())
      continue;
    std::printf("%s seconds with xruns:", w == &quiet ? "idle" : "busy");
    for (auto s : w->xrun_seconds)
      std::printf(" %llu", u(s));
    std::printf("\n");
  }
  if (on_jack && (quiet.xruns || busy.xruns))
    std::printf("(the server's own late wake-ups are the \"JackTimedDriver\" lines of %s)\n",
                jack_log.c_str());
  return all.failed == 0 ? 0 : 1;
}

int bench(const live_options& o) {
  sg::test::jack_server jack(o.block, o.realtime);
  const bool on_jack = jack.up();
  sg::runtime_options ro;
  ro.state_path = "none";
  sg::runtime rt(ro);
  apply_bench_graph(rt, o.block, on_jack ? "jack" : "null");
  sg::gateway gw(rt, sg::gateway_options{.listen = "127.0.0.1:0"});
  if (auto started = gw.start(); !started)
    throw std::runtime_error("gateway: " + started.error());
  gw.set_serving(true);
  std::this_thread::sleep_for(2s);  // the device settles before the measured windows

  const window quiet = watch(rt, o.idle);
  const changes_run run = under_changes(rt, gw.address(), o);
  const auto device = device_of(rt);
  gw.stop();
  return report(o, on_jack, quiet, run, device, jack.log());
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_live - a 32-node graph on JACK under live parameter changes over gRPC"};
  live_options o;
  app.add_option("--seconds", o.seconds, "Length of the window under changes")
    ->capture_default_str();
  app.add_option("--idle", o.idle, "Length of the idle window before it")->capture_default_str();
  app.add_option("--rate", o.rate, "SetParams per second, all clients together")
    ->check(CLI::PositiveNumber)
    ->capture_default_str();
  app.add_option("--clients", o.clients, "gRPC clients, each on its own connection")
    ->check(CLI::Range(1, 64))
    ->capture_default_str();
  app.add_option("--block", o.block, "Audio block in frames")->capture_default_str();
  app.add_flag("--jack-realtime", o.realtime,
               "Run the JACK server realtime (SCHED_FIFO) instead of --no-realtime");
  CLI11_PARSE(app, argc, argv);
  try {
    return bench(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_live: %s\n", e.what());
    return 2;
  }
}
