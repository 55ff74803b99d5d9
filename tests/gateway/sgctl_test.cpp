/// Runs the built `sgctl` binary against a real gateway and checks its output and exit codes.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <sstream>
#include <vector>

#include <google/protobuf/util/json_util.h>

#include "tests/gateway/fixture.hpp"
#include "tests/skip.hpp"
#include "tests/video/process.hpp"

#ifndef SGCTL_PATH
#error "SGCTL_PATH must name the sgctl binary"
#endif

namespace sg::test {
namespace {

using namespace std::chrono_literals;

struct run_result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);)
    out.push_back(line);
  return out;
}

/// `sgctl set` of an overlay that settles only when told to: by default one settles after
/// 500 ms without a new value, which a slow run can take between two steps.
std::vector<std::string> set_overlay(const std::string& param, const std::string& value,
                                     const std::string& source) {
  return {"set", param, value, "--overlay", source, "--settle-ms", "60000"};
}

class sgctl_fixture : public gateway_fixture {
protected:
  /// A fresh path prefix for one run's output files.
  static std::string next_base() {
    static std::atomic<int> counter{0};
    return ::testing::TempDir() + "sgctl-" + std::to_string(getpid()) + "-" +
           std::to_string(counter++);
  }

  /// Runs sgctl with `args`; stdout and stderr go to `base`.out/.err so that a background run
  /// can be polled.
  static run_result run(const std::vector<std::string>& args,
                        const std::string& base = next_base()) {
    const std::string out = base + ".out", err = base + ".err";
    std::string cmd = quote(SGCTL_PATH);
    for (const auto& a : args)
      cmd.append(" ").append(quote(a));
    cmd.append(" >").append(quote(out)).append(" 2>").append(quote(err));
    int status = std::system(cmd.c_str());
    run_result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    std::remove(out.c_str());
    std::remove(err.c_str());
    return r;
  }

  /// Same as run, with --addr pointing at the test gateway.
  run_result ctl(std::vector<std::string> args, const std::string& base = next_base()) {
    args.insert(args.begin(), {"--addr", address_});
    return run(args, base);
  }

  /// Waits until a background run has printed something.
  static bool wait_for_output(const std::string& base) {
    return eventually([&] { return !slurp(base + ".out").empty(); });
  }
};

TEST_F(sgctl_fixture, help_documents_exit_codes) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Exit codes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("cannot reach the server"), std::string::npos) << r.out;
}

TEST_F(sgctl_fixture, usage_errors_exit_1) {
  EXPECT_EQ(run({}).code, 1);
  EXPECT_EQ(run({"frobnicate"}).code, 1);
  EXPECT_EQ(ctl({"set", "osc.frequency"}).code, 1);
  EXPECT_EQ(ctl({"set", "oscfrequency", "1"}).code, 1);
  EXPECT_EQ(ctl({"watch", "--kind", "nonsense"}).code, 1);
}

TEST_F(sgctl_fixture, nodes_prints_a_table) {
  auto r = ctl({"nodes"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_NE(r.out.find("audio.sine"), std::string::npos);
  EXPECT_NE(r.out.find("main"), std::string::npos);
  EXPECT_NE(r.out.find("running"), std::string::npos);
}

TEST_F(sgctl_fixture, types_lists_params_with_ranges) {
  auto r = ctl({"types"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("audio.sine"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("frequency"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1..20000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Hz"), std::string::npos) << r.out;
}

TEST_F(sgctl_fixture, get_shows_values) {
  auto r = ctl({"get", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("audio.sine"), std::string::npos) << r.out;
  bool found = false;
  for (const auto& line : lines_of(r.out))
    if (line.rfind("frequency", 0) == 0) {
      found = true;
      EXPECT_NE(line.find("440"), std::string::npos) << line;
      EXPECT_NE(line.find("Hz"), std::string::npos) << line;
    }
  EXPECT_TRUE(found) << r.out;
}

TEST_F(sgctl_fixture, set_applies_with_an_sgctl_origin) {
  v1::SubscribeRequest req;
  req.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  auto sub_ctx = ctx(10s);
  auto reader = cl_->events->Subscribe(sub_ctx.get(), req);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_snapshot());

  auto r = ctl({"set", "osc.frequency", "220"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("osc.frequency = 220 node_rev="), std::string::npos) << r.out;

  ASSERT_TRUE(reader->Read(&ev) && ev.has_param_changed()) << ev.ShortDebugString();
  EXPECT_EQ(ev.param_changed().origin().client_id().rfind("sgctl-", 0), 0u);
  EXPECT_EQ(ev.param_changed().origin().client_rev(), 1u);
  EXPECT_EQ(ev.param_changed().value().double_value(), 220);
  sub_ctx->TryCancel();
  reader->Finish();
}

TEST_F(sgctl_fixture, set_errors_exit_with_their_category) {
  v1::GetNodeReply before;
  ASSERT_TRUE(cl_->get("osc", before).ok());

  auto r = ctl({"set", "osc.frequency", "abc"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sgctl: INVALID_ARGUMENT: value: ", 0), 0u) << r.err;

  r = ctl({"set", "osc.frequency", "50000"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sgctl: INVALID_ARGUMENT: value: ", 0), 0u) << r.err;

  r = ctl({"set", "osc.nope", "1"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("sgctl: INVALID_ARGUMENT: param: ", 0), 0u) << r.err;

  r = ctl({"set", "nope.level", "1"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(r.err.rfind("sgctl: NOT_FOUND: node: ", 0), 0u) << r.err;

  r = ctl({"get", "nope"});
  EXPECT_EQ(r.code, 3) << r.err;

  v1::GetNodeReply after;
  ASSERT_TRUE(cl_->get("osc", after).ok());
  EXPECT_EQ(after.node().ShortDebugString(), before.node().ShortDebugString());
}

TEST_F(sgctl_fixture, unreachable_server_exits_4) {
  auto r = run({"--addr", "127.0.0.1:1", "--timeout", "2", "nodes"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(r.err.rfind("sgctl: UNAVAILABLE: ", 0), 0u) << r.err;
  EXPECT_EQ(run({"--addr", "127.0.0.1:1", "watch"}).code, 4);
}

TEST_F(sgctl_fixture, json_output_is_one_object_per_line) {
  auto r = ctl({"--json", "nodes"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  v1::ListNodesReply nodes;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &nodes).ok()) << lines[0];
  EXPECT_EQ(nodes.nodes_size(), 4);
  EXPECT_NE(lines[0].find("\"node_rev\""), std::string::npos) << lines[0];

  r = ctl({"--json", "get", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::GetNodeReply node;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &node).ok()) << r.out;
  EXPECT_EQ(node.node().id(), "osc");
  EXPECT_NE(r.out.find("\"type_info\""), std::string::npos) << r.out;

  r = ctl({"--json", "watch", "--count", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    v1::Event ev;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &ev).ok()) << lines[i];
    EXPECT_EQ(ev.seq(), i + 1);
    EXPECT_EQ(ev.has_snapshot(), i == 0);
    EXPECT_NE(lines[i].find("\"seq\""), std::string::npos);
  }
}

TEST_F(sgctl_fixture, watch_prints_param_changes) {
  auto base = next_base();
  auto watcher = std::async(std::launch::async, [&] {
    return ctl({"watch", "--kind", "param_changed", "--node", "amp", "--count", "2"}, base);
  });
  // Wait for the subscription (its snapshot line) before changing anything.
  ASSERT_TRUE(wait_for_output(base));
  auto value = dbl(-9);
  v1::SetParamReply reply;
  ASSERT_TRUE(cl_->set("osc", "level", &value, reply, "filtered-out", 1).ok());
  ASSERT_TRUE(cl_->set("amp", "level", &value, reply, "tester", 5).ok());
  ASSERT_EQ(watcher.wait_for(10s), std::future_status::ready);
  auto r = watcher.get();
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].rfind("#1 snapshot graph=gw-test", 0), 0u) << lines[0];
  EXPECT_EQ(lines[1], "#2 param_changed amp.level = -9 rev=" +
                        std::to_string(reply.applied().node_rev()) + " origin=tester:5");
}

TEST_F(sgctl_fixture, watch_reconnects_and_reseeds_after_the_server_returns) {
  auto base = next_base();
  auto watcher = std::async(std::launch::async, [&] {
    return ctl({"watch", "--kind", "snapshot", "--count", "2"}, base);
  });
  ASSERT_TRUE(wait_for_output(base));
  gw_->stop();
  // The server comes back only once sgctl has seen it gone and retries into a void.
  ASSERT_TRUE(eventually(
    [&] { return slurp(base + ".err").find("reconnecting") != std::string::npos; }))
    << slurp(base + ".err");
  gateway again(*rt_, {.listen = address_});
  auto started = again.start();
  ASSERT_TRUE(started) << started.error();
  ASSERT_EQ(watcher.wait_for(10s), std::future_status::ready);
  auto r = watcher.get();
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].rfind("#1 snapshot", 0), 0u);
  EXPECT_EQ(lines[1].rfind("#1 snapshot", 0), 0u) << "a new subscription starts at seq 1";
  EXPECT_NE(r.err.find("reconnecting"), std::string::npos) << r.err;
}

TEST_F(sgctl_fixture, status_shows_graph_and_devices) {
  auto r = ctl({"status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("gw-test"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("null"), std::string::npos) << r.out;
}

TEST_F(sgctl_fixture, validate_prints_diagnostics_and_exits_2) {
  auto dir = ::testing::TempDir();
  auto bad = dir + "sgctl-bad-" + std::to_string(getpid()) + ".yaml";
  auto good = dir + "sgctl-good-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(bad) << "version: 1\nname: bad\nnodes:\n  - { id: x, type: audio.nope }\n";
  std::ofstream(good) << gw_test_graph;

  auto r = ctl({"validate", bad});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind(bad + ":4:", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(": error: "), std::string::npos) << r.err;

  r = ctl({"validate", good});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("ok"), std::string::npos);

  EXPECT_EQ(ctl({"validate", dir + "does-not-exist.yaml"}).code, 1);
  std::remove(bad.c_str());
  std::remove(good.c_str());
}

// --- live state: layers, settle, presets, apply ---------------------------------------------
//
// These drive the layered protocol (docs/STATE_MODEL.md) through sgctl against the real server.

/// The cells of `param`'s row in `sgctl get` output (columns are two or more spaces apart).
std::vector<std::string> get_row(const std::string& out, const std::string& param) {
  for (const auto& line : lines_of(out)) {
    if (line.rfind(param + " ", 0) != 0)
      continue;
    std::vector<std::string> cells;
    size_t i = 0;
    while (i < line.size()) {
      size_t gap = line.find("  ", i);
      cells.push_back(line.substr(i, gap == std::string::npos ? std::string::npos : gap - i));
      if (gap == std::string::npos)
        break;
      i = line.find_first_not_of(' ', gap);
    }
    return cells;
  }
  return {};
}

TEST_F(sgctl_fixture, new_flags_and_commands_check_their_arguments) {
  v1::GetNodeReply before;
  ASSERT_TRUE(cl_->get("osc", before).ok());
  EXPECT_EQ(ctl({"set", "osc.frequency", "300", "--settle-ms", "10"}).code, 1)
    << "--settle-ms needs --overlay";
  EXPECT_EQ(ctl({"set", "osc.frequency", "300", "--persist", "--overlay", "lfo"}).code, 1)
    << "overlays are never persisted";
  EXPECT_EQ(ctl({"settle", "osc.frequency"}).code, 1);
  EXPECT_EQ(ctl({"settle", "osc.", "lfo"}).code, 1);
  EXPECT_EQ(ctl({"preset"}).code, 1);
  EXPECT_EQ(ctl({"preset", "save"}).code, 1);
  EXPECT_EQ(ctl({"preset", "frobnicate", "x"}).code, 1);
  EXPECT_EQ(ctl({"apply"}).code, 1);
  EXPECT_EQ(ctl({"apply", ::testing::TempDir() + "does-not-exist.yaml"}).code, 1);
  v1::GetNodeReply after;
  ASSERT_TRUE(cl_->get("osc", after).ok());
  EXPECT_EQ(after.node().ShortDebugString(), before.node().ShortDebugString());
}

TEST_F(sgctl_fixture, get_shows_every_layer) {
  auto r = ctl({"get", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  EXPECT_NE(lines[0].find(" node_rev=0 "), std::string::npos) << lines[0];
  EXPECT_EQ(get_row(r.out, "PARAM"), (std::vector<std::string>{"PARAM", "EFFECTIVE", "BASE",
                                                               "COMMITTED", "OVERLAY", "UNIT",
                                                               "RANGE"}))
    << lines[1];
  EXPECT_EQ(get_row(r.out, "frequency"),
            (std::vector<std::string>{"frequency", "440", "440", "-", "-", "Hz", "1..20000"}))
    << r.out;

  ASSERT_EQ(ctl({"set", "osc.frequency", "220"}).code, 0);
  ASSERT_EQ(ctl(set_overlay("osc.frequency", "300", "lfo")).code, 0);
  ASSERT_EQ(ctl(set_overlay("osc.frequency", "310", "midi")).code, 0);
  r = ctl({"get", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(lines_of(r.out)[0].find(" node_rev=3 "), std::string::npos) << r.out;
  EXPECT_EQ(get_row(r.out, "frequency"),
            (std::vector<std::string>{"frequency", "310", "440", "220", "lfo=300, midi=310", "Hz",
                                      "1..20000"}))
    << r.out;

  r = ctl({"--json", "get", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::GetNodeReply node;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &node).ok()) << r.out;
  const v1::ParamState* freq = nullptr;
  for (const auto& p : node.node().params())
    if (p.name() == "frequency")
      freq = &p;
  ASSERT_NE(freq, nullptr);
  EXPECT_EQ(freq->base().double_value(), 440);
  EXPECT_EQ(freq->committed().double_value(), 220);
  ASSERT_EQ(freq->overlays_size(), 2);
  EXPECT_EQ(freq->overlays(1).source(), "midi");
  EXPECT_EQ(freq->value().double_value(), 310);
}

TEST_F(sgctl_fixture, set_overlay_then_settle_it) {
  v1::SubscribeRequest req;
  req.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  auto sub_ctx = ctx(10s);
  auto reader = cl_->events->Subscribe(sub_ctx.get(), req);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_snapshot());

  auto r = ctl(set_overlay("osc.frequency", "300", "lfo"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("osc.frequency = 300 node_rev=1 layer=overlay:lfo"), std::string::npos)
    << r.out;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_param_changed()) << ev.ShortDebugString();
  EXPECT_EQ(ev.param_changed().layer(), v1::LAYER_OVERLAY);
  EXPECT_EQ(ev.param_changed().source(), "lfo");
  EXPECT_EQ(ev.param_changed().origin().client_id().rfind("sgctl-", 0), 0u);

  r = ctl({"settle", "osc.frequency", "lfo"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("settled=lfo"), std::string::npos) << r.out;
  // Two events: the overlay goes, then the settled value is committed (session-only).
  ASSERT_TRUE(reader->Read(&ev) && ev.has_param_changed()) << ev.ShortDebugString();
  EXPECT_EQ(ev.param_changed().layer(), v1::LAYER_OVERLAY);
  EXPECT_TRUE(ev.param_changed().cleared());
  EXPECT_EQ(ev.param_changed().reason(), v1::CHANGE_REASON_SETTLE);
  ASSERT_TRUE(reader->Read(&ev) && ev.has_param_changed()) << ev.ShortDebugString();
  EXPECT_EQ(ev.param_changed().layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(ev.param_changed().value().double_value(), 300);
  EXPECT_FALSE(ev.param_changed().persist());
  sub_ctx->TryCancel();
  reader->Finish();

  r = ctl({"get", "osc"});
  EXPECT_EQ(get_row(r.out, "frequency"),
            (std::vector<std::string>{"frequency", "300", "440", "300", "-", "Hz", "1..20000"}))
    << r.out;
}

TEST_F(sgctl_fixture, settle_a_node_settles_only_that_source) {
  ASSERT_EQ(ctl(set_overlay("osc.frequency", "300", "lfo")).code, 0);
  ASSERT_EQ(ctl(set_overlay("osc.level", "-20", "lfo")).code, 0);
  ASSERT_EQ(ctl(set_overlay("amp.level", "-3", "lfo")).code, 0);
  ASSERT_EQ(ctl(set_overlay("osc.level", "-24", "midi")).code, 0);
  auto r = ctl({"settle", "osc", "lfo"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("osc: settled lfo node_rev=", 0), 0u) << r.out;
  EXPECT_EQ(ctl({"settle", "osc", "lfo"}).code, 3) << "nothing left from lfo";
  r = ctl({"get", "osc"});
  EXPECT_EQ(get_row(r.out, "frequency").at(3), "300") << r.out;
  EXPECT_EQ(get_row(r.out, "frequency").at(4), "-") << r.out;
  EXPECT_EQ(get_row(r.out, "level").at(3), "-20") << r.out;
  EXPECT_EQ(get_row(r.out, "level").at(4), "midi=-24") << r.out;
  r = ctl({"get", "amp"});
  EXPECT_EQ(get_row(r.out, "level").at(4), "lfo=-3") << "another node keeps its overlay";
}

TEST_F(sgctl_fixture, overlay_settles_by_itself_after_settle_ms) {
  ASSERT_EQ(ctl({"set", "osc.frequency", "300", "--overlay", "lfo", "--settle-ms", "50"}).code,
            0);
  std::vector<std::string> row;
  eventually(
    [&] {
      row = get_row(ctl({"get", "osc"}).out, "frequency");
      return row.size() > 4 && row[4] == "-";
    },
    10s, 50ms);
  EXPECT_EQ(row, (std::vector<std::string>{"frequency", "300", "440", "300", "-", "Hz",
                                           "1..20000"}));
}

TEST_F(sgctl_fixture, apply_prints_what_changed) {
  std::string yaml = gw_test_graph;
  auto replace = [&](const std::string& from, const std::string& to) {
    auto at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
  };
  replace("{ level: -6 }", "{ level: -3 }");
  replace("  - { id: meter, type: audio.meter }\n", "");
  replace("  - amp.out -> meter.in\n", "");
  auto file = ::testing::TempDir() + "sgctl-apply-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(file) << yaml;

  auto r = ctl({"apply", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(": applied graph gw-test rev="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  removed: meter\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("  changed: amp\n"), std::string::npos) << r.out;
  EXPECT_EQ(lines_of(ctl({"nodes"}).out).size(), 4u) << "header + osc, amp, out";
  EXPECT_EQ(get_row(ctl({"get", "amp"}).out, "level").at(2), "-3") << "the new base";

  r = ctl({"apply", file});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.find("changed:"), std::string::npos) << "nothing changed the second time";
  std::remove(file.c_str());
}

TEST_F(sgctl_fixture, apply_refuses_an_invalid_graph_with_diagnostics) {
  auto bad = ::testing::TempDir() + "sgctl-apply-bad-" + std::to_string(getpid()) + ".yaml";
  std::ofstream(bad) << "version: 1\nname: bad\nnodes:\n  - { id: x, type: audio.nope }\n";
  auto r = ctl({"apply", bad});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind(bad + ":4:", 0), 0u) << "printed as validate prints it: " << r.err;
  EXPECT_NE(r.err.find(": error: "), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(ctl({"nodes"}).out).size(), 5u) << "the running graph is untouched";
  std::remove(bad.c_str());
}

/// With a persistence database of its own, for presets and durable values.
class sgctl_store_fixture : public sgctl_fixture {
protected:
  runtime_options runtime_opts() override {
    db_ = ::testing::TempDir() + "sgctl-store-" + std::to_string(getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite";
    std::remove(db_.c_str());
    runtime_options o;
    o.state_path = db_;
    return o;
  }
  void TearDown() override {
    sgctl_fixture::TearDown();
    std::remove(db_.c_str());
  }
  std::string db_;
};

TEST_F(sgctl_store_fixture, set_persist_marks_the_committed_value) {
  auto r = ctl({"set", "osc.frequency", "220", "--persist"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("osc.frequency = 220 node_rev=1 persist"), std::string::npos) << r.out;
  ASSERT_EQ(ctl({"set", "amp.level", "-3"}).code, 0);
  r = ctl({"get", "osc"});
  EXPECT_EQ(get_row(r.out, "frequency").at(3), "220*") << r.out;
  EXPECT_NE(r.out.find("\n* persisted\n"), std::string::npos) << r.out;
  r = ctl({"get", "amp"});
  EXPECT_EQ(get_row(r.out, "level").at(3), "-3") << "session-only: no mark";
  EXPECT_EQ(r.out.find("* persisted"), std::string::npos) << r.out;
}

TEST_F(sgctl_store_fixture, watch_prints_durable_acks) {
  auto base = next_base();
  auto watcher = std::async(std::launch::async, [&] {
    return ctl({"watch", "--kind", "durable", "--count", "2"}, base);
  });
  ASSERT_TRUE(wait_for_output(base));
  auto r = ctl({"set", "osc.frequency", "220", "--persist"});
  ASSERT_EQ(r.code, 0) << r.err;
  rt_->flush_state();
  ASSERT_EQ(watcher.wait_for(10s), std::future_status::ready);
  r = watcher.get();
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[1].rfind("#2 durable batch=1 osc.frequency@1 coalesced=", 0), 0u) << lines[1];
}

TEST_F(sgctl_store_fixture, preset_save_list_load_delete) {
  ASSERT_EQ(ctl({"set", "osc.frequency", "220"}).code, 0);
  ASSERT_EQ(ctl({"set", "amp.level", "-3"}).code, 0);
  auto r = ctl({"preset", "save", "p1", "--nodes", "osc"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("saved preset p1: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("(osc)"), std::string::npos) << r.out;

  r = ctl({"preset", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto row = get_row(r.out, "p1");
  ASSERT_EQ(row.size(), 4u) << r.out;
  EXPECT_EQ(row[2], "osc");
  r = ctl({"--json", "preset", "list"});
  v1::ListPresetsReply listed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &listed).ok()) << r.out;
  ASSERT_EQ(listed.presets_size(), 1);
  EXPECT_EQ(listed.presets(0).name(), "p1");

  // Loading replaces the committed values it sets and clears their overlays.
  ASSERT_EQ(ctl({"set", "osc.frequency", "500"}).code, 0);
  ASSERT_EQ(ctl(set_overlay("osc.frequency", "600", "lfo")).code, 0);
  r = ctl({"preset", "load", "p1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("loaded preset p1: ", 0), 0u) << r.out;
  r = ctl({"get", "osc"});
  EXPECT_EQ(get_row(r.out, "frequency").at(1), "220") << r.out;
  EXPECT_EQ(get_row(r.out, "frequency").at(4), "-") << r.out;
  EXPECT_EQ(get_row(ctl({"get", "amp"}).out, "level").at(3), "-3") << "not in the preset";

  r = ctl({"preset", "delete", "p1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted preset p1\n");
  EXPECT_TRUE(get_row(ctl({"preset", "list"}).out, "p1").empty());
  EXPECT_EQ(ctl({"preset", "delete", "p1"}).code, 3);
  EXPECT_EQ(ctl({"preset", "load", "p1"}).code, 3);
}

TEST_F(sgctl_store_fixture, preset_load_is_announced_in_watch) {
  ASSERT_EQ(ctl({"preset", "save", "p2"}).code, 0);
  auto base = next_base();
  auto watcher = std::async(std::launch::async, [&] {
    return ctl({"watch", "--kind", "preset_loaded", "--count", "2"}, base);
  });
  ASSERT_TRUE(wait_for_output(base));
  auto r = ctl({"preset", "load", "p2"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(watcher.wait_for(10s), std::future_status::ready);
  r = watcher.get();
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[1].rfind("#2 preset_loaded p2 params=", 0), 0u) << lines[1];
  EXPECT_NE(lines[1].find(" origin=sgctl-"), std::string::npos) << lines[1];
}

// --- every service: set several, bypass, trigger, graph, export, health, top, security -------

TEST_F(sgctl_fixture, set_several_params_of_a_node_at_once) {
  auto r = ctl({"set", "osc", "frequency=300", "level=-20"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0], "osc.frequency = 300 node_rev=1");
  EXPECT_EQ(lines[1], "osc.level = -20 node_rev=2");

  r = ctl({"set", "osc", "frequency=310", "level=9"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("INVALID_ARGUMENT: params[1].value: "), std::string::npos) << r.err;
  EXPECT_NE(ctl({"get", "osc"}).out.find("node_rev=2"), std::string::npos)
    << "a refused batch changes nothing";
  EXPECT_EQ(ctl({"set", "osc.frequency", "1", "2"}).code, 1);
  EXPECT_EQ(ctl({"set", "osc", "frequency"}).code, 1);
  EXPECT_EQ(ctl({"set", "nope", "level=1"}).code, 3);
}

TEST_F(sgctl_fixture, bypass_trigger_graph_and_health) {
  auto r = ctl({"bypass", "amp"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "amp: bypass on node_rev=1\n");
  r = ctl({"bypass", "amp", "off"});
  EXPECT_EQ(r.out, "amp: bypass off node_rev=2\n");
  EXPECT_EQ(ctl({"bypass", "amp", "maybe"}).code, 1);
  EXPECT_EQ(ctl({"bypass", "nope"}).code, 3);

  r = ctl({"trigger", "osc"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("FAILED_PRECONDITION: node: 'osc' (audio.sine) takes no notes"),
            std::string::npos)
    << r.err;
  EXPECT_EQ(ctl({"trigger", "osc", "bang"}).code, 1);

  r = ctl({"graph"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("graph gw-test rev=1 nodes=4 edges=3 devices=1"), std::string::npos)
    << r.out;
  EXPECT_NE(r.out.find("osc.out -> amp.in"), std::string::npos) << r.out;

  r = ctl({"health"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "server: SERVING\n");
  gw_->set_serving(false);
  r = ctl({"health", "studiograph.v1.NodeService"});
  EXPECT_EQ(r.code, 4);
  EXPECT_EQ(r.out, "studiograph.v1.NodeService: NOT_SERVING\n");
}

TEST_F(sgctl_fixture, export_writes_a_graph_file_that_validates) {
  ASSERT_EQ(ctl({"set", "osc.frequency", "250"}).code, 0);
  const auto file = next_base() + ".yaml";
  auto r = ctl({"export", "--committed", "-o", file});
  ASSERT_EQ(r.code, 0) << r.err;
  auto loaded = load_graph_string(slurp(file), file);
  ASSERT_TRUE(loaded.ok()) << slurp(file);
  EXPECT_EQ(loaded.spec.nodes(0).params().at("frequency").double_value(), 250);
  EXPECT_EQ(ctl({"validate", file}).code, 0);
  r = ctl({"export"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("frequency: 440"), std::string::npos) << r.out;
  std::remove(file.c_str());
}

TEST_F(sgctl_fixture, status_shows_node_loads_and_clients) {
  v1::StatusReply status;
  ASSERT_TRUE(status_with_node_loads(*cl_, {"osc", "amp", "meter", "out"}, status))
    << status.DebugString();
  auto r = ctl({"status"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("plaintext no-auth"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DEVICE  LOAD"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CLIENT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("open"), std::string::npos) << r.out;
}

TEST_F(sgctl_fixture, top_shows_devices_nodes_and_meters_and_reconnects) {
  // Enough frames for the slowest machine; the test stops top once it has seen everything.
  const auto log = next_base() + ".top";
  process top({SGCTL_PATH, "--addr", address_, "top", "--interval", "0.1", "--frames", "3000"},
              log);
  ASSERT_TRUE(top.running());
  // True once top's output satisfies `seen`; false when top ends first or 20 s pass.
  auto shows = [&](auto seen) {
    eventually([&] { return seen(top.output()) || top.exited(); }, 20s, 50ms);
    return seen(top.output());
  };
  auto contains = [](const std::string& what) {
    return [what](const std::string& out) { return out.find(what) != std::string::npos; };
  };
  ASSERT_TRUE(shows(contains("connected  events"))) << top.output();
  gw_->stop();
  ASSERT_TRUE(shows(contains("reconnecting in"))) << top.output();
  gateway again(*rt_, {.listen = address_});
  auto again_started = again.start();
  ASSERT_TRUE(again_started) << again_started.error();
  again.set_serving(true);
  // Connected again after the loss, and the meter's levels shown once meter events have come.
  ASSERT_TRUE(shows([](const std::string& out) {
    const auto lost = out.find("reconnecting in");
    return out.find("connected  events", lost) != std::string::npos &&
           out.find("-18.0") != std::string::npos;
  })) << top.output();
  const auto out = top.output();
  EXPECT_FALSE(top.exited()) << "top ended by itself: " << out;
  top.stop();
  EXPECT_NE(out.find("DEVICE  STATE    BACKEND"), std::string::npos) << out;
  EXPECT_NE(out.find("NODE   TYPE"), std::string::npos) << out;
  EXPECT_NE(out.find("main    running  null"), std::string::npos) << out;
  const auto lost = out.find("reconnecting in");
  EXPECT_NE(lost, std::string::npos) << out;
  EXPECT_NE(out.find("connected  events", lost), std::string::npos)
    << "connected again after the loss: " << out;
  EXPECT_NE(out.find("-18.0"), std::string::npos) << out;
  std::remove(log.c_str());

  // Given a number of frames, top prints that many and exits 0.
  auto r = ctl({"top", "--interval", "0.05", "--frames", "2"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count(r.out, "studiograph top"), 2u) << r.out;
  EXPECT_EQ(ctl({"--json", "top"}).code, 1);
}

class sgctl_token_fixture : public sgctl_fixture {
protected:
  gateway_options gateway_opts() override {
    tokens_ = next_base() + ".tokens";
    std::ofstream(tokens_) << "control sgctl-control-token-0123456789\n"
                              "read-only sgctl-readonly-token-0123456789\n";
    chmod(tokens_.c_str(), 0600);
    read_only_ = next_base() + ".ro";
    std::ofstream(read_only_) << "sgctl-readonly-token-0123456789\n";
    return {.listen = "127.0.0.1:0", .token_file = tokens_};
  }
  std::string tokens_, read_only_;
};

TEST_F(sgctl_token_fixture, tokens_missing_invalid_and_read_only) {
  auto r = ctl({"nodes"});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("UNAUTHENTICATED: authorization: missing"), std::string::npos) << r.err;
  auto r2 = ctl({"--token-file", tokens_, "set", "amp.level", "-3"});
  EXPECT_EQ(r2.code, 0) << r2.err;
  r = ctl({"--token-file", read_only_, "set", "amp.level", "-4"});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("PERMISSION_DENIED"), std::string::npos) << r.err;
  r = ctl({"--token-file", read_only_, "get", "amp"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("-3"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("-4"), std::string::npos) << r.out;
  const auto wrong = next_base() + ".wrong";
  std::ofstream(wrong) << "not-the-token-0123456789\n";
  EXPECT_EQ(ctl({"--token-file", wrong, "status"}).code, 6);
  EXPECT_EQ(ctl({"--token-file", "/nonexistent", "status"}).code, 1);
  // A watch with a read-only token works.
  r = ctl({"--token-file", read_only_, "watch", "--count", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("#1 snapshot", 0), 0u) << r.out;
}

TEST_F(sgctl_fixture, tls_options_reach_a_tls_gateway) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0)
    SG_SKIP_MISSING("the openssl command is not installed (package openssl)");
  const auto dir = next_base() + "-certs";
  ASSERT_EQ(std::system(("sh " + std::string(SG_SOURCE_DIR) + "/tests/gateway/make_certs.sh " +
                         dir + " >/dev/null 2>&1")
                          .c_str()),
            0);
  gateway tls(*rt_, {.listen = "127.0.0.1:0",
                     .tls_cert = dir + "/server.pem",
                     .tls_key = dir + "/server.key",
                     .tls_client_ca = dir + "/ca.pem"});
  auto tls_started = tls.start();
  ASSERT_TRUE(tls_started) << tls_started.error();
  auto r = run({"--addr", tls.address(), "--tls-ca", dir + "/ca.pem", "--tls-cert",
                dir + "/client.pem", "--tls-key", dir + "/client.key", "status"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(" tls "), std::string::npos) << r.out;
  r = run({"--addr", tls.address(), "--timeout", "2", "--tls-ca", dir + "/ca.pem", "status"});
  EXPECT_EQ(r.code, 4) << "no client certificate: " << r.err;
  EXPECT_EQ(run({"--addr", tls.address(), "--tls-ca", dir + "/missing.pem", "status"}).code, 1);
}

} // namespace
} // namespace sg::test

namespace sg::test {
namespace {

TEST_F(sgctl_fixture, panel_commands_create_switch_edit_and_refuse) {
  auto r = ctl({"panel", "create", "desk-a", "--type", "knob", "--bank", "main", "--active",
                "--map", "21=set:amp.level,curve=log", "--map", "22/2=osc.level,low=0.25"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("created panel desk-a (rev 1"), std::string::npos) << r.out;
  r = ctl({"panel", "create", "desk-b", "--type", "knob", "--bank", "main", "--active", "--map",
           "21=osc.frequency"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("deactivated desk-a"), std::string::npos) << r.out;

  r = ctl({"panel", "show", "desk-a"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("knob bank main device - inactive rev 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("21=set:amp.level,curve=log"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("22/2=default:osc.level,low=0.25,high=1"), std::string::npos) << r.out;

  r = ctl({"panel", "update", "desk-a", "--remove-map", "22", "--add-map", "23=set:osc.level"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = ctl({"panel", "activate", "desk-a"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("deactivated desk-b"), std::string::npos) << r.out;

  r = ctl({"--json", "panel", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  v1::ListPanelsReply list;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &list).ok()) << r.out;
  ASSERT_EQ(list.panels_size(), 2);
  EXPECT_EQ(list.panels(0).id(), "desk-a");
  EXPECT_TRUE(list.panels(0).active());
  ASSERT_EQ(list.panels(0).mappings_size(), 2);
  EXPECT_EQ(list.panels(0).mappings(1).number(), 23u);
  EXPECT_FALSE(list.panels(1).active());
  EXPECT_EQ(list.panels(1).rev(), 2u) << "created, then deactivated by desk-a's activation";

  // Usage errors never reach the server; refusals name the field; nothing changes.
  EXPECT_EQ(ctl({"panel", "create", "x", "--type", "knob", "--bank", "b", "--map", "300=a.b"})
              .code,
            1);
  EXPECT_EQ(ctl({"panel", "create", "x", "--type", "slider", "--bank", "b"}).code, 1);
  EXPECT_EQ(ctl({"panel", "create", "x", "--type", "knob", "--bank", "b", "--map",
                 "1=wiggle:amp.level"})
              .code,
            1);
  r = ctl({"panel", "create", "x", "--type", "knob", "--bank", "b", "--map", "1=trigger:amp"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("panel.mappings[0].action"), std::string::npos) << r.err;
  r = ctl({"panel", "create", "desk-a", "--type", "knob", "--bank", "b"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("ALREADY_EXISTS"), std::string::npos) << r.err;
  EXPECT_EQ(ctl({"panel", "delete", "nope"}).code, 3);
  EXPECT_EQ(ctl({"panel", "activate", "nope"}).code, 3);
  r = ctl({"--json", "panel", "list"});
  v1::ListPanelsReply again;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &again).ok()) << r.out;
  EXPECT_EQ(again.ShortDebugString(), list.ShortDebugString());

  // Learn without a MIDI device: nothing moves, the wait ends naming the timeout.
  r = ctl({"midi", "learn", "amp.level", "--wait", "0.3"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("timeout_ms"), std::string::npos) << r.err;
  r = ctl({"midi", "learn", "amp.nothing", "--wait", "0.3"});
  EXPECT_EQ(r.code, 2) << r.err;

  r = ctl({"panel", "delete", "desk-b"});
  EXPECT_EQ(r.code, 0) << r.err;
}

} // namespace
} // namespace sg::test
