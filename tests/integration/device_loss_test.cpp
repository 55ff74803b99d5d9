// Device loss and recovery, end to end: studiograph plays through a JACK dummy server started
// here; the server is ended three times (SIGTERM: an orderly shutdown that tells its clients;
// SIGKILL: the socket just closes). Each time the device must report FAILED ("device lost"),
// keep answering, and come back by itself once a server of the same name runs again: RUNNING,
// `recoveries` counted, its ports wired to the playback ports again. Afterwards blocks advance
// at the clock and it is the same engine: a committed parameter is still the node's and still
// sets the level the meter reads.
//
// A studiograph that stops answering while the server is gone is reported with a backtrace of
// every thread (gdb): RtAudio's JACK backend closes the stream from a thread of its own when
// the server shuts down, and libjack can deadlock there.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tests/ports.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"
#include "tests/integration/process.hpp"
#include "tests/skip.hpp"

extern char** environ;

namespace {

namespace v1 = studiograph::v1;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr const char* graph_yaml = R"(version: 1
name: loss
devices:
  main: { kind: audio, backend: jack, sample_rate: 48000, block: 128, channels: 2 }
nodes:
  - { id: tone, type: audio.osc, params: { frequency: 441, level: -12 } }
  - { id: amp, type: audio.gain, params: { level: -6 } }
  - { id: meter, type: audio.meter }
  - { id: out, type: audio.output, device: main }
edges:
  - tone.out -> amp.in
  - amp.out -> out.in
  - amp.out -> meter.in
)";

/// A child process that exposes its pid (signals, gdb). fork + exec with PR_SET_PDEATHSIG, as
/// in tests/crash: a test killed from outside takes its JACK server and studiograph along.
class process {
public:
  process(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ != 0)
      return;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execvpe(args[0], args.data(), environ);
    _exit(127);
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  ~process() { stop(2s); }

  pid_t pid() const { return pid_; }

  bool alive() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
    }
    return pid_ > 0;
  }

  void signal(int sig) {
    if (alive())
      kill(pid_, sig);
  }

  /// Waits up to `grace` for the exit; its status, or nothing while it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds grace) {
    const auto deadline = steady::now() + grace;
    while (alive() && steady::now() < deadline)
      std::this_thread::sleep_for(10ms);
    return alive() ? std::nullopt : std::optional<int>(exit_status_);
  }

  /// Sends `sig`, waits up to `grace`, then SIGKILL; returns the exit status.
  int end(int sig, std::chrono::milliseconds grace) {
    signal(sig);
    if (auto status = wait_exit(grace))
      return *status;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return exit_status_ = 128 + SIGKILL;
  }

  int stop(std::chrono::milliseconds grace = 5s) { return end(SIGTERM, grace); }

private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};


double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

constexpr uint32_t losses = 3;  // server losses (and recoveries) per test

/// Parameterised over the signal that ends the JACK server.
class device_loss : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override {
    if (!sg::test::have("jackd") || !sg::test::have("jack_lsp"))
      SG_SKIP_MISSING("jackd/jack_lsp not installed (package jackd2)");
    char tmpl[] = "/tmp/sg-loss-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    server_ = "sg-loss-" + std::to_string(getpid()) + "-" + std::to_string(GetParam());
    setenv("JACK_DEFAULT_SERVER", server_.c_str(), 1);
    setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
    if (!start_jack())
      GTEST_FAIL() << "the JACK dummy server did not start (see " << dir_ / "jackd.log" << ")";
    std::ofstream(dir_ / "loss.yaml") << graph_yaml;
    address_ = "127.0.0.1:" + std::to_string(sg::test::free_loopback_port());
    studiograph_ = std::make_unique<process>(
      std::vector<std::string>{STUDIOGRAPH_PATH, "run", (dir_ / "loss.yaml").string(), "--listen",
                               address_, "--state", "none"},
      dir_ / "studiograph.log");
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    auto channel = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
    ASSERT_TRUE(wait_serving(channel)) << "gateway never SERVING; see " << dir_;
    nodes_ = v1::NodeService::NewStub(channel);
    system_ = v1::SystemService::NewStub(channel);
    events_ = v1::EventService::NewStub(channel);
  }

  void TearDown() override {
    studiograph_.reset();
    jackd_.reset();
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::cout << "kept " << dir_ << " (jackd.log, studiograph.log)" << std::endl;
    }
  }

  /// Starts the server and waits until it accepts clients.
  bool start_jack() {
    jackd_ = std::make_unique<process>(
      std::vector<std::string>{"nice", "-n", "-10", "jackd", "--no-realtime", "-n", server_, "-d",
                               "dummy", "-r", "48000", "-p", "128"},
      dir_ / "jackd.log");
    for (int i = 0; i < 100; ++i) {
      if (sg::test::run("jack_lsp -s " + server_ + " >/dev/null 2>&1").exit_code == 0)
        return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  static bool wait_serving(const std::shared_ptr<grpc::Channel>& channel) {
    auto health = grpc::health::v1::Health::NewStub(channel);
    for (int i = 0; i < 150; ++i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      grpc::health::v1::HealthCheckResponse resp;
      if (health->Check(&ctx, {}, &resp).ok() &&
          resp.status() == grpc::health::v1::HealthCheckResponse::SERVING)
        return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  /// The device's status; nothing when studiograph does not answer within 3 s.
  std::optional<v1::DeviceStatus> device() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 3s);
    v1::StatusReply reply;
    if (!system_->GetStatus(&ctx, v1::StatusRequest{}, &reply).ok() || reply.devices_size() == 0)
      return std::nullopt;
    return reply.devices(0);
  }

  /// Polls the device status until `done` holds or `timeout` passes. A studiograph that exits
  /// or stops answering fails the test with every thread's backtrace.
  template <class Pred>
  std::optional<v1::DeviceStatus> wait_device(Pred done, std::chrono::seconds timeout) {
    const auto deadline = steady::now() + timeout;
    std::optional<v1::DeviceStatus> d;
    while (steady::now() < deadline) {
      if (!studiograph_->alive()) {
        ADD_FAILURE() << "studiograph exited; see " << dir_ / "studiograph.log";
        return std::nullopt;
      }
      d = device();
      if (!d) {
        ADD_FAILURE() << "studiograph stopped answering GetStatus; its threads:\n" << backtrace();
        return std::nullopt;
      }
      if (done(*d))
        return d;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "timed out; last status: " << (d ? d->ShortDebugString() : "none");
    return std::nullopt;
  }

  std::string backtrace() {
    if (!sg::test::have("gdb"))
      return "(gdb not installed)";
    return sg::test::run("gdb -p " + std::to_string(studiograph_->pid()) +
                         " -batch -ex 'thread apply all bt' 2>&1 | grep -E '^(Thread|#)'")
      .output;
  }

  std::optional<float> meter_peak() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::SubscribeRequest sub;
    sub.add_nodes("meter");
    sub.add_kinds(v1::EVENT_KIND_METER);
    auto reader = events_->Subscribe(&ctx, sub);
    v1::Event ev;
    std::optional<float> peak;
    // Past the smoother: the tenth publication (half a second).
    for (int seen = 0; seen < 10 && reader->Read(&ev);)
      if (ev.has_meter() && ev.meter().peak_db_size() > 0)
        peak = ev.meter().peak_db(0), ++seen;
    ctx.TryCancel();
    return peak;
  }

  /// Blocks per second over the next two seconds; 0 when the device does not answer.
  double block_rate() {
    auto first = wait_device([](const v1::DeviceStatus&) { return true; }, 5s);
    const auto t0 = steady::now();
    std::this_thread::sleep_for(2s);
    auto second = wait_device([](const v1::DeviceStatus&) { return true; }, 5s);
    if (!first || !second)
      return 0;
    EXPECT_EQ(second->state(), v1::DeviceStatus::STATE_RUNNING);
    return static_cast<double>(second->blocks() - first->blocks()) / seconds_since(t0);
  }

  /// Ends the JACK server with the test's signal, expects the device to report the loss and
  /// keep retrying, starts a server of the same name again and expects the device back: the
  /// `loss`-th recovery, its ports wired to the playback ports again. Appends what it measured.
  void lose_and_recover(uint32_t loss, std::string& figures) {
    const auto killed = steady::now();
    jackd_->end(GetParam(), 5s);
    auto failed = wait_device(
      [](const v1::DeviceStatus& d) { return d.state() == v1::DeviceStatus::STATE_FAILED; }, 10s);
    ASSERT_TRUE(failed);
    const double to_failed = seconds_since(killed);
    EXPECT_NE(failed->message().find("lost"), std::string::npos) << failed->message();
    EXPECT_EQ(failed->recoveries(), loss - 1);
    // It keeps answering while the server is gone, and keeps retrying: a second attempt fails
    // and says so (the first comes 250 ms after the loss, the next 500 ms later).
    auto retrying = wait_device(
      [](const v1::DeviceStatus& d) {
        const auto at = d.message().find("attempt ");
        return at != std::string::npos && std::atoi(d.message().c_str() + at + 8) >= 2;
      },
      10s);
    ASSERT_TRUE(retrying) << "no second failed attempt reported while the server is gone";
    EXPECT_EQ(retrying->state(), v1::DeviceStatus::STATE_FAILED) << retrying->ShortDebugString();

    const auto restarted = steady::now();
    ASSERT_TRUE(start_jack()) << "jackd did not start again; see " << dir_ / "jackd.log";
    const double jack_start = seconds_since(restarted);
    auto recovered = wait_device(
      [&](const v1::DeviceStatus& d) {
        return d.state() == v1::DeviceStatus::STATE_RUNNING && d.recoveries() >= loss;
      },
      20s);
    ASSERT_TRUE(recovered);
    const double to_running = seconds_since(restarted);
    EXPECT_EQ(recovered->recoveries(), loss);
    EXPECT_EQ(recovered->backend(), "jack");
    // The client and its ports are back on the new server, wired to the playback ports.
    const std::string lsp = ports();
    const bool wired = wired_to_playback(lsp);
    EXPECT_TRUE(wired) << lsp;
    char line[240];
    std::snprintf(line, sizeof line,
                  "\n  loss %u: FAILED %.2f s after the kill; jackd back in %.2f s; RUNNING "
                  "%.2f s after the restart (%s); ports %s",
                  loss, to_failed, jack_start, to_running, recovered->message().c_str(),
                  wired ? "wired to system:playback again" : "NOT wired");
    figures += line;
  }

  /// `jack_lsp -c`: every port, each followed by the ports it is connected to.
  std::string ports() {
    return sg::test::run("jack_lsp -s " + server_ + " -c 2>/dev/null").output;
  }

  static bool wired_to_playback(const std::string& lsp) {
    return lsp.find("studiograph:out_1\n   system:playback_1") != std::string::npos &&
           lsp.find("studiograph:out_2\n   system:playback_2") != std::string::npos;
  }

  void commit_level(double db) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 3s);
    v1::SetParamRequest req;
    req.set_node("amp");
    req.set_param("level");
    req.mutable_value()->set_double_value(db);
    req.mutable_origin()->set_client_id("loss-test");
    req.mutable_origin()->set_client_rev(1);
    v1::SetParamReply reply;
    ASSERT_TRUE(nodes_->SetParam(&ctx, req, &reply).ok());
    ASSERT_EQ(reply.status().code(), 0) << reply.ShortDebugString();
  }

  /// Every layer of amp.level, as GetNode reports them.
  std::optional<v1::ParamState> level_state() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 3s);
    v1::GetNodeRequest req;
    req.set_node("amp");
    v1::GetNodeReply reply;
    if (!nodes_->GetNode(&ctx, req, &reply).ok())
      return std::nullopt;
    for (const auto& p : reply.node().params())
      if (p.name() == "level")
        return p;
    return std::nullopt;
  }

  fs::path dir_;
  std::string server_, address_;
  std::unique_ptr<process> jackd_, studiograph_;
  std::unique_ptr<v1::NodeService::Stub> nodes_;
  std::unique_ptr<v1::SystemService::Stub> system_;
  std::unique_ptr<v1::EventService::Stub> events_;
};

TEST_P(device_loss, device_recovers_each_time_the_jack_server_returns) {
  auto running = wait_device(
    [](const v1::DeviceStatus& d) {
      return d.state() == v1::DeviceStatus::STATE_RUNNING && d.blocks() > 375;
    },
    10s);
  ASSERT_TRUE(running);
  ASSERT_EQ(running->backend(), "jack");
  const std::string ports_before = ports();
  ASSERT_TRUE(wired_to_playback(ports_before)) << ports_before;

  // A committed value: it lives in the node authority and the kernel, both of which the
  // recoveries must keep.
  ASSERT_NO_FATAL_FAILURE(commit_level(-9));
  const auto peak_before = meter_peak();
  ASSERT_TRUE(peak_before);
  EXPECT_NEAR(*peak_before, -21.0, 0.2) << "-12 dBFS tone, -9 dB gain";
  const double rate_before = block_rate();
  ASSERT_GT(rate_before, 0);

  std::string figures;
  for (uint32_t loss = 1; loss <= losses; ++loss) {
    ASSERT_NO_FATAL_FAILURE(lose_and_recover(loss, figures)) << "loss " << loss << figures;
  }

  // Blocks advance at the clock again: as fast as before the losses (a loaded machine can slow
  // the dummy server's own clock, so that rate is the reference), never faster than 375/s.
  const double rate_after = block_rate();
  EXPECT_GT(rate_after, 0.9 * std::min(rate_before, 375.0))
    << "blocks per second after the recoveries, " << rate_before << " before";
  EXPECT_LT(rate_after, 375.0 * 1.05);

  // The same engine: the committed value is still the node's and still what the kernel plays.
  const auto level = level_state();
  ASSERT_TRUE(level) << "GetNode amp failed or has no level";
  EXPECT_DOUBLE_EQ(level->value().double_value(), -9);
  EXPECT_TRUE(level->has_committed());
  EXPECT_DOUBLE_EQ(level->committed().double_value(), -9);
  const auto peak_after = meter_peak();
  ASSERT_TRUE(peak_after);
  EXPECT_NEAR(*peak_after, -21.0, 0.2);
  std::printf("%s:%s\n  %.1f blocks/s before the losses, %.1f after\n",
              GetParam() == SIGKILL ? "SIGKILL" : "SIGTERM", figures.c_str(), rate_before,
              rate_after);

  studiograph_->signal(SIGTERM);
  const auto exit_status = studiograph_->wait_exit(10s);
  EXPECT_TRUE(exit_status) << "studiograph did not stop within 10 s of SIGTERM; its threads:\n"
                           << backtrace();
  EXPECT_EQ(exit_status.value_or(0), 0);
}

INSTANTIATE_TEST_SUITE_P(signals, device_loss, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& info) {
                           return std::string(info.param == SIGKILL ? "sigkill" : "sigterm");
                         });

} // namespace
