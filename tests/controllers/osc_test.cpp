// control.osc against the real runtime, with liblo-tools' oscsend and oscdump as independent
// OSC peers (separate processes speaking UDP): an address writes an overlay that settles into
// a session-only commit; /commit commits; changes are echoed to the configured and to
// registered clients; malformed or unknown input changes nothing and the server keeps
// serving; a port in use is reported.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/ports.hpp"
#include "tests/controllers/fixture.hpp"
#include "tests/integration/process.hpp"
#include "tests/skip.hpp"

namespace sg::test {
namespace {


class osc : public controller_fixture {
protected:
  void SetUp() override {
    if (!have("oscsend") || !have("oscdump"))
      SG_SKIP_MISSING("oscsend/oscdump not installed (Debian: liblo-tools)");
    port_ = free_loopback_port(SOCK_DGRAM);
  }

  void start_osc(const std::string& extra = {}) {
    start("  - { id: osc, type: control.osc, params: { listen: \"127.0.0.1:" +
          std::to_string(port_) + "\", settle_ms: 300" + extra + " } }\n");
    // The server binds once the controller has its first snapshot.
    const auto evs = collect(patience, [](const v1::Event& e) {
      return e.has_node_status() && e.node_status().node() == "osc";
    });
    ASSERT_FALSE(evs.empty());
    ASSERT_EQ(evs.back().node_status().state(), v1::NodeStatus::STATE_RUNNING)
      << evs.back().node_status().message();
  }

  /// oscsend to our server; the arguments after the address.
  void send(const std::string& address, const std::string& args) {
    const auto r = run("oscsend 127.0.0.1 " + std::to_string(port_) + " " + address + " " + args +
                       " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }

  int port_ = 0;
};

TEST_F(osc, an_address_writes_an_overlay_that_settles_into_a_session_commit) {
  ASSERT_NO_FATAL_FAILURE(start_osc());
  send("/sg/amp/level", "f -12.5");
  const auto evs = collect(patience, [](const v1::Event& e) {
    return e.has_param_changed() && e.param_changed().layer() == v1::LAYER_COMMITTED;
  });
  const auto pcs = changes(evs, "amp", "level");
  ASSERT_EQ(pcs.size(), 3u) << "overlay, then cleared and committed by the settle";
  EXPECT_EQ(pcs[0].layer(), v1::LAYER_OVERLAY);
  EXPECT_EQ(pcs[0].source(), "osc");
  EXPECT_EQ(pcs[0].value().double_value(), -12.5);
  EXPECT_EQ(pcs[0].origin().client_id(), "ctl/osc");
  EXPECT_TRUE(pcs[1].cleared());
  EXPECT_EQ(pcs[2].layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(pcs[2].reason(), v1::CHANGE_REASON_SETTLE);
  EXPECT_EQ(pcs[2].value().double_value(), -12.5);
  const auto level = param("amp", "level");
  EXPECT_EQ(level.committed().double_value(), -12.5);
  EXPECT_EQ(level.overlays_size(), 0);
}

TEST_F(osc, commit_commits_and_ints_bools_and_enum_names_take_the_parameters_type) {
  ASSERT_NO_FATAL_FAILURE(start_osc());
  send("/sg/amp/level/commit", "i -3");
  send("/sg/tone/frequency/commit", "d 330.5");
  // Two nodes, two authorities: their announcements may come in either order.
  bool amp_seen = false, tone_seen = false;
  const auto evs = collect(patience, [&](const v1::Event& e) {
    if (e.has_param_changed()) {
      amp_seen |= e.param_changed().node() == "amp";
      tone_seen |= e.param_changed().node() == "tone";
    }
    return amp_seen && tone_seen;
  });
  const auto amp = changes(evs, "amp", "level");
  ASSERT_EQ(amp.size(), 1u);
  EXPECT_EQ(amp[0].layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(amp[0].value().double_value(), -3.0);
  EXPECT_EQ(param("tone", "frequency").committed().double_value(), 330.5);
}

TEST_F(osc, changes_are_echoed_to_configured_and_registered_clients) {
  const int dump1 = free_loopback_port(SOCK_DGRAM), dump2 = free_loopback_port(SOCK_DGRAM);
  char tmpl[] = "/tmp/sg-osc-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  child d1({"oscdump", "-L", std::to_string(dump1)}, dir + "/dump1.log");
  child d2({"oscdump", "-L", std::to_string(dump2)}, dir + "/dump2.log");
  ASSERT_NO_FATAL_FAILURE(start_osc(", echo_to: \"127.0.0.1:" + std::to_string(dump1) + "\""));
  auto read = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  /// Waits until every text of `want` is in the log at `path`; the log, as last read.
  auto wait_log = [&](const std::string& path, const std::vector<std::string>& want) {
    std::string log;
    for (const auto end = std::chrono::steady_clock::now() + patience;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(20ms)) {
      log = read(path);
      if (std::all_of(want.begin(), want.end(),
                      [&](const auto& w) { return log.find(w) != std::string::npos; }))
        break;
    }
    return log;
  };
  // Both dumps listen once a probe of ours shows up in their logs (a probe sent before oscdump
  // binds is lost: send another).
  for (const auto& [port, log] : {std::pair{dump1, dir + "/dump1.log"},
                                  std::pair{dump2, dir + "/dump2.log"}}) {
    bool heard = false;
    for (int i = 0; i < 50 && !heard; ++i) {
      ASSERT_EQ(run("oscsend 127.0.0.1 " + std::to_string(port) + " /probe i 1").exit_code, 0);
      for (int j = 0; j < 10 && !heard; ++j, std::this_thread::sleep_for(20ms))
        heard = read(log).find("/probe") != std::string::npos;
    }
    ASSERT_TRUE(heard) << "oscdump on port " << port << " never heard a probe";
  }
  // The server handles datagrams in order: once the commit sent after /sg/register is applied,
  // the registration is in place.
  send("/sg/register", "i " + std::to_string(dump2));
  send("/sg/amp/level/commit", "f -8");
  ASSERT_TRUE(wait_value("amp", "level", is(-8))) << "the commit after /sg/register";
  ASSERT_EQ(set("amp", "level", number(-7)).status().code(), 0) << "a change from elsewhere";
  send("/sg/tone/frequency/commit", "f 220");
  const std::vector<std::string> want = {"/sg/amp/level f -7.0", "/sg/tone/frequency f 220.0"};
  const auto log1 = wait_log(dir + "/dump1.log", want);
  const auto log2 = wait_log(dir + "/dump2.log", want);
  EXPECT_NE(log1.find(want[0]), std::string::npos) << log1;
  EXPECT_NE(log1.find(want[1]), std::string::npos) << log1;
  EXPECT_NE(log2.find(want[0]), std::string::npos) << "registered: " << log2;
  EXPECT_NE(log2.find(want[1]), std::string::npos) << log2;
  std::filesystem::remove_all(dir);
}

TEST_F(osc, malformed_or_unknown_input_changes_nothing_and_the_server_keeps_serving) {
  ASSERT_NO_FATAL_FAILURE(start_osc());
  const uint64_t rev_before = node_rev("amp");
  send("/sg/amp", "f 1");                 // no parameter
  send("/other/amp/level", "f 1");        // not ours
  send("/sg/nobody/level", "f 1");        // unknown node
  send("/sg/amp/nothing", "f 1");         // unknown parameter
  send("/sg/amp/level", "s loud");        // wrong type
  send("/sg/amp/level", "ff 1 2");        // two values
  send("/sg/amp/level", "f 99");          // out of range: refused by the authority
  send("/sg/amp/level/commit/now", "f 1");
  // The server handles datagrams in order, and amp's authority its intents: the good one
  // after them is the first change of amp, and its only one so far.
  send("/sg/amp/level/commit", "f -9");
  const auto seen = changes_until("amp", "level", rev_before, is(-9));
  ASSERT_TRUE(seen) << "the server stopped serving";
  EXPECT_EQ(seen->size(), 1u) << "changed by bad input: " << show(*seen);
  EXPECT_EQ(seen->back().node_rev(), rev_before + 1);
  EXPECT_EQ(node_rev("amp"), rev_before + 1);
}

TEST_F(osc, a_port_in_use_is_reported) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port_));
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  start("  - { id: osc, type: control.osc, params: { listen: \"127.0.0.1:" +
        std::to_string(port_) + "\" } }\n");
  const auto evs = collect(patience, [](const v1::Event& e) {
    return e.has_node_status() && e.node_status().node() == "osc";
  });
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs.back().node_status().state(), v1::NodeStatus::STATE_FAILED);
  EXPECT_NE(evs.back().node_status().message().find("cannot bind 127.0.0.1:" +
                                                    std::to_string(port_)),
            std::string::npos)
    << evs.back().node_status().message();
  ::close(fd);
}

} // namespace
} // namespace sg::test
