// Sound in, on a real JACK server: a JACK dummy server and two JACK clients of the test's own
// (a source playing a known signal, a sink recording what reaches it), and the studiograph
// binary running audio.input -> audio.output with the connections declared in the graph.
// What the sink records is the source's signal sample for sample, delayed by exactly the
// latency studiograph reports; the source's port latency is passed on through studiograph's
// ports; connections survive a graph apply and are made again when the source comes back.

#include <jack/jack.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "studiograph/v1/service.grpc.pb.h"
#include "tests/integration/jack_server.hpp"
#include "tests/integration/process.hpp"
#include "tests/ports.hpp"
#include "tests/skip.hpp"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;

/// The source's signal at JACK frame `t`: distinct from one frame to the next, so a delay of
/// even one frame shows.
float signal_at(jack_nframes_t t) {
  return static_cast<float>((static_cast<uint64_t>(t) * 7919u) % 20000u) / 20000.0f - 0.5f;
}

constexpr jack_nframes_t source_latency = 256;  // what the source says its port lags by

/// A JACK client of the test's: "sgsrc:out" plays signal_at(frame), "sgsink:in" records
/// (frame, value) pairs into preallocated storage.
class test_client {
public:
  test_client(const std::string& name, bool source) : source_(source) {
    jack_status_t status{};
    client_ = jack_client_open(name.c_str(), JackNoStartServer, &status);
    if (!client_)
      return;
    port_ = jack_port_register(client_, source ? "out" : "in", JACK_DEFAULT_AUDIO_TYPE,
                               source ? JackPortIsOutput : JackPortIsInput, 0);
    frames_.resize(capacity);
    values_.resize(capacity);
    jack_set_process_callback(client_, process, this);
    jack_set_latency_callback(client_, latency, this);
    jack_set_xrun_callback(client_, on_xrun, this);
    if (!port_ || jack_activate(client_) != 0) {
      jack_client_close(client_);
      client_ = nullptr;
    }
  }
  ~test_client() {
    if (client_)
      jack_client_close(client_);
  }
  bool ok() const { return client_ != nullptr; }
  bool connected() const { return port_ && jack_port_connected(port_) > 0; }
  /// Starts recording (sink) from the next cycle on.
  void record() { recording_.store(true); }
  size_t recorded() const { return count_.load(std::memory_order_acquire); }
  /// Late cycles the server reported since this client began recording (any client's).
  int xruns_while_recording() const { return xruns_.load(); }
  jack_nframes_t frame(size_t i) const { return frames_[i]; }
  float value(size_t i) const { return values_[i]; }
  /// The capture latency range JACK computed for this client's port.
  jack_latency_range_t capture_latency() const {
    jack_latency_range_t r{};
    jack_port_get_latency_range(port_, JackCaptureLatency, &r);
    return r;
  }

  static constexpr size_t capacity = 48000;

private:
  static int process(jack_nframes_t n, void* arg) {
    auto* self = static_cast<test_client*>(arg);
    auto* buf = static_cast<float*>(jack_port_get_buffer(self->port_, n));
    const jack_nframes_t t0 = jack_last_frame_time(self->client_);
    if (self->source_) {
      for (jack_nframes_t i = 0; i < n; ++i)
        buf[i] = signal_at(t0 + i);
      return 0;
    }
    if (!self->recording_.load(std::memory_order_relaxed))
      return 0;
    size_t c = self->count_.load(std::memory_order_relaxed);
    for (jack_nframes_t i = 0; i < n && c < capacity; ++i, ++c) {
      self->frames_[c] = t0 + i;
      self->values_[c] = buf[i];
    }
    self->count_.store(c, std::memory_order_release);
    return 0;
  }
  static int on_xrun(void* arg) {
    auto* self = static_cast<test_client*>(arg);
    if (self->recording_.load())
      self->xruns_.fetch_add(1);
    return 0;
  }
  static void latency(jack_latency_callback_mode_t mode, void* arg) {
    auto* self = static_cast<test_client*>(arg);
    if (self->source_ && mode == JackCaptureLatency) {
      jack_latency_range_t r{source_latency, source_latency};
      jack_port_set_latency_range(self->port_, JackCaptureLatency, &r);
    }
  }

  bool source_;
  jack_client_t* client_ = nullptr;
  jack_port_t* port_ = nullptr;
  std::vector<jack_nframes_t> frames_;
  std::vector<float> values_;
  std::atomic<size_t> count_{0};
  std::atomic<bool> recording_{false};
  std::atomic<int> xruns_{0};
};

std::string graph_yaml(bool with_meter) {
  std::string g = R"(version: 1
name: duplex
devices:
  card: { kind: audio, backend: jack, sample_rate: 48000, block: 128, client_name: sgdut }
nodes:
  - { id: mic, type: audio.input, device: card, params: { connect: "sgsrc:out" } }
  - { id: main, type: audio.output, device: card, params: { channels: 1, connect: [sgsink:in] } }
)";
  if (with_meter)
    g += "  - { id: meter, type: audio.meter }\n";
  g += "edges:\n  - mic.out -> main.in\n";
  if (with_meter)
    g += "  - mic.out -> meter.in\n";
  return g;
}

/// The ports `port` is connected to, as `jack_lsp -c` lists them (indented under it).
std::vector<std::string> connections_of(const std::string& lsp, const std::string& port) {
  std::vector<std::string> out;
  std::istringstream in(lsp);
  bool under = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("   ")) {
      under = line == port;
      continue;
    }
    if (under)
      out.push_back(line.substr(3));
  }
  return out;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (int i = 0; i < 100000 && std::chrono::steady_clock::now() < until; ++i) {
    if (done())
      return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class duplex : public ::testing::Test {
protected:
  void SetUp() override {
    if (!sg::test::have("jackd") || !sg::test::have("jack_lsp"))
      SG_SKIP_MISSING("jackd/jack_lsp not installed (package jackd2)");
    server_ = std::make_unique<sg::test::jack_server>(128, false);
    ASSERT_TRUE(server_->up()) << "the JACK dummy server did not start; see " << server_->log();
    source_ = std::make_unique<test_client>("sgsrc", true);
    sink_ = std::make_unique<test_client>("sgsink", false);
    ASSERT_TRUE(source_->ok() && sink_->ok()) << "the test's JACK clients did not open";
    dir_ = "/tmp/" + server_->name() + "-duplex";
    sg::test::run("mkdir -p " + dir_);
    graph_file_ = dir_ + "/duplex.yaml";
    sg::test::run("cat > " + graph_file_ + " <<'EOF'\n" + graph_yaml(false) + "EOF");
    address_ = "127.0.0.1:" + std::to_string(sg::test::free_loopback_port());
    studiograph_ = std::make_unique<sg::test::child>(
      std::vector<std::string>{STUDIOGRAPH_PATH, "run", graph_file_, "--listen", address_,
                               "--duration", "120", "--state", "none"},
      dir_ + "/studiograph.log");
    channel_ = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
    system_ = v1::SystemService::NewStub(channel_);
    graph_ = v1::GraphService::NewStub(channel_);
    ASSERT_TRUE(wait_until([&] { return device().state() == v1::DeviceStatus::STATE_RUNNING; },
                           30s))
      << "studiograph's device never ran; see " << dir_ << "/studiograph.log";
  }

  void TearDown() override {
    studiograph_.reset();
    source_.reset();
    sink_.reset();
    server_.reset();
    if (!HasFailure())
      sg::test::run("rm -rf " + dir_);
  }

  v1::DeviceStatus device() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 2s);
    v1::StatusReply reply;
    if (!system_->GetStatus(&ctx, v1::StatusRequest{}, &reply).ok() || reply.devices_size() == 0)
      return {};
    return reply.devices(0);
  }

  /// Records one second at the sink and returns the delay (in frames) that turns the source's
  /// signal into what was recorded, sample for sample in every cycle the server ran on time;
  /// nullopt when no single delay explains them. A cycle that came out otherwise must be
  /// explained by a late cycle the server reported meanwhile (this machine wakes late now and
  /// then; a late cycle can leave one stale buffer on each side of it).
  std::optional<jack_nframes_t> recorded_delay(test_client& sink) {
    sink.record();
    EXPECT_TRUE(wait_until([&] { return sink.recorded() >= test_client::capacity; }, 20s));
    const size_t n = sink.recorded();
    std::optional<jack_nframes_t> delay;
    auto cycle_matches = [&](size_t first, jack_nframes_t d) {
      for (size_t i = first; i < n && i < first + 128; ++i)
        if (sink.value(i) != signal_at(sink.frame(i) - d))
          return false;
      return true;
    };
    for (size_t first = 0; first < n && !delay; first += 128)
      for (jack_nframes_t d = 0; d < 4096 && !delay; ++d)
        if (cycle_matches(first, d))
          delay = d;
    if (!delay)
      return std::nullopt;
    size_t cycles = 0, off = 0;
    for (size_t first = 0; first < n; first += 128, ++cycles)
      off += cycle_matches(first, *delay) ? 0 : 1;
    // Late-cycle notices come on another thread, a little after the cycle: give the last ones
    // time to arrive.
    std::this_thread::sleep_for(300ms);
    const int late = sink.xruns_while_recording();
    std::cout << "recorded " << cycles << " cycles: " << off << " not at delay " << *delay
              << ", the server reported " << late << " late cycles meanwhile\n";
    EXPECT_LE(off, 2u * static_cast<size_t>(late))
      << "cycles that differ without a late cycle to explain them";
    EXPECT_LE(2 * off, cycles) << "most cycles run on time even on a busy machine";
    return delay;
  }

  std::unique_ptr<sg::test::jack_server> server_;
  std::unique_ptr<test_client> source_, sink_;
  std::unique_ptr<sg::test::child> studiograph_;
  std::string dir_, graph_file_, address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::SystemService::Stub> system_;
  std::unique_ptr<v1::GraphService::Stub> graph_;
};

TEST_F(duplex, ports_are_named_after_the_nodes_and_connected_as_declared) {
  ASSERT_TRUE(wait_until([&] { return source_->connected() && sink_->connected(); }, 20s));
  const auto lsp = sg::test::run("jack_lsp -s " + server_->name() + " -c 2>/dev/null").output;
  EXPECT_EQ(connections_of(lsp, "sgdut:mic"), std::vector<std::string>{"sgsrc:out"}) << lsp;
  EXPECT_EQ(connections_of(lsp, "sgdut:main"), std::vector<std::string>{"sgsink:in"})
    << "only what the graph declares, not the sound card:\n" << lsp;
  const auto d = device();
  EXPECT_EQ(d.backend(), "jack");
  EXPECT_EQ(d.inputs(), 1u) << "mic lists input 1";
  EXPECT_EQ(d.channels(), 2u) << "two outputs unless the graph says otherwise";
}

TEST_F(duplex, the_signal_passes_sample_for_sample_delayed_by_the_reported_latency) {
  ASSERT_TRUE(wait_until([&] { return source_->connected() && sink_->connected(); }, 20s));
  const auto delay = recorded_delay(*sink_);
  ASSERT_TRUE(delay) << "what the sink recorded is not the source's signal at any one delay";
  // Inputs are rendered in the block they arrive: studiograph adds no delay of its own.
  EXPECT_EQ(*delay, 0u);
  // It reports the source's latency as its input latency and passes it on to its outputs.
  ASSERT_TRUE(wait_until([&] { return device().input_latency_frames() == source_latency; }, 10s))
    << "input latency " << device().input_latency_frames();
  EXPECT_EQ(sink_->capture_latency().max, source_latency + *delay)
    << "the sink sees the source's latency through studiograph";
}

TEST_F(duplex, connections_survive_a_graph_apply_and_come_back_with_the_other_program) {
  ASSERT_TRUE(wait_until([&] { return source_->connected() && sink_->connected(); }, 20s));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  v1::ApplyGraphRequest req;
  req.set_yaml(graph_yaml(true));
  req.set_file_name("duplex-with-meter.yaml");
  v1::ApplyGraphReply reply;
  ASSERT_TRUE(graph_->ApplyGraph(&ctx, req, &reply).ok());
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  EXPECT_TRUE(source_->connected() && sink_->connected()) << "a plan swap keeps the client";
  // The source goes away and comes back under the same name: connected again, same signal.
  source_.reset();
  source_ = std::make_unique<test_client>("sgsrc", true);
  ASSERT_TRUE(source_->ok());
  ASSERT_TRUE(wait_until([&] { return source_->connected(); }, 10s))
    << "studiograph did not connect the source again";
  const auto delay = recorded_delay(*sink_);
  ASSERT_TRUE(delay);
  EXPECT_EQ(*delay, 0u);
}

} // namespace
