// bench_gateway — the gRPC gateway under load, and its latency next to a raw gRPC round trip.
// One process holds the real runtime (null audio device), the real gateway on a loopback port
// and real gRPC clients, each on its own connection.
//
//   bench_gateway latency [--samples 5000]
//     SetParam acknowledgement p50/p99 next to grpc.health.v1 Check on the same connection (a
//     raw unary round trip through the same server, no actors), without and with access
//     tokens; and the echo: SetParam sent on connection A -> its ParamChanged read by a
//     subscriber on connection B. Targets: SetParam p50 <= 1.3x health p50, echo p99 <= 1 ms.
//
//   bench_gateway load [--subscribers 64] [--rate 5000] [--seconds 60] [--senders 8]
//                      [--groups 1] [--slow 1] [--max-rss-mb 256] [--min-rate-share 0.9]
//     `senders` connections send SetParam at `rate` per second in total, spread over 16 gain
//     nodes; `subscribers` connections follow the ParamChanged events (subscriber i watches
//     node group i % groups; 1: every node); `slow` more subscribers read one event per 5 ms.
//     Checks: every normal subscriber's seq is contiguous and it saw every accepted intent of
//     its nodes, each slow one was resynced (seq jump then Snapshot) instead of growing
//     memory, the process RSS grew by less than max-rss-mb, and at least min-rate-share of
//     the rate was reached (senders are paced and synchronous, so an overloaded machine shows
//     as a lower rate, never as lost events). Exit 0 when all hold.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "actors/gateway/gateway.hpp"
#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"

namespace {

namespace v1 = studiograph::v1;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int gain_nodes = 16;

std::string bench_graph() {
  std::ostringstream g;
  g << "version: 1\nname: gateway-bench\ndevices:\n"
       "  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }\n"
       "nodes:\n  - { id: osc, type: audio.sine }\n";
  for (int i = 0; i < gain_nodes; ++i)
    g << "  - { id: g" << i << ", type: audio.gain }\n";
  g << "  - { id: out, type: audio.output, device: main }\nedges:\n  - osc.out -> g0.in\n";
  for (int i = 1; i < gain_nodes; ++i)
    g << "  - g" << i - 1 << ".out -> g" << i << ".in\n";
  g << "  - g" << gain_nodes - 1 << ".out -> out.in\n";
  return g.str();
}

/// The real runtime running the bench graph, and a gateway on a free loopback port.
struct server {
  explicit server(sg::gateway_options gw_opts = {.listen = "127.0.0.1:0"}) {
    sg::runtime_options opts;
    opts.state_path = "none";
    rt = std::make_unique<sg::runtime>(opts);
    auto loaded = sg::load_graph_string(bench_graph(), "gateway-bench.yaml");
    if (!loaded.ok() || rt->apply_graph(loaded.spec).status().code() != 0) {
      std::fprintf(stderr, "bench_gateway: the bench graph does not start\n");
      std::exit(2);
    }
    gw = std::make_unique<sg::gateway>(*rt, gw_opts);
    if (auto started = gw->start(); !started) {
      std::fprintf(stderr, "bench_gateway: %s\n", started.error().c_str());
      std::exit(2);
    }
    gw->set_serving(true);
  }
  ~server() {
    gw.reset();
    rt.reset();
  }
  std::unique_ptr<sg::runtime> rt;
  std::unique_ptr<sg::gateway> gw;
};

std::shared_ptr<grpc::Channel> own_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> context(const std::string& token,
                                             std::chrono::milliseconds timeout = 5s) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + timeout);
  if (!token.empty())
    ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

double us(clock_type::time_point a, clock_type::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

size_t rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  size_t kb = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> kb;
      return kb;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

// --- latency ----------------------------------------------------------------------------------

/// When each echo (by client_rev) reached the subscriber.
struct echo_board {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<uint64_t, clock_type::time_point> seen;

  void arrived(uint64_t rev) {
    std::lock_guard lock(mtx);
    seen[rev] = clock_type::now();
    cv.notify_all();
  }
  std::optional<clock_type::time_point> wait(uint64_t rev) {
    std::unique_lock lock(mtx);
    if (!cv.wait_for(lock, 2s, [&] { return seen.count(rev) > 0; }))
      return std::nullopt;
    return seen[rev];
  }
};

struct latency_result {
  std::vector<double> health, ack, echo;
};

latency_result measure(const std::string& address, const std::string& token, int samples) {
  auto a = own_channel(address);
  auto health = grpc::health::v1::Health::NewStub(a);
  auto nodes = v1::NodeService::NewStub(a);
  auto b = own_channel(address);
  auto events = v1::EventService::NewStub(b);

  echo_board board;
  v1::SubscribeRequest filter;
  filter.add_nodes("g0");
  filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  auto sub_ctx = context(token, 600s);
  auto reader = events->Subscribe(sub_ctx.get(), filter);
  v1::Event first;
  if (!reader->Read(&first)) {
    std::fprintf(stderr, "bench_gateway: cannot subscribe\n");
    std::exit(2);
  }
  std::thread follower([&] {
    v1::Event ev;
    while (reader->Read(&ev))
      if (ev.has_param_changed() && ev.param_changed().origin().client_id() == "bench")
        board.arrived(ev.param_changed().origin().client_rev());
  });

  latency_result out;
  const int warmup = std::min(500, samples / 5);
  for (int i = 0; i < warmup + samples; ++i) {
    const bool keep = i >= warmup;
    grpc::health::v1::HealthCheckRequest hreq;
    grpc::health::v1::HealthCheckResponse hrep;
    auto t0 = clock_type::now();
    (void)health->Check(context(token).get(), hreq, &hrep);
    auto t1 = clock_type::now();
    if (keep)
      out.health.push_back(us(t0, t1));

    v1::SetParamRequest req;
    req.set_node("g0");
    req.set_param("level");
    req.mutable_value()->set_double_value(-6 - (i % 2));
    req.mutable_origin()->set_client_id("bench");
    req.mutable_origin()->set_client_rev(static_cast<uint64_t>(i + 1));
    v1::SetParamReply reply;
    t0 = clock_type::now();
    auto s = nodes->SetParam(context(token).get(), req, &reply);
    t1 = clock_type::now();
    if (!s.ok()) {
      std::fprintf(stderr, "bench_gateway: SetParam: %s\n", s.error_message().c_str());
      std::exit(2);
    }
    auto echoed = board.wait(static_cast<uint64_t>(i + 1));
    if (keep) {
      out.ack.push_back(us(t0, t1));
      if (echoed)
        out.echo.push_back(us(t0, *echoed));
    }
  }
  sub_ctx->TryCancel();
  follower.join();
  return out;
}

void row(const char* what, const std::vector<double>& v, double ref_p50 = 0) {
  std::printf("  %-44s p50 %7.1f us  p99 %7.1f us  n=%zu", what, percentile(v, 0.5),
              percentile(v, 0.99), v.size());
  if (ref_p50 > 0)
    std::printf("  (%.2fx health p50)", percentile(v, 0.5) / ref_p50);
  std::printf("\n");
}

int bench_latency(int samples) {
  std::printf("== gateway latency, loopback, one process, %u cores, %d samples each\n",
              std::thread::hardware_concurrency(), samples);
  server open;
  auto plain = measure(open.gw->address(), "", samples);
  const double raw = percentile(plain.health, 0.5);
  std::printf("\nno access tokens:\n");
  row("grpc.health.v1 Check (raw unary reference)", plain.health);
  row("SetParam acknowledged", plain.ack, raw);
  row("SetParam sent (A) -> echo read by subscriber B", plain.echo);

  char dir[] = "/tmp/sg-bench-XXXXXX";
  if (!mkdtemp(dir))
    return 2;
  const std::string tokens = std::string(dir) + "/tokens";
  std::ofstream(tokens) << "control bench-control-token-0123456789\n";
  chmod(tokens.c_str(), 0600);
  server secured({.listen = "127.0.0.1:0", .token_file = tokens});
  auto authed = measure(secured.gw->address(), "bench-control-token-0123456789", samples);
  const double raw_auth = percentile(authed.health, 0.5);
  std::printf("\nwith access tokens (every call checked):\n");
  row("grpc.health.v1 Check (raw unary reference)", authed.health);
  row("SetParam acknowledged", authed.ack, raw_auth);
  row("SetParam sent (A) -> echo read by subscriber B", authed.echo);
  std::remove(tokens.c_str());
  rmdir(dir);

  const double ratio = percentile(plain.ack, 0.5) / raw;
  const double echo_p99 = percentile(plain.echo, 0.99);
  std::printf("\ntargets: SetParam p50 <= 1.3x raw: %.2fx %s; echo p99 <= 1000 us: %.0f us %s\n",
              ratio, ratio <= 1.3 ? "met" : "NOT met", echo_p99,
              echo_p99 <= 1000 ? "met" : "NOT met");
  return 0;
}

// --- load -----------------------------------------------------------------------------------

struct load_options {
  int subscribers = 64;
  int rate = 5000;
  double seconds = 60;
  int senders = 8;
  int groups = 1;
  int slow = 1;
  size_t max_rss_mb = 256;
  double min_rate_share = 0.9;  // of `rate` that must be reached (0: report only)
};

struct follower {
  int group = -1;  // -1: every node
  bool slow = false;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::thread thread;
  // Written by the follower thread; read after it joined or under mtx.
  std::mutex mtx;
  uint64_t last_seq = 0;
  uint64_t gaps = 0;       // a seq jump not followed by a Snapshot
  uint64_t resyncs = 0;    // a seq jump followed by a Snapshot
  uint64_t snapshots = 0;
  uint64_t changes = 0;
  bool jumped = false;
};

std::string node_of(int i) {
  return "g" + std::to_string(i % gain_nodes);
}

void follow(follower& f, grpc::ClientReader<v1::Event>& reader) {
  v1::Event ev;
  while (reader.Read(&ev)) {
    std::lock_guard lock(f.mtx);
    if (ev.seq() != f.last_seq + 1) {
      f.jumped = true;
    }
    if (f.jumped) {
      if (ev.has_snapshot())
        ++f.resyncs;
      else
        ++f.gaps;
      f.jumped = false;
    }
    f.last_seq = ev.seq();
    if (ev.has_snapshot())
      ++f.snapshots;
    else if (ev.has_param_changed())
      ++f.changes;
    if (f.slow)
      std::this_thread::sleep_for(5ms);
  }
}

/// The subscribers of a load run: `subscribers` normal ones (subscriber i follows node group
/// i % groups, or every node with one group) and `slow` ones reading one event per 5 ms, each on
/// its own connection and reading on its own thread.
struct audience {
  // Declared so that the readers go before the channels and the followers holding their
  // contexts.
  std::vector<std::unique_ptr<follower>> followers;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::ClientReader<v1::Event>>> readers;

  /// True once every slow subscriber has been resynced at least once.
  bool slow_ones_resynced() {
    for (auto& f : followers)
      if (f->slow) {
        std::lock_guard lock(f->mtx);
        if (f->resyncs == 0)
          return false;
      }
    return true;
  }

  /// Ends every subscription and waits for the readers' threads.
  void stop() {
    for (auto& f : followers)
      f->ctx->TryCancel();
    for (auto& f : followers)
      f->thread.join();
  }
};

/// Subscribes the load run's followers to `address` and starts their reader threads.
void subscribe(audience& all, const std::string& address, const load_options& o) {
  for (int i = 0; i < o.subscribers + o.slow; ++i) {
    auto f = std::make_unique<follower>();
    f->slow = i >= o.subscribers;
    v1::SubscribeRequest filter;
    filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
    if (o.groups > 1 && !f->slow) {
      f->group = i % o.groups;
      for (int n = 0; n < gain_nodes; ++n)
        if (n % o.groups == f->group)
          filter.add_nodes(node_of(n));
    }
    if (f->slow) {
      // A slow reader with a small receive window: without it gRPC's window grows to
      // megabytes and the backlog waits in the client instead of reaching the server's bound.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      all.channels.push_back(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
    } else {
      all.channels.push_back(own_channel(address));
    }
    f->ctx = context("", std::chrono::seconds(static_cast<int>(o.seconds) + 120));
    all.readers.push_back(
      v1::EventService::NewStub(all.channels.back())->Subscribe(f->ctx.get(), filter));
    follower* raw = f.get();
    auto* reader = all.readers.back().get();
    f->thread = std::thread([raw, reader] { follow(*raw, *reader); });
    all.followers.push_back(std::move(f));
  }
}

/// The process's highest RSS (kB), sampled every 250 ms on a thread of its own until stop().
class rss_peak {
public:
  explicit rss_peak(size_t start_kb) : max_kb_(start_kb), sampler_([this] { sample(); }) {}
  ~rss_peak() {
    if (sampler_.joinable())
      stop();
  }
  /// Stops sampling; the highest RSS seen.
  size_t stop() {
    sampling_ = false;
    sampler_.join();
    return max_kb_.load();
  }

private:
  void sample() {
    while (sampling_) {
      size_t now = rss_kb();
      size_t prev = max_kb_.load();
      while (now > prev && !max_kb_.compare_exchange_weak(prev, now)) {
      }
      std::this_thread::sleep_for(250ms);
    }
  }
  std::atomic<bool> sampling_{true};
  std::atomic<size_t> max_kb_;
  std::thread sampler_;  // last: starts once the counters above exist
};

/// What the senders of a load run achieved: intents accepted per node, their acknowledgement
/// latencies, refusals, slots missed, and how long the sending took.
struct intents_sent {
  std::mutex mtx;  // guards accepted and ack_us while senders finish
  std::vector<uint64_t> accepted = std::vector<uint64_t>(gain_nodes, 0);
  std::vector<double> ack_us;
  std::atomic<uint64_t> refused{0}, late{0};
  double seconds = 0;
  uint64_t total = 0;
};

/// One sender (`s` of `o.senders`): paced SetParams on its own connection from `start` until
/// `end`, or until 30 s later while a slow subscriber has not been resynced yet.
void send_paced(int s, const std::string& address, const load_options& o, audience& all,
                clock_type::time_point start, clock_type::time_point end, intents_sent& out) {
  const auto period = std::chrono::duration_cast<clock_type::duration>(
    std::chrono::duration<double>(static_cast<double>(o.senders) / o.rate));
  auto stub = v1::NodeService::NewStub(own_channel(address));
  std::vector<uint64_t> mine(gain_nodes, 0);
  std::vector<double> lat;
  uint64_t rev = 0;
  auto next = start + period * s / o.senders;
  // Bounded in time: a machine that cannot keep the pace sends fewer. Only while a slow
  // subscriber has not been pushed past the server's bound yet (a loaded machine sends
  // too few intents in `seconds` for that) does it go on, for at most 30 s more.
  while (clock_type::now() < end || (clock_type::now() < end + 30s && !all.slow_ones_resynced())) {
    std::this_thread::sleep_until(next);
    const int node = static_cast<int>((rev * o.senders + s) % gain_nodes);
    v1::SetParamRequest req;
    req.set_node(node_of(node));
    req.set_param("level");
    req.mutable_value()->set_double_value(-1.0 * static_cast<double>(rev % 60));
    req.mutable_origin()->set_client_id("load-" + std::to_string(s));
    req.mutable_origin()->set_client_rev(++rev);
    v1::SetParamReply reply;
    auto t0 = clock_type::now();
    auto status = stub->SetParam(context("").get(), req, &reply);
    if (status.ok()) {
      ++mine[node];
      lat.push_back(us(t0, clock_type::now()));
    } else {
      ++out.refused;
    }
    next += period;
    if (clock_type::now() > next + 100ms)
      ++out.late;  // this sender could not keep its pace
  }
  std::lock_guard lock(out.mtx);
  for (int n = 0; n < gain_nodes; ++n)
    out.accepted[n] += mine[n];
  out.ack_us.insert(out.ack_us.end(), lat.begin(), lat.end());
}

/// Runs the senders for `o.seconds` (see send_paced) and tallies what they sent.
void send_intents(const std::string& address, const load_options& o, audience& all,
                  intents_sent& out) {
  std::vector<std::thread> senders;
  const auto start = clock_type::now();
  const auto end = start + std::chrono::duration_cast<clock_type::duration>(
                             std::chrono::duration<double>(o.seconds));
  for (int s = 0; s < o.senders; ++s)
    senders.emplace_back([&, s] { send_paced(s, address, o, all, start, end, out); });
  for (auto& t : senders)
    t.join();
  out.seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  for (auto a : out.accepted)
    out.total += a;
}

/// The accepted intents subscriber `f` should have seen: those of its node group, or all.
uint64_t expected_for(const follower& f, const intents_sent& sent, int groups) {
  if (f.group < 0)
    return sent.total;
  uint64_t n = 0;
  for (int i = 0; i < gain_nodes; ++i)
    if (i % groups == f.group)
      n += sent.accepted[i];
  return n;
}

/// Waits (30 s at most in all) until every normal subscriber has read what it should.
void drain(audience& all, const intents_sent& sent, int groups) {
  const auto drain_until = clock_type::now() + 30s;
  for (auto& f : all.followers) {
    if (f->slow)
      continue;
    while (clock_type::now() < drain_until) {
      {
        std::lock_guard lock(f->mtx);
        if (f->changes >= expected_for(*f, sent, groups))
          break;
      }
      std::this_thread::sleep_for(10ms);
    }
  }
}

/// Checks a finished load run against its bounds, prints its figures and verdict; the exit
/// code (0: every check held).
int report_load(const load_options& o, const audience& all, const intents_sent& sent,
                size_t rss_start, size_t rss_max) {
  uint64_t gaps = 0, short_of = 0, slow_resyncs = 0, normal_resyncs = 0;
  for (auto& f : all.followers) {
    if (f->slow) {
      slow_resyncs += f->resyncs;
      continue;
    }
    gaps += f->gaps;
    normal_resyncs += f->resyncs;
    if (f->changes != expected_for(*f, sent, o.groups))
      ++short_of;
  }
  bool ok = gaps == 0 && normal_resyncs == 0 && short_of == 0 && sent.refused == 0;
  if (o.slow > 0)
    ok = ok && slow_resyncs > 0;
  const size_t grown_mb = (rss_max - std::min(rss_max, rss_start)) / 1024;
  ok = ok && grown_mb < o.max_rss_mb;
  const uint64_t total = sent.total;
  const double sent_s = sent.seconds;
  const double achieved = static_cast<double>(total) / sent_s;
  ok = ok && achieved >= o.min_rate_share * o.rate;

  std::printf("intents accepted %llu in %.1f s (%.0f/s), refused %llu, sender slots late %llu\n",
              static_cast<unsigned long long>(total), sent_s, static_cast<double>(total) / sent_s,
              static_cast<unsigned long long>(sent.refused.load()),
              static_cast<unsigned long long>(sent.late.load()));
  std::printf("SetParam ack under load: p50 %.0f us, p99 %.0f us\n", percentile(sent.ack_us, 0.5),
              percentile(sent.ack_us, 0.99));
  std::printf("events delivered to normal subscribers: %llu\n", [&] {
    unsigned long long n = 0;
    for (auto& f : all.followers)
      if (!f->slow)
        n += f->changes;
    return n;
  }());
  std::printf("normal subscribers: seq gaps %llu, resyncs %llu, missing intents at %llu of %d\n",
              static_cast<unsigned long long>(gaps), static_cast<unsigned long long>(normal_resyncs),
              static_cast<unsigned long long>(short_of), o.subscribers);
  std::printf("slow subscribers: resyncs %llu (each a seq jump then a fresh Snapshot)\n",
              static_cast<unsigned long long>(slow_resyncs));
  std::printf("RSS: start %zu MiB, max %zu MiB (+%zu MiB, bound %zu MiB)\n", rss_start / 1024,
              rss_max / 1024, grown_mb, o.max_rss_mb);
  std::printf("load: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}

int bench_load(const load_options& o) {
  std::printf("== gateway load: %d subscribers (+%d slow), %d intents/s from %d connections for "
              "%.0f s, %d node group(s), %u cores\n",
              o.subscribers, o.slow, o.rate, o.senders, o.seconds, o.groups,
              std::thread::hardware_concurrency());
  server srv({.listen = "127.0.0.1:0",
              .max_subscribers = 1024,
              .max_subscribers_per_client = 4,
              .max_intents_per_s = 0});
  const std::string address = srv.gw->address();
  const size_t rss_start = rss_kb();

  audience all;
  subscribe(all, address, o);
  std::this_thread::sleep_for(500ms);
  rss_peak rss(rss_start);

  // Intents, paced per sender; accepted ones are counted per node.
  intents_sent sent;
  send_intents(address, o, all, sent);

  // Let the normal subscribers drain (bounded), then stop everyone.
  drain(all, sent, o.groups);
  const size_t rss_max = rss.stop();
  all.stop();
  return report_load(o, all, sent, rss_start, rss_max);
}

} // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](const char* name, double fallback) {
    for (int i = 2; i + 1 < argc; ++i)
      if (std::string(argv[i]) == name)
        return std::atof(argv[i + 1]);
    return fallback;
  };
  if (mode == "latency")
    return bench_latency(static_cast<int>(arg("--samples", 5000)));
  if (mode == "load") {
    load_options o;
    o.subscribers = static_cast<int>(arg("--subscribers", o.subscribers));
    o.rate = static_cast<int>(arg("--rate", o.rate));
    o.seconds = arg("--seconds", o.seconds);
    o.senders = static_cast<int>(arg("--senders", o.senders));
    o.groups = std::max(1, static_cast<int>(arg("--groups", o.groups)));
    o.slow = static_cast<int>(arg("--slow", o.slow));
    o.max_rss_mb = static_cast<size_t>(arg("--max-rss-mb", static_cast<double>(o.max_rss_mb)));
    o.min_rate_share = arg("--min-rate-share", o.min_rate_share);
    return bench_load(o);
  }
  std::fprintf(stderr,
               "usage: bench_gateway latency [--samples N]\n"
               "       bench_gateway load [--subscribers 64] [--rate 5000] [--seconds 60] "
               "[--senders 8] [--groups 1] [--slow 1] [--max-rss-mb 256] "
               "[--min-rate-share 0.9]\n");
  return 1;
}
