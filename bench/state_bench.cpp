// Live state under load, in one process, with real actors, a real SQLite file and real gRPC:
//
//   writer   persisted SetParams posted as fast as the runtime takes them, spread over ~1000
//            mixer levels, while audio runs at 64-frame blocks: intents posted and absorbed by
//            the persistence writer per second, durable batches, and the device's xruns.
//   restore  apply_graph of a 10,000-parameter graph whose store holds a value for every
//            parameter, next to the same apply without a store.
//   echo     SetParam over gRPC to its ParamChanged at a second, subscribed client (p50/p99),
//            next to plain unary round trips (grpc.health.v1 Check, GetStatus) in the same run.
//
//   bench_state writer  [--seconds 10] [--params 1008] [--block 64] [--window 20000]
//                       [--backend jack|null] [--jack-realtime]
//   bench_state restore [--params 10000] [--repeats 7]
//   bench_state echo    [--samples 5000]
//
// `writer` starts its own JACK dummy server at --block frames when jackd is installed (the
// graph's backend is then jack; its log goes to /tmp/sg-bench-<pid>-jackd.log), else it uses
// the null backend; the table says which. The database lives in $SG_BENCH_DIR, else $TMPDIR,
// else /tmp: put it on a real disk, since on tmpfs a commit's fsync costs nothing. Results and
// how to read them: docs/PERFORMANCE.md, section 4.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include "actors/gateway/gateway.hpp"
#include "actors/runtime.hpp"
#include "actors/store/state_store.hpp"
#include "tests/integration/jack_server.hpp"
#include "graph/loader.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"

namespace {

namespace v1 = studiograph::v1;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr uint32_t levels_per_mixer = 16;

double seconds_between(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// A fresh directory for the database, removed afterwards.
class scratch_dir {
public:
  scratch_dir() {
    const char* base = std::getenv("SG_BENCH_DIR");
    if (!base || !base[0])
      base = std::getenv("TMPDIR");
    std::string templ = std::string(base && base[0] ? base : "/tmp") + "/sg-state-bench-XXXXXX";
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp " + templ);
    path_ = templ;
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  fs::path path_;
};

using sg::test::jack_server;

v1::GraphSpec load(const std::string& yaml) {
  auto loaded = sg::load_graph_string(yaml, "state-bench.yaml");
  if (!loaded.ok())
    throw std::runtime_error(sg::format_diagnostic(loaded.errors.front()));
  return loaded.spec;
}

/// sine -> m0 -> m1 -> ... -> output: every mixer renders, each with 16 live input levels.
std::string mixer_chain(size_t mixers, const std::string& backend, uint32_t block) {
  std::string y = "version: 1\nname: state-bench\ndevices:\n  main: { kind: audio, backend: " +
                  backend + ", sample_rate: 48000, block: " + std::to_string(block) +
                  ", channels: 2 }\nnodes:\n  - { id: osc, type: audio.sine }\n";
  for (size_t m = 0; m < mixers; ++m)
    y += "  - { id: m" + std::to_string(m) + ", type: audio.mixer, params: { inputs: 16 } }\n";
  y += "  - { id: out, type: audio.output, device: main }\nedges:\n  - osc.out -> m0.in1\n";
  for (size_t m = 1; m < mixers; ++m)
    y += "  - m" + std::to_string(m - 1) + ".out -> m" + std::to_string(m) + ".in1\n";
  y += "  - m" + std::to_string(mixers - 1) + ".out -> out.in\n";
  return y;
}

size_t mixers_for(size_t params) {
  return std::max<size_t>(1, (params + levels_per_mixer - 1) / levels_per_mixer);
}

// Appending (rather than "m" + to_string) avoids GCC 12's false -Wrestrict on operator+.
std::string mixer_id(size_t param) {
  std::string id = "m";
  id += std::to_string(param / levels_per_mixer);
  return id;
}

std::string level_name(size_t param) {
  std::string name = "level";
  name += std::to_string(param % levels_per_mixer + 1);
  return name;
}

void check_applied(const v1::ApplyGraphReply& r) {
  if (r.status().code() != 0)
    throw std::runtime_error("apply_graph: " + r.status().message());
}

v1::DeviceStatus device_of(sg::runtime& rt) {
  auto st = rt.status();
  return st.devices_size() > 0 ? st.devices(0) : v1::DeviceStatus{};
}

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// -- (a) writer throughput under audio --------------------------------------------------------

/// Durability acks as the writer publishes them: changes absorbed, batches, their arrival.
struct durable_counter {
  std::mutex mtx;
  std::condition_variable cv;
  uint64_t absorbed = 0, batches = 0, entries = 0;
  uint64_t absorbed_by_mark = 0;  // absorbed when `mark` was called
  clock_type::time_point last_batch;

  void count(const v1::StateDurable& d) {
    std::lock_guard lock(mtx);
    absorbed += d.coalesced();
    entries += static_cast<uint64_t>(d.entries_size());
    ++batches;
    last_batch = clock_type::now();
    cv.notify_all();
  }
  uint64_t get() {
    std::lock_guard lock(mtx);
    return absorbed;
  }
  void mark() {
    std::lock_guard lock(mtx);
    absorbed_by_mark = absorbed;
  }
  /// Waits until at least `n` changes were absorbed; false on timeout.
  bool wait_for(uint64_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mtx);
    return cv.wait_for(lock, timeout, [&] { return absorbed >= n; });
  }
};

/// Feeds `acks` from a DURABLE subscription on a thread of its own until stopped.
class durable_listener {
public:
  durable_listener(sg::runtime& rt, durable_counter& acks) {
    v1::SubscribeRequest sub;
    sub.add_kinds(v1::EVENT_KIND_DURABLE);
    stream_ = rt.subscribe(sub);
    thread_ = std::thread([this, &acks] {
      v1::Event ev;
      for (;;) {
        if (stream_->next(ev, 100ms)) {
          if (ev.has_durable())
            acks.count(ev.durable());
        } else if (stream_->closed()) {
          return;
        }
      }
    });
  }
  ~durable_listener() { stop(); }

  /// Closes the subscription and waits for the last event to be counted.
  void stop() {
    stream_->close();
    if (thread_.joinable())
      thread_.join();
  }

private:
  std::shared_ptr<sg::event_stream> stream_;
  std::thread thread_;
};

/// Posts persisted intents round-robin over `params` mixer levels for `seconds`, keeping at
/// most `window` of them not yet absorbed (an unthrottled poster would only measure how fast
/// the host's mailbox grows). Returns how many were posted.
uint64_t post_for(sg::runtime& rt, durable_counter& acks, size_t params, double seconds,
                  uint64_t window) {
  v1::SetParamRequest req;
  req.set_persist(true);
  req.mutable_origin()->set_client_id("bench");
  uint64_t posted = 0;
  const auto end = clock_type::now() + std::chrono::duration<double>(seconds);
  while (clock_type::now() < end) {
    if (posted - acks.get() >= window) {
      acks.wait_for(posted - window / 2, 20ms);
      continue;
    }
    for (int burst = 0; burst < 256; ++burst, ++posted) {
      const size_t i = posted % params;
      req.set_node(mixer_id(i));
      req.set_param(level_name(i));
      // Values sweep -100..-0.01 dB so consecutive writes of a parameter differ.
      const auto sweep = static_cast<double>(posted / params % 10000);
      req.mutable_value()->set_double_value(-100.0 + 0.01 * sweep);
      req.mutable_origin()->set_client_rev(posted + 1);
      rt.post(req);
    }
  }
  return posted;
}

/// The device over one window: blocks, xruns and the worst block's load (each status call
/// restarts the device's peak).
struct device_window {
  uint64_t blocks = 0, xruns = 0;
  double peak_load = 0;
};

device_window between(const v1::DeviceStatus& from, const v1::DeviceStatus& to) {
  return {to.blocks() - from.blocks(), to.xruns() - from.xruns(), to.peak_load()};
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five;
  in >> one >> five;
  return one + " (1 min), " + five + " (5 min)";
}

struct writer_run {
  std::string backend;
  size_t params = 0;
  uint64_t posted = 0;
  double posting_s = 0, total_s = 0;
  bool drained = false;
  device_window idle, busy;
  v1::DeviceStatus device;
};

void print_writer(const writer_run& r, uint32_t block, uint64_t window,
                  const durable_counter& acks) {
  const auto u = [](uint64_t x) { return static_cast<unsigned long long>(x); };
  const double expected = r.posting_s * 48000.0 / block;
  std::printf("\n== writer: persisted SetParams over %zu mixer levels (%zu mixers), %s backend, "
              "%u-frame blocks at 48 kHz, synchronous=FULL, flush_ms 5, in-flight window %llu; "
              "load average %s\n",
              r.params, mixers_for(r.params), r.backend.c_str(), block, u(window),
              load_average().c_str());
  std::printf("| figure | value |\n|---|---:|\n");
  std::printf("| intents posted | %llu in %.2f s |\n", u(r.posted), r.posting_s);
  std::printf("| posted per second | %.0f |\n", static_cast<double>(r.posted) / r.posting_s);
  std::printf("| absorbed per second while posting (coalesced, acked durable) | %.0f |\n",
              static_cast<double>(acks.absorbed_by_mark) / r.posting_s);
  std::printf("| absorbed in total / drained | %llu / %s |\n", u(acks.absorbed),
              r.drained ? "yes" : "NO");
  std::printf("| first post -> last durable batch | %.2f s (%.0f absorbed/s end to end) |\n",
              r.total_s, static_cast<double>(acks.absorbed) / r.total_s);
  std::printf("| durable batches | %llu (%.0f/s; %.0f entries, %.0f changes per batch) |\n",
              u(acks.batches), static_cast<double>(acks.batches) / r.total_s,
              static_cast<double>(acks.entries) / std::max<double>(1, acks.batches),
              static_cast<double>(acks.absorbed) / std::max<double>(1, acks.batches));
  std::printf("| device | %s %s, %u Hz / %u, realtime priority %s |\n", r.device.device().c_str(),
              r.device.backend().c_str(), r.device.sample_rate(), r.device.block(),
              r.device.realtime_priority() ? "yes" : "no");
  std::printf("| blocks, same length idle before / while posting (expected %.0f) | %llu / %llu |\n",
              expected, u(r.idle.blocks), u(r.busy.blocks));
  std::printf("| xruns idle before / while posting | %llu / %llu |\n", u(r.idle.xruns),
              u(r.busy.xruns));
  std::printf("| worst block load idle / while posting | %.1f %% / %.1f %% |\n",
              r.idle.peak_load * 100, r.busy.peak_load * 100);
}

int bench_writer(double seconds, size_t params, uint32_t block, uint64_t window,
                 const std::string& backend, bool jack_realtime) {
  std::optional<jack_server> jack;
  if (backend != "null")
    jack.emplace(block, jack_realtime);
  const bool on_jack = jack && jack->up();
  writer_run r;
  r.backend = !on_jack         ? "null"
              : jack_realtime ? "jack (server realtime)"
                              : "jack (server not realtime)";
  r.params = mixers_for(params) * levels_per_mixer;
  scratch_dir dir;
  sg::runtime_options ro;
  ro.state_path = dir.file("state.sqlite");
  sg::runtime rt(ro);
  check_applied(
    rt.apply_graph(load(mixer_chain(mixers_for(r.params), on_jack ? "jack" : "null", block))));
  durable_counter acks;
  durable_listener listener(rt, acks);
  std::this_thread::sleep_for(1s);  // the stream settles before the measured windows
  // The same length idle first: a JACK dummy server that is not realtime reports xruns of its
  // own on a busy machine, and only the difference is the writer's doing.
  const auto idle_from = device_of(rt);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto before = device_of(rt);
  r.idle = between(idle_from, before);
  const auto t0 = clock_type::now();
  r.posted = post_for(rt, acks, r.params, seconds, window);
  r.posting_s = seconds_between(t0, clock_type::now());
  acks.mark();
  r.busy = between(before, device_of(rt));
  r.drained = acks.wait_for(r.posted, 60s);
  rt.flush_state();
  r.device = device_of(rt);
  listener.stop();
  r.total_s = seconds_between(t0, acks.last_batch);
  print_writer(r, block, window, acks);
  return r.drained ? 0 : 1;
}

// -- (b) restore time -------------------------------------------------------------------------

/// A stored value for each of the graph's `params` mixer levels (what a previous session left).
void fill_store(const std::string& path, size_t params) {
  auto store = sg::state_store::open(path, true);
  if (!store)
    throw std::runtime_error(store.error());
  std::vector<v1::PersistParam> all(params);
  for (size_t i = 0; i < params; ++i) {
    all[i].set_node(mixer_id(i));
    all[i].set_type("audio.mixer");
    all[i].set_param(level_name(i));
    all[i].mutable_value()->set_double_value(-1.0 - 0.001 * static_cast<double>(i % 1000));
    all[i].set_node_rev(1);
  }
  if (auto written = (*store)->write(all, {}); !written)
    throw std::runtime_error(written.error());
}

/// Every stored value is the base layer of its parameter; returns how many are not.
size_t wrong_bases(sg::runtime& rt, size_t params) {
  size_t wrong = 0;
  for (size_t m = 0; m < mixers_for(params); ++m) {
    v1::GetNodeRequest req;
    req.set_node("m" + std::to_string(m));
    auto node = rt.get_node(req).node();
    for (size_t j = 0; j < levels_per_mixer; ++j) {
      const size_t i = m * levels_per_mixer + j;
      bool found = false;
      for (const auto& ps : node.params())
        found |= ps.name() == level_name(i) &&
                 ps.base().double_value() == -1.0 - 0.001 * static_cast<double>(i % 1000);
      wrong += !found;
    }
  }
  return wrong;
}

/// One process start's apply: a fresh runtime (not timed), apply_graph (timed).
double timed_apply(const v1::GraphSpec& spec, const std::string& state, size_t params,
                   int& restored, size_t* wrong) {
  sg::runtime_options ro;
  ro.state_path = state;
  sg::runtime rt(ro);
  const auto t0 = clock_type::now();
  auto reply = rt.apply_graph(spec);
  const auto t1 = clock_type::now();
  check_applied(reply);
  restored = static_cast<int>(reply.applied().restored());
  if (wrong)
    *wrong = wrong_bases(rt, params);
  return seconds_between(t0, t1) * 1e3;
}

int bench_restore(size_t params, int repeats) {
  params = mixers_for(params) * levels_per_mixer;
  const auto spec = load(mixer_chain(mixers_for(params), "null", 128));
  scratch_dir dir;
  const std::string db = dir.file("state.sqlite");
  fill_store(db, params);
  std::vector<double> with_store, without;
  int restored = 0, restored_none = 0;
  size_t wrong = 0;
  for (int r = 0; r < repeats; ++r) {
    with_store.push_back(timed_apply(spec, db, params, restored, r == 0 ? &wrong : nullptr));
    without.push_back(timed_apply(spec, "none", params, restored_none, nullptr));
  }
  const auto row = [](const char* what, const std::vector<double>& v, int n) {
    std::printf("| %s | %d | %.1f | %.1f | %.1f |\n", what, n, percentile(v, 0.5),
                *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()));
  };
  std::printf("\n== restore: apply_graph of sine -> %zu chained mixers -> output (%zu stored "
              "levels), null backend at 128 frames, %d alternating repeats, a fresh runtime "
              "each\n",
              mixers_for(params), params, repeats);
  std::printf("| apply_graph | restored values | median ms | min ms | max ms |\n"
              "|---|---:|---:|---:|---:|\n");
  row("with a store holding every level", with_store, restored);
  row("without a store (--state none)", without, restored_none);
  std::printf("| difference (the restore) | | %.1f | | |\n",
              percentile(with_store, 0.5) - percentile(without, 0.5));
  std::printf("bases checked after the first restore: %zu of %zu wrong\n", wrong, params);
  return restored == static_cast<int>(params) && wrong == 0 ? 0 : 1;
}

// -- (c) echo latency over gRPC ---------------------------------------------------------------

constexpr const char* echo_graph = R"(version: 1
name: echo-bench
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
nodes:
  - { id: osc, type: audio.sine }
  - { id: amp, type: audio.gain, params: { level: -6 } }
  - { id: out, type: audio.output, device: main }
edges:
  - osc.out -> amp.in
  - amp.out -> out.in
)";

/// A channel with its own TCP connection (gRPC would otherwise share one between channels).
std::shared_ptr<grpc::Channel> own_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

/// Arrival times of echoes at the subscribed client, by client_rev.
struct echo_board {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<uint64_t, clock_type::time_point> arrived;

  void put(uint64_t rev) {
    const auto now = clock_type::now();
    std::lock_guard lock(mtx);
    arrived[rev] = now;
    cv.notify_all();
  }
  std::optional<clock_type::time_point> wait(uint64_t rev) {
    std::unique_lock lock(mtx);
    if (!cv.wait_for(lock, 2s, [&] { return arrived.count(rev) > 0; }))
      return std::nullopt;
    return arrived[rev];
  }
};

struct latencies {
  std::vector<double> echo, set_reply, health, status;
};

/// One sample of each: a SetParam from client A (its echo timed at client B), then a health
/// Check and a GetStatus from A. Sequential, so no sample waits behind another.
bool sample(v1::NodeService::Stub& nodes, grpc::health::v1::Health::Stub& health,
            v1::SystemService::Stub& system, echo_board& board, uint64_t rev, latencies* out) {
  v1::SetParamRequest req;
  req.set_node("amp");
  req.set_param("level");
  req.mutable_value()->set_double_value(-20.0 + 0.001 * static_cast<double>(rev % 10000));
  req.mutable_origin()->set_client_id("echo-bench");
  req.mutable_origin()->set_client_rev(rev);
  const auto us = [](clock_type::time_point a, clock_type::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
  };
  v1::SetParamReply reply;
  grpc::ClientContext c1;
  const auto t0 = clock_type::now();
  if (!nodes.SetParam(&c1, req, &reply).ok())
    return false;
  const auto t1 = clock_type::now();
  const auto echoed = board.wait(rev);
  if (!echoed)
    return false;
  grpc::ClientContext c2;
  grpc::health::v1::HealthCheckResponse hr;
  const auto t2 = clock_type::now();
  health.Check(&c2, {}, &hr);
  const auto t3 = clock_type::now();
  grpc::ClientContext c3;
  v1::StatusReply sr;
  system.GetStatus(&c3, {}, &sr);
  const auto t4 = clock_type::now();
  if (out) {
    out->echo.push_back(us(t0, *echoed));
    out->set_reply.push_back(us(t0, t1));
    out->health.push_back(us(t2, t3));
    out->status.push_back(us(t3, t4));
  }
  return true;
}

int bench_echo(int samples) {
  sg::runtime_options ro;
  ro.state_path = "none";
  sg::runtime rt(ro);
  check_applied(rt.apply_graph(load(echo_graph)));
  sg::gateway gw(rt, sg::gateway_options{.listen = "127.0.0.1:0"});
  if (auto started = gw.start(); !started)
    throw std::runtime_error("gateway: " + started.error());
  gw.set_serving(true);
  auto a = own_channel(gw.address()), b = own_channel(gw.address());
  auto nodes = v1::NodeService::NewStub(a);
  auto health = grpc::health::v1::Health::NewStub(a);
  auto system = v1::SystemService::NewStub(a);
  auto events = v1::EventService::NewStub(b);
  echo_board board;
  grpc::ClientContext sub_ctx;
  v1::SubscribeRequest sub;
  sub.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  auto reader = events->Subscribe(&sub_ctx, sub);
  std::thread listener([&] {
    v1::Event ev;
    while (reader->Read(&ev))
      if (ev.has_param_changed() && ev.param_changed().origin().client_id() == "echo-bench")
        board.put(ev.param_changed().origin().client_rev());
  });
  latencies lat;
  const int warmup = std::max(100, samples / 20);
  int failed = 0;
  for (int i = 0; i < warmup + samples; ++i)
    failed += !sample(*nodes, *health, *system, board, static_cast<uint64_t>(i + 1),
                      i < warmup ? nullptr : &lat);
  sub_ctx.TryCancel();
  listener.join();
  gw.stop();

  std::printf("\n== echo: SetParam on connection A -> ParamChanged at subscriber B, loopback "
              "gRPC, in-process gateway, %d samples after %d warm-up (sequential)\n",
              samples, warmup);
  std::printf("| round trip | p50 us | p90 us | p99 us | max us |\n|---|---:|---:|---:|---:|\n");
  const auto row = [](const char* what, const std::vector<double>& v) {
    std::printf("| %s | %.0f | %.0f | %.0f | %.0f |\n", what, percentile(v, 0.5),
                percentile(v, 0.9), percentile(v, 0.99), percentile(v, 1.0));
  };
  row("SetParam sent (A) -> echo received (B)", lat.echo);
  row("SetParam unary (A), send -> reply", lat.set_reply);
  row("grpc.health.v1 Check unary (A)", lat.health);
  row("SystemService.GetStatus unary (A)", lat.status);
  std::printf("echo / health Check: p50 %.2fx, p99 %.2fx; failed samples: %d\n",
              percentile(lat.echo, 0.5) / percentile(lat.health, 0.5),
              percentile(lat.echo, 0.99) / percentile(lat.health, 0.99), failed);
  return failed == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_state - live state: writer throughput under audio, restore, echo"};
  app.require_subcommand(1);
  double seconds = 10;
  size_t writer_params = 1008, restore_params = 10000;
  uint32_t block = 64;
  uint64_t window = 20000;
  int repeats = 7, samples = 5000;
  auto* writer = app.add_subcommand("writer", "Persisted intents absorbed per second under audio");
  writer->add_option("--seconds", seconds, "Posting time")->capture_default_str();
  writer->add_option("--params", writer_params, "Parameters written (rounded up to 16s)")
    ->capture_default_str();
  writer->add_option("--block", block, "Audio block in frames")->capture_default_str();
  writer->add_option("--window", window, "Intents posted but not yet absorbed, at most")
    ->capture_default_str();
  std::string backend = "jack";
  writer->add_option("--backend", backend, "jack (its own dummy server; null when jackd is "
                                           "not installed) or null")
    ->check(CLI::IsMember({"jack", "null"}))
    ->capture_default_str();
  bool jack_realtime = false;
  writer->add_flag("--jack-realtime", jack_realtime,
                   "Run the JACK server realtime (SCHED_FIFO) instead of --no-realtime");
  auto* restore = app.add_subcommand("restore", "apply_graph with and without stored values");
  restore->add_option("--params", restore_params, "Stored parameters (rounded up to 16s)")
    ->capture_default_str();
  restore->add_option("--repeats", repeats, "Alternating runs of each")->capture_default_str();
  auto* echo = app.add_subcommand("echo", "SetParam -> echo at a second gRPC client");
  echo->add_option("--samples", samples, "Measured samples")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (writer->parsed())
      return bench_writer(seconds, writer_params, block, window, backend, jack_realtime);
    if (restore->parsed())
      return bench_restore(restore_params, repeats);
    return bench_echo(samples);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_state: %s\n", e.what());
    return 2;
  }
}
