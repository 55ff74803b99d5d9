// Crash safety of live state, end to end: the real studiograph binary on the null audio device,
// two gRPC clients writing persisted parameters as fast as they can, and SIGKILL at a random
// moment (every other round: right as a StateDurable arrives). After each kill the database
// must pass `PRAGMA integrity_check` and hold, for every parameter, at least the last value a
// StateDurable acknowledged (values only grow, so a newer unacknowledged one may be there too);
// the next start must make exactly the stored values the base layer.
//
// The database is read with SQLite directly and read-only, so the next start recovers the very
// file the killed process left. `dropping_the_wal_is_detected` is the negative control: it
// throws away committed transactions after a kill and the same check must report the loss.
// SG_CRASH_STUDIOGRAPH=<binary> runs the suite against another build: a writer that acks values
// when they are queued rather than committed fails most rounds. SIGKILL leaves the page cache
// intact, so an ack published microseconds before the commit's write() is caught only now and
// then, and one sent after the write but before the fsync would lose data only on power loss,
// which this test does not simulate.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "tests/ports.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"

extern char** environ;

namespace {

namespace v1 = studiograph::v1;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using health = grpc::health::v1::Health;

constexpr int crash_rounds = 30;

constexpr const char* graph_yaml = R"(version: 1
name: crash
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 64, channels: 2 }
nodes:
  - { id: osc1, type: audio.sine, params: { frequency: 220, level: -12 } }
  - { id: osc2, type: audio.sine, params: { frequency: 330, level: -12 } }
  - { id: mix, type: audio.mixer, params: { inputs: 2 } }
  - { id: amp, type: audio.gain, params: { level: -6 } }
  - { id: out, type: audio.output, device: main }
edges:
  - osc1.out -> mix.in1
  - osc2.out -> mix.in2
  - mix.out -> amp.in
  - amp.out -> out.in
)";

/// A parameter the clients write: its n-th value is `first + n * step`, strictly increasing
/// over the whole test (the counter carries over from round to round) and inside its range
/// for far more writes than the test makes.
struct live_param {
  std::string node, name;
  double first, step;
};

const std::vector<live_param> live_params = {
  {"osc1", "frequency", 100, 1e-3}, {"osc1", "level", -100, 1e-4},
  {"osc2", "frequency", 100, 1e-3}, {"osc2", "level", -100, 1e-4},
  {"mix", "level1", -100, 1e-4},    {"mix", "level2", -100, 1e-4},
  {"mix", "level", -100, 1e-4},     {"amp", "level", -100, 1e-4},
  {"out", "level", -100, 1e-4},
};
constexpr int client_threads = 2;

/// What the test knows about one parameter across rounds.
struct param_record {
  uint64_t next = 0;                 // index of the next value to send
  std::set<double> sent;             // every value ever sent: a stored value must be one of them
  std::optional<double> acked;       // highest value acknowledged durable, over all rounds
  std::optional<double> stored;      // what the database held after the last kill
  std::optional<double> graph_base;  // the base before anything was stored
};

using rev_key = std::tuple<std::string, std::string, uint64_t>;  // node, param, node_rev

/// When a round's SIGKILL comes: at a random moment, or at a random moment and then the instant
/// a durability ack arrives, which is where an ack sent before its commit would be caught.
enum class kill_moment { any, at_ack };

/// Everything one round observed, filled by the client threads and the subscriber.
struct round_log {
  std::mutex mtx;
  std::condition_variable acked;  // notified on every StateDurable
  std::map<rev_key, double> applied;  // from SetParam replies and ParamChanged echoes
  std::vector<v1::DurableEntry> acks;
  uint64_t sets = 0, batches = 0;
  std::vector<std::string> errors;  // failures seen while the server was meant to be alive
};

/// What a check found; `lost` counts parameters whose stored value is below an acknowledged one.
struct verdict {
  std::vector<std::string> problems;
  size_t lost = 0;
};

std::string binary_path() {
  // Another build can be checked (e.g. one broken on purpose, to watch this test fail).
  const char* other = std::getenv("SG_CRASH_STUDIOGRAPH");
  return other && other[0] ? other : STUDIOGRAPH_PATH;
}


/// True when something accepts TCP connections on the loopback `port`.
bool accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

/// The studiograph process of one round. Killed with SIGKILL, never asked to stop (except by
/// `stop_cleanly`): the point is that it gets no chance to flush or close anything.
class server_process {
public:
  /// fork + exec rather than posix_spawn for PR_SET_PDEATHSIG: a test killed from outside (a
  /// ctest timeout) takes its server along instead of leaving it on the port. Only
  /// async-signal-safe calls run between fork and exec.
  server_process(const std::vector<std::string>& argv, const std::string& log) {
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
    execve(args[0], args.data(), environ);
    _exit(127);
  }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;
  ~server_process() { kill_now(); }

  bool alive() {
    if (pid_ <= 0)
      return false;
    if (waitpid(pid_, nullptr, WNOHANG) == pid_)
      pid_ = -1;
    return pid_ > 0;
  }

  void kill_now() { end(SIGKILL); }
  void stop_cleanly() { end(SIGTERM); }

private:
  void end(int sig) {
    if (pid_ <= 0)
      return;
    kill(pid_, sig);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  pid_t pid_ = -1;
};

/// A channel with its own TCP connection (gRPC would otherwise share one between channels).
std::shared_ptr<grpc::Channel> own_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

void with_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

/// The database a killed process left, read without recovery writes or checkpoints.
struct db_contents {
  std::string integrity;  // PRAGMA integrity_check's rows, joined
  std::map<std::pair<std::string, std::string>, double> values;
  std::string error;
};

db_contents read_db(const std::string& path) {
  db_contents out;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, sqlite3_close);
  if (rc != SQLITE_OK) {
    out.error = "open: " + std::string(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return out;
  }
  auto query = [&](const char* sql, auto on_row) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &st, nullptr) != SQLITE_OK) {
      out.error = std::string(sql) + ": " + sqlite3_errmsg(db.get());
      return;
    }
    while (sqlite3_step(st) == SQLITE_ROW)
      on_row(st);
    sqlite3_finalize(st);
  };
  query("PRAGMA integrity_check", [&](sqlite3_stmt* st) {
    out.integrity += (out.integrity.empty() ? "" : "; ") +
                     std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  });
  query("SELECT node, param, value FROM params", [&](sqlite3_stmt* st) {
    v1::Value v;
    v.ParseFromArray(sqlite3_column_blob(st, 2), sqlite3_column_bytes(st, 2));
    out.values[{reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                reinterpret_cast<const char*>(sqlite3_column_text(st, 1))}] = v.double_value();
  });
  return out;
}

std::string param_name(const live_param& p) {
  return p.node + "." + p.name;
}

class crash_fixture : public ::testing::Test {
protected:
  void SetUp() override {
    if (access(binary_path().c_str(), X_OK) != 0)
      GTEST_FAIL() << "studiograph binary not found at " << binary_path();
    char tmpl[] = "/tmp/sg-crash-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "crash.yaml") << graph_yaml;
    records_.resize(live_params.size());
  }

  void TearDown() override {
    server_.reset();
    // Kept on failure for a post-mortem (database, server log).
    if (!HasFailure()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    } else if (!dir_.empty()) {
      std::cout << "kept " << dir_ << " (state.sqlite, studiograph.log)" << std::endl;
    }
  }

  std::string db_path() const { return (dir_ / "state.sqlite").string(); }

  /// Starts studiograph on a fresh port and waits until its gateway reports SERVING. The port
  /// is polled with plain connects first: a gRPC channel refused once backs off for a second.
  void start_server() {
    const int port = sg::test::free_loopback_port();
    address_ = "127.0.0.1:" + std::to_string(port);
    server_ = std::make_unique<server_process>(
      std::vector<std::string>{binary_path(), "run", (dir_ / "crash.yaml").string(), "--listen",
                               address_, "--state", db_path()},
      (dir_ / "studiograph.log").string());
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (!accepts(port)) {
      ASSERT_TRUE(server_->alive()) << "studiograph exited; see " << dir_ / "studiograph.log";
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing listens on " << address_;
      std::this_thread::sleep_for(10ms);
    }
    auto stub = health::NewStub(own_channel(address_));
    for (;;) {
      grpc::ClientContext ctx;
      with_deadline(ctx, 1s);
      ctx.set_wait_for_ready(true);
      grpc::health::v1::HealthCheckResponse resp;
      if (stub->Check(&ctx, {}, &resp).ok() &&
          resp.status() == grpc::health::v1::HealthCheckResponse::SERVING)
        return;
      ASSERT_TRUE(server_->alive()) << "studiograph exited; see " << dir_ / "studiograph.log";
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never SERVING on " << address_;
      std::this_thread::sleep_for(10ms);
    }
  }

  /// Every parameter's base is what the database held (the graph file's value when it held
  /// nothing), with no committed layer on top: the restore after a crash.
  verdict check_restore() {
    verdict v;
    auto nodes = v1::NodeService::NewStub(own_channel(address_));
    for (size_t i = 0; i < live_params.size(); ++i) {
      const auto& lp = live_params[i];
      grpc::ClientContext ctx;
      with_deadline(ctx, 10s);
      v1::GetNodeRequest req;
      req.set_node(lp.node);
      v1::GetNodeReply reply;
      if (auto s = nodes->GetNode(&ctx, req, &reply); !s.ok()) {
        v.problems.push_back("GetNode " + lp.node + ": " + s.error_message());
        continue;
      }
      for (const auto& ps : reply.node().params())
        if (ps.name() == lp.name)
          check_restored(i, ps, v);
    }
    return v;
  }

  void check_restored(size_t i, const v1::ParamState& ps, verdict& v) {
    auto& rec = records_[i];
    if (!rec.graph_base)
      rec.graph_base = ps.base().double_value();
    const double expected = rec.stored.value_or(*rec.graph_base);
    const std::string name = param_name(live_params[i]);
    if (ps.base().double_value() != expected)
      v.problems.push_back(name + ": base " + std::to_string(ps.base().double_value()) +
                           " after restart, stored " + std::to_string(expected));
    if (ps.has_committed())
      v.problems.push_back(name + ": a committed value survived the restart");
    if (ps.value().double_value() != expected)
      v.problems.push_back(name + ": effective value is not the restored base");
  }

  /// Subscribes (Snapshot first, then echoes and durability acks) and writes persisted values
  /// from `client_threads` clients until `kill_after` (and the next ack, with `at_ack`), then
  /// kills the server with SIGKILL.
  void hammer_and_kill(round_log& log, std::chrono::milliseconds kill_after,
                       kill_moment moment = kill_moment::any) {
    std::atomic<bool> stopping{false};
    grpc::ClientContext sub_ctx;
    with_deadline(sub_ctx, 30s);  // a round lasts a few seconds; never hang on a silent server
    std::promise<bool> subscribed;
    auto subscribed_f = subscribed.get_future();
    std::thread reader([&] { read_events(sub_ctx, log, subscribed); });
    if (!subscribed_f.get()) {
      reader.join();
      log.errors.push_back("Subscribe failed before the Snapshot");
      return;
    }
    std::vector<std::thread> clients;
    for (int t = 0; t < client_threads; ++t)
      clients.emplace_back([&, t] { send_intents(t, log, stopping); });
    std::this_thread::sleep_for(kill_after);
    if (moment == kill_moment::at_ack) {
      std::unique_lock lock(log.mtx);
      const auto seen = log.batches;
      log.acked.wait_for(lock, 10s, [&] { return log.batches > seen; });
    }
    stopping = true;
    server_->kill_now();
    for (auto& c : clients)
      c.join();
    sub_ctx.TryCancel();
    reader.join();
  }

  void read_events(grpc::ClientContext& ctx, round_log& log, std::promise<bool>& subscribed) {
    auto events = v1::EventService::NewStub(own_channel(address_));
    v1::SubscribeRequest req;
    req.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
    req.add_kinds(v1::EVENT_KIND_DURABLE);
    auto reader = events->Subscribe(&ctx, req);
    v1::Event ev;
    const bool ok = reader->Read(&ev) && ev.has_snapshot();
    subscribed.set_value(ok);
    while (ok && reader->Read(&ev)) {
      std::lock_guard lock(log.mtx);
      if (ev.has_param_changed() && ev.param_changed().has_value()) {
        const auto& pc = ev.param_changed();
        log.applied[{pc.node(), pc.param(), pc.node_rev()}] = pc.value().double_value();
      } else if (ev.has_durable()) {
        ++log.batches;
        for (const auto& e : ev.durable().entries())
          log.acks.push_back(e);
        log.acked.notify_all();
      }
    }
  }

  /// Client `t` owns every `client_threads`-th parameter, so each parameter has one writer
  /// and its values reach the server in increasing order.
  void send_intents(int t, round_log& log, const std::atomic<bool>& stopping) {
    auto nodes = v1::NodeService::NewStub(own_channel(address_));
    v1::SetParamRequest req;
    req.set_persist(true);
    req.mutable_origin()->set_client_id("crash-" + std::to_string(t));
    std::vector<size_t> mine;
    for (size_t i = t; i < live_params.size(); i += client_threads)
      mine.push_back(i);
    for (uint64_t rev = 1; !stopping; ++rev) {
      const size_t i = mine[rev % mine.size()];
      const auto& lp = live_params[i];
      auto& rec = records_[i];
      const double value = lp.first + static_cast<double>(rec.next++) * lp.step;
      rec.sent.insert(value);
      req.set_node(lp.node);
      req.set_param(lp.name);
      req.mutable_value()->set_double_value(value);
      req.mutable_origin()->set_client_rev(rev);
      grpc::ClientContext ctx;
      with_deadline(ctx, 10s);  // the kill ends a pending call at once; only a hang waits this
      v1::SetParamReply reply;
      auto status = nodes->SetParam(&ctx, req, &reply);
      std::lock_guard lock(log.mtx);
      if (!status.ok()) {
        if (!stopping)
          log.errors.push_back("SetParam " + param_name(lp) + ": " + status.error_message());
        return;
      }
      ++log.sets;
      const auto& a = reply.applied();
      log.applied[{a.node(), a.param(), a.node_rev()}] = a.value().double_value();
    }
  }

  /// Checks the database against what was acknowledged, then remembers what it holds.
  verdict check_db(round_log& log, size_t& resolved) {
    verdict v;
    std::map<std::pair<std::string, std::string>, double> acked_now;
    for (const auto& e : log.acks) {
      auto it = log.applied.find({e.node(), e.param(), e.node_rev()});
      if (it == log.applied.end())
        continue;  // its echo and reply were lost with the server: nothing to hold it to
      ++resolved;
      auto [a, fresh] = acked_now.try_emplace({e.node(), e.param()}, it->second);
      a->second = std::max(a->second, it->second);
    }
    const auto db = read_db(db_path());
    if (!db.error.empty())
      v.problems.push_back("database: " + db.error);
    if (db.integrity != "ok")
      v.problems.push_back("integrity_check: " + db.integrity);
    for (size_t i = 0; i < live_params.size(); ++i)
      check_param(i, acked_now, db, v);
    return v;
  }

  void check_param(size_t i, const std::map<std::pair<std::string, std::string>, double>& acked,
                   const db_contents& db, verdict& v) {
    const auto& lp = live_params[i];
    auto& rec = records_[i];
    if (auto it = acked.find({lp.node, lp.name}); it != acked.end())
      rec.acked = std::max(rec.acked.value_or(it->second), it->second);
    auto it = db.values.find({lp.node, lp.name});
    rec.stored = it == db.values.end() ? std::nullopt : std::optional<double>(it->second);
    const std::string name = param_name(lp);
    if (rec.acked && (!rec.stored || *rec.stored < *rec.acked)) {
      ++v.lost;
      v.problems.push_back(name + ": stored " +
                           (rec.stored ? std::to_string(*rec.stored) : std::string("nothing")) +
                           " but " + std::to_string(*rec.acked) + " was acknowledged durable");
    }
    if (rec.stored && !rec.sent.count(*rec.stored))
      v.problems.push_back(name + ": stored " + std::to_string(*rec.stored) +
                           ", a value no client sent");
  }

  static std::string describe(const verdict& v) {
    std::ostringstream out;
    for (const auto& p : v.problems)
      out << "\n  " << p;
    return out.str();
  }

  fs::path dir_;
  std::string address_;
  std::unique_ptr<server_process> server_;
  std::vector<param_record> records_;
};

TEST_F(crash_fixture, sigkill_keeps_every_acknowledged_value_and_restart_restores_it) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(100, 800);
  size_t rounds_with_acks = 0, total_sets = 0, total_acks = 0;
  for (int round = 0; round <= crash_rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ASSERT_NO_FATAL_FAILURE(start_server());
    const auto restore = check_restore();
    EXPECT_TRUE(restore.problems.empty()) << "restore:" << describe(restore);
    if (round == crash_rounds)
      break;  // the last start only checks the restore of the last kill
    round_log log;
    const auto kill_after = std::chrono::milliseconds(delay_ms(rng));
    const auto moment = round % 2 ? kill_moment::at_ack : kill_moment::any;
    hammer_and_kill(log, kill_after, moment);
    size_t resolved = 0;
    const auto v = check_db(log, resolved);
    std::cout << "round " << round << ": killed after " << kill_after.count() << " ms"
              << (moment == kill_moment::at_ack ? " and the next ack, " : ", ") << log.sets
              << " SetParams, " << log.batches << " durable batches, " << resolved << "/"
              << log.acks.size() << " acks matched" << std::endl;
    EXPECT_TRUE(log.errors.empty()) << "before the kill: " << log.errors.front();
    EXPECT_TRUE(v.problems.empty()) << "after the kill:" << describe(v);
    rounds_with_acks += resolved > 0;
    total_sets += log.sets;
    total_acks += resolved;
  }
  server_.reset();
  // Without acknowledgements the check above would pass vacuously.
  EXPECT_GE(rounds_with_acks, crash_rounds * 3 / 4) << "too few rounds saw durability acks";
  std::cout << total_sets << " SetParams, " << total_acks << " acks checked over "
            << crash_rounds << " kills" << std::endl;
}

TEST_F(crash_fixture, dropping_the_wal_is_detected) {
  // Phase 1 ends with a clean stop: the database file itself holds those values.
  ASSERT_NO_FATAL_FAILURE(start_server());
  round_log first;
  hammer_and_kill(first, 200ms);
  size_t resolved = 0;
  ASSERT_TRUE(check_db(first, resolved).problems.empty());
  ASSERT_NO_FATAL_FAILURE(start_server());
  server_->stop_cleanly();
  // Phase 2 is killed the moment an ack arrives, and its committed transactions (all still in
  // the WAL) are thrown away.
  ASSERT_NO_FATAL_FAILURE(start_server());
  round_log second;
  hammer_and_kill(second, 300ms, kill_moment::at_ack);
  fs::remove(db_path() + "-wal");
  fs::remove(db_path() + "-shm");
  resolved = 0;
  const auto v = check_db(second, resolved);
  ASSERT_GT(resolved, 0u) << "no durability ack arrived; the control proves nothing";
  EXPECT_GT(v.lost, 0u) << "acknowledged values vanished and the check did not notice";
}

} // namespace
