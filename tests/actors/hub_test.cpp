// Event hub: ordering, per-subscription sequence numbers, snapshot first, filters, mirror,
// unsubscribe and resync — driven through a real actor system.

#include <gtest/gtest.h>

#include "actors/hub.hpp"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;

struct hub_config : caf::actor_system_config {
  hub_config() {
    add_message_types<caf::id_block::studiograph>();
    set("logger.console", caf::atom("none"));
  }
};

v1::Event param_event(const std::string& node, double value, uint64_t rev) {
  v1::Event ev;
  ev.set_node_id(node);
  auto* pc = ev.mutable_param_changed();
  pc->set_node(node);
  pc->set_param("level");
  pc->mutable_value()->set_double_value(value);
  pc->set_node_rev(rev);
  pc->set_layer(v1::LAYER_COMMITTED);
  *pc->mutable_effective() = pc->value();
  pc->mutable_origin()->set_client_id("test");
  pc->mutable_origin()->set_client_rev(rev);
  return ev;
}

v1::Snapshot two_nodes() {
  v1::Snapshot snap;
  snap.set_graph_name("g");
  for (const char* id : {"a", "b"}) {
    auto* n = snap.add_nodes();
    n->set_id(id);
    auto* p = n->add_params();
    p->set_name("level");
    p->mutable_value()->set_double_value(0);
  }
  return snap;
}

class hub_fixture : public ::testing::Test {
protected:
  hub_config cfg;
  caf::actor_system sys{cfg};
  sg::hub_actor hub = sg::spawn_hub(sys);

  /// Subscribes `sink` and returns its id.
  uint64_t subscribe(caf::scoped_actor& sink, v1::SubscribeRequest filter = {}) {
    uint64_t id = 0;
    caf::scoped_actor self{sys};
    self->request(hub, 10s, caf::subscribe_atom_v, caf::actor_cast<caf::actor>(sink), filter)
      .receive([&](uint64_t x) { id = x; }, [](caf::error&) {});
    return id;
  }

  /// Next event delivered to `sink`, or an empty event after a timeout (generous: a wait ends
  /// as soon as the event is there).
  static v1::Event next(caf::scoped_actor& sink) {
    v1::Event out;
    sink->receive([&](v1::Event& ev) { out = std::move(ev); }, caf::after(10s) >> [] {});
    return out;
  }

  /// Publishes a marker after everything published so far (the hub handles what one thread
  /// sends in order) and returns it: a sink that receives it next got nothing in between.
  v1::Event marker(const std::string& node = "b") {
    auto ev = param_event(node, 1e6, 1000);
    caf::anon_send(hub, ev);
    return ev;
  }

  /// True when `sink` has nothing queued right now.
  static bool nothing_queued(caf::scoped_actor& sink) {
    bool got = false;
    sink->receive([&](v1::Event&) { got = true; }, caf::after(0s) >> [] {});
    return !got;
  }
};

bool is_marker(const v1::Event& ev) {
  return ev.has_param_changed() && ev.param_changed().value().double_value() == 1e6;
}

TEST_F(hub_fixture, snapshot_first_then_deltas_in_publish_order_with_contiguous_seq) {
  caf::anon_send(hub, two_nodes());
  caf::scoped_actor sink{sys};
  subscribe(sink);
  auto first = next(sink);
  ASSERT_TRUE(first.has_snapshot());
  EXPECT_EQ(first.seq(), 1u);
  EXPECT_EQ(first.snapshot().nodes_size(), 2);
  for (int i = 1; i <= 200; ++i)
    caf::anon_send(hub, param_event(i % 2 ? "a" : "b", i, i));
  for (int i = 1; i <= 200; ++i) {
    auto ev = next(sink);
    ASSERT_TRUE(ev.has_param_changed()) << "event " << i;
    EXPECT_EQ(ev.seq(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(ev.param_changed().value().double_value(), i) << "published order kept";
    EXPECT_GT(ev.time_unix_ns(), 0) << "the hub stamps time";
  }
  marker();
  const auto after = next(sink);
  EXPECT_TRUE(is_marker(after)) << "nothing more before the marker: " << after.ShortDebugString();
  EXPECT_EQ(after.seq(), 202u);
}

TEST_F(hub_fixture, late_subscriber_snapshot_reflects_everything_published) {
  caf::anon_send(hub, two_nodes());
  caf::anon_send(hub, param_event("b", -6, 1));
  caf::anon_send(hub, param_event("b", -9, 2));
  caf::scoped_actor sink{sys};
  subscribe(sink);
  auto snap = next(sink);
  ASSERT_TRUE(snap.has_snapshot());
  const auto& b = snap.snapshot().nodes(1);
  EXPECT_EQ(b.id(), "b");
  EXPECT_EQ(b.node_rev(), 2u);
  EXPECT_EQ(b.params(0).value().double_value(), -9);
  EXPECT_EQ(snap.snapshot().nodes(0).node_rev(), 0u) << "untouched node unchanged";
}

TEST_F(hub_fixture, filters_keep_seq_contiguous_per_subscription_and_never_drop_the_snapshot) {
  caf::anon_send(hub, two_nodes());
  caf::scoped_actor only_b{sys};
  v1::SubscribeRequest filter;
  filter.add_nodes("b");
  subscribe(only_b, filter);
  ASSERT_TRUE(next(only_b).has_snapshot());
  for (int i = 1; i <= 10; ++i)
    caf::anon_send(hub, param_event(i % 2 ? "a" : "b", i, i));
  for (uint64_t seq = 2; seq <= 6; ++seq) {
    auto ev = next(only_b);
    ASSERT_TRUE(ev.has_param_changed());
    EXPECT_EQ(ev.node_id(), "b");
    EXPECT_EQ(ev.seq(), seq);
  }
  marker("b");
  const auto after = next(only_b);
  EXPECT_TRUE(is_marker(after)) << "events of node a must not arrive: " << after.ShortDebugString();
  EXPECT_EQ(after.seq(), 7u);
}

TEST_F(hub_fixture, unsubscribe_stops_delivery_and_resync_sends_a_fresh_snapshot) {
  caf::anon_send(hub, two_nodes());
  caf::scoped_actor sink{sys};
  auto id = subscribe(sink);
  ASSERT_TRUE(next(sink).has_snapshot());
  caf::anon_send(hub, param_event("a", 3, 1));
  ASSERT_TRUE(next(sink).has_param_changed());
  // A resync request from the sink itself answers with the current mirror, seq continuing.
  sink->send(hub, sg::resync_atom_v);
  auto resync = next(sink);
  ASSERT_TRUE(resync.has_snapshot());
  EXPECT_EQ(resync.seq(), 3u);
  EXPECT_EQ(resync.snapshot().nodes(0).params(0).value().double_value(), 3);
  // A second subscriber gets the marker after the hub has handled the event the first must
  // not get: by then that event would already be in the first's mailbox.
  caf::scoped_actor witness{sys};
  subscribe(witness);
  ASSERT_TRUE(next(witness).has_snapshot());
  caf::anon_send(hub, caf::unsubscribe_atom_v, id);
  caf::anon_send(hub, param_event("a", 4, 2));
  marker();
  for (auto ev = next(witness); !is_marker(ev); ev = next(witness))
    ASSERT_TRUE(ev.has_param_changed()) << "the marker never came";
  EXPECT_TRUE(nothing_queued(sink));
}

} // namespace
