/// sg::state_client against a real gateway (tests/gateway/fixture.hpp): the mirror seeds from
/// the Snapshot, intents echo back with this client's origin, refused intents fall back, racing
/// clients converge on the server's order, a restarted server is reached again and reseeds.

#include <atomic>
#include <future>
#include <iostream>
#include <thread>
#include <vector>

#include "apps/client/state_client.hpp"
#include "tests/gateway/fixture.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;

class state_client_test : public gateway_fixture {
protected:
  std::unique_ptr<state_client> make(const std::string& id) {
    return std::make_unique<state_client>([this] { return make_channel(address_); }, id);
  }

  /// Polls the client's mirror until `pred` holds (10 s at most: generous for sanitizer builds
  /// on a loaded machine, and a reconnect may wait out a backoff of a few seconds).
  template <class Pred>
  static bool eventually(const state_client& c, Pred pred) {
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms))
      if (pred(c.mirror()))
        return true;
    return pred(c.mirror());
  }

  static bool seeded(const state_mirror& m) { return m.seeded(); }

  static double effective(const state_mirror& m, const char* node, const char* param) {
    auto v = m.effective(node, param);
    return v ? v->double_value() : -1;
  }

  double server_value(const std::string& node, const std::string& param) {
    v1::GetNodeReply reply;
    EXPECT_TRUE(cl_->get(node, reply).ok());
    for (const auto& p : reply.node().params())
      if (p.name() == param)
        return p.value().double_value();
    return -1;
  }
};

TEST_F(state_client_test, watch_seeds_the_mirror_from_the_snapshot) {
  auto c = make("ui-1");
  EXPECT_FALSE(c->mirror().seeded());
  c->watch({});
  ASSERT_TRUE(eventually(*c, seeded));
  EXPECT_TRUE(c->connected());
  EXPECT_EQ(c->reconnects(), 0u);
  const auto m = c->mirror();
  EXPECT_EQ(m.snapshot().graph_name(), "gw-test");
  EXPECT_EQ(m.snapshot().nodes_size(), 4);
  EXPECT_EQ(effective(m, "osc", "frequency"), 440);
  ASSERT_NE(m.param("osc", "frequency"), nullptr);
  EXPECT_EQ(m.param("osc", "frequency")->base().double_value(), 440);
}

TEST_F(state_client_test, own_intent_echoes_back_and_is_applied) {
  auto c = make("ui-1");
  std::mutex mtx;
  std::vector<std::pair<v1::ParamChanged, bool>> seen;
  c->watch([&](const v1::Event& ev, bool applied) {
    if (ev.has_param_changed()) {
      std::lock_guard lock(mtx);
      seen.emplace_back(ev.param_changed(), applied);
    }
  });
  ASSERT_TRUE(eventually(*c, seeded));
  v1::SetParamReply reply;
  ASSERT_TRUE(c->set("osc", "frequency", dbl(220), {}, &reply).ok());
  EXPECT_EQ(reply.applied().origin().client_id(), "ui-1");
  EXPECT_EQ(reply.applied().origin().client_rev(), 1u);
  ASSERT_TRUE(eventually(*c, [](const state_mirror& m) {
    return m.pending() == 0 && effective(m, "osc", "frequency") == 220;
  }));
  EXPECT_EQ(c->mirror().node_rev("osc"), reply.applied().node_rev());
  std::lock_guard lock(mtx);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].second);
  EXPECT_EQ(seen[0].first.origin().client_id(), "ui-1");
}

TEST_F(state_client_test, refused_intent_falls_back_to_the_server_state) {
  auto c = make("ui-1");
  c->watch({});
  ASSERT_TRUE(eventually(*c, seeded));
  auto status = c->set("osc", "frequency", dbl(50000));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const auto m = c->mirror();
  EXPECT_EQ(m.pending(), 0u);
  EXPECT_EQ(effective(m, "osc", "frequency"), 440);
  EXPECT_EQ(m.latest_own_rev("osc", "frequency"), 1u);
}

TEST_F(state_client_test, intents_without_a_watch_number_from_one) {
  auto c = make("cli");
  v1::SetParamReply reply;
  ASSERT_TRUE(c->set("osc", "frequency", dbl(220), {}, &reply).ok());
  EXPECT_EQ(reply.applied().origin().client_rev(), 1u);
  ASSERT_TRUE(c->set("amp", "level", dbl(-3), {}, &reply).ok());
  EXPECT_EQ(reply.applied().origin().client_rev(), 2u);
  EXPECT_EQ(c->mirror().pending(), 0u) << "answered intents are not kept without a watch";
}

TEST_F(state_client_test, overlay_and_settle_through_the_client) {
  auto c = make("ui-1");
  c->watch({});
  ASSERT_TRUE(eventually(*c, seeded));
  ASSERT_TRUE(c->set("osc", "frequency", dbl(300), {.overlay_source = "lfo"}).ok());
  ASSERT_TRUE(eventually(*c, [](const state_mirror& m) {
    const auto* p = m.param("osc", "frequency");
    return m.pending() == 0 && p && p->overlays_size() == 1 && p->value().double_value() == 300;
  }));
  ASSERT_TRUE(c->settle("osc", "frequency", "lfo").ok());
  ASSERT_TRUE(eventually(*c, [](const state_mirror& m) {
    const auto* p = m.param("osc", "frequency");
    return m.pending() == 0 && p && p->overlays_size() == 0 && p->has_committed() &&
           p->committed().double_value() == 300 && !p->persisted();
  }));
  EXPECT_EQ(effective(c->mirror(), "osc", "frequency"), 300);
}

TEST_F(state_client_test, two_racing_clients_converge_on_the_server_order) {
  auto a = make("ui-a");
  auto b = make("ui-b");
  a->watch({});
  b->watch({});
  ASSERT_TRUE(eventually(*a, seeded));
  ASSERT_TRUE(eventually(*b, seeded));
  auto drag = [](state_client& c, double from) {
    for (int i = 0; i < 40; ++i)
      EXPECT_TRUE(c.set("osc", "frequency", dbl(from + i)).ok());
  };
  std::thread ta(drag, std::ref(*a), 100.0);
  std::thread tb(drag, std::ref(*b), 200.0);
  ta.join();
  tb.join();
  const double truth = server_value("osc", "frequency");
  for (auto* c : {a.get(), b.get()})
    EXPECT_TRUE(eventually(*c, [&](const state_mirror& m) {
      return m.pending() == 0 && effective(m, "osc", "frequency") == truth;
    })) << c->client_id() << " shows " << effective(c->mirror(), "osc", "frequency")
        << ", the server has " << truth;
  EXPECT_EQ(a->mirror().node_rev("osc"), b->mirror().node_rev("osc"));
  EXPECT_EQ(a->mirror().snapshot().ShortDebugString(), b->mirror().snapshot().ShortDebugString());
}

// A drags a value fast while B makes occasional edits to the same parameter and C edits
// another one and only watches this one. A's view never goes back to one of its own older
// values (no stale self-echo is applied), B's edits reach A when they happen, and all three
// end on the authority's state.
TEST_F(state_client_test, fast_drag_never_applies_stale_self_echoes_while_others_edits_apply) {
  auto a = make("surface-a");
  auto b = make("laptop-b");
  auto c = make("operator-c");
  std::atomic<int> b_echoes_at_a{0};
  a->watch([&](const v1::Event& ev, bool applied) {
    if (ev.has_param_changed() && ev.param_changed().origin().client_id() == "laptop-b" &&
        applied)
      ++b_echoes_at_a;
  });
  b->watch({});
  c->watch({});
  for (auto* x : {a.get(), b.get(), c.get()})
    ASSERT_TRUE(eventually(*x, seeded));

  std::atomic<bool> dragging{true};
  std::vector<double> seen;  // A-range values A's view showed, in order
  std::thread sampler([&] {
    while (dragging) {
      const double v = effective(a->mirror(), "osc", "frequency");
      if (v >= 1000 && v < 2000 && (seen.empty() || seen.back() != v))
        seen.push_back(v);
    }
  });
  int b_sets = 0;
  std::thread tb([&] {
    for (int i = 0; i < 10; ++i) {
      std::this_thread::sleep_for(3ms);
      b_sets += b->set("osc", "frequency", dbl(5000 + i)).ok();
    }
  });
  std::thread tc([&] {
    for (int i = 0; i < 20; ++i)
      EXPECT_TRUE(c->set("amp", "level", dbl(-30 + i)).ok());
  });
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(a->set("osc", "frequency", dbl(1000 + i)).ok());
  tb.join();
  tc.join();
  ASSERT_TRUE(a->set("osc", "frequency", dbl(1999)).ok());
  dragging = false;
  sampler.join();

  for (size_t i = 1; i < seen.size(); ++i)
    ASSERT_GT(seen[i], seen[i - 1]) << "A's view went back to its own older value " << seen[i]
                                    << " after " << seen[i - 1];
  EXPECT_EQ(b_sets, 10);
  EXPECT_TRUE(eventually(*a, [&](const state_mirror&) { return b_echoes_at_a == b_sets; }))
    << "B's edits are applied at A: " << b_echoes_at_a;
  const double truth = server_value("osc", "frequency");
  EXPECT_EQ(truth, 1999);
  for (auto* x : {a.get(), b.get(), c.get()})
    EXPECT_TRUE(eventually(*x, [&](const state_mirror& m) {
      return m.pending() == 0 && effective(m, "osc", "frequency") == truth &&
             effective(m, "amp", "level") == server_value("amp", "level");
    })) << x->client_id();
  EXPECT_EQ(a->mirror().snapshot().ShortDebugString(), c->mirror().snapshot().ShortDebugString());
}

TEST_F(state_client_test, reconnects_and_reseeds_after_a_server_restart) {
  auto c = make("ui-1");
  c->watch({});
  ASSERT_TRUE(eventually(*c, seeded));
  gw_->stop();
  ASSERT_TRUE(eventually(*c, [&](const state_mirror&) { return !c->connected(); }));

  // Changed while the client is away: only the new Snapshot can tell it.
  v1::SetParamRequest offline;
  offline.set_node("osc");
  offline.set_param("frequency");
  *offline.mutable_value() = dbl(330);
  offline.mutable_origin()->set_client_id("elsewhere");
  ASSERT_EQ(rt_->set_param(offline).status().code(), 0);

  gateway again(*rt_, {.listen = address_});
  auto started = again.start();
  ASSERT_TRUE(started) << started.error();
  ASSERT_TRUE(eventually(*c, [&](const state_mirror& m) {
    return c->connected() && effective(m, "osc", "frequency") == 330;
  }));
  EXPECT_GE(c->reconnects(), 1u);
  c->stop();
}

TEST_F(state_client_test, stop_cancels_the_stream_promptly) {
  auto c = make("ui-1");
  c->watch({});
  ASSERT_TRUE(eventually(*c, seeded));
  // The stream never ends by itself: stop() returns only if it cancels it. How long that took
  // is printed, not asserted (it depends on the machine).
  const auto t0 = std::chrono::steady_clock::now();
  auto stop = std::make_shared<std::packaged_task<void()>>([raw = c.get()] { raw->stop(); });
  auto stopped = stop->get_future();
  std::thread([stop] { (*stop)(); }).detach();
  if (stopped.wait_for(10s) != std::future_status::ready) {
    c.release();  // still inside stop() on the detached thread: leaked, not destroyed under it
    FAIL() << "stop() did not return: it waits for the stream instead of cancelling it";
  }
  std::cout << "stop() took "
            << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                 .count()
            << " ms\n";
  EXPECT_FALSE(c->connected());
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       gw_->subscribers() > 0 && std::chrono::steady_clock::now() < deadline;)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(gw_->subscribers(), 0u);
}

} // namespace
} // namespace sg::test
