/// sg::state_mirror driven by synthetic events: the echo rule, the three layers, settle,
/// snapshots and node revisions (docs/STATE_MODEL.md).

#include <gtest/gtest.h>

#include "apps/client/state_client.hpp"
#include "apps/client/state_mirror.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;

v1::Value dbl(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}

double eff(const state_mirror& m, const std::string& node, const std::string& param) {
  auto v = m.effective(node, param);
  EXPECT_TRUE(v.has_value()) << node << '.' << param;
  return v ? v->double_value() : -1;
}

/// Two nodes: osc {frequency base 440, level base -12} at node_rev `rev`, amp {level base -6}.
v1::Event snapshot(uint64_t rev = 0, double frequency = 440) {
  v1::Event ev;
  ev.set_seq(1);
  auto* snap = ev.mutable_snapshot();
  snap->set_graph_name("test");
  snap->set_graph_rev(1);
  auto add = [&](const std::string& id, const std::string& type,
                 std::vector<std::pair<std::string, double>> params) {
    auto* n = snap->add_nodes();
    n->set_id(id);
    n->set_type(type);
    n->set_node_rev(id == "osc" ? rev : 0);
    for (auto& [name, value] : params) {
      auto* p = n->add_params();
      p->set_name(name);
      *p->mutable_base() = dbl(value);
      *p->mutable_value() = dbl(value);
    }
  };
  add("osc", "audio.sine", {{"frequency", frequency}, {"level", -12}});
  add("amp", "audio.gain", {{"level", -6}});
  return ev;
}

/// What the authority broadcasts for one applied layer change.
struct change {
  std::string node = "osc";
  std::string param = "frequency";
  v1::Layer layer = v1::LAYER_COMMITTED;
  std::optional<double> value;  // nullopt: cleared
  std::optional<double> effective;
  uint64_t node_rev = 0;
  std::string client_id;
  uint64_t client_rev = 0;
  std::string source;
  bool persist = false;
  v1::ChangeReason reason = v1::CHANGE_REASON_INTENT;

  v1::Event event() const {
    v1::Event ev;
    ev.set_node_id(node);
    auto* pc = ev.mutable_param_changed();
    pc->set_node(node);
    pc->set_param(param);
    pc->set_layer(layer);
    if (value)
      *pc->mutable_value() = dbl(*value);
    pc->set_cleared(!value);
    if (effective)
      *pc->mutable_effective() = dbl(*effective);
    pc->set_node_rev(node_rev);
    pc->mutable_origin()->set_client_id(client_id);
    pc->mutable_origin()->set_client_rev(client_rev);
    pc->set_source(source);
    pc->set_persist(persist);
    pc->set_reason(reason);
    return ev;
  }
};

/// An echo of a committed write.
v1::Event committed(double value, uint64_t node_rev, const std::string& client_id,
                    uint64_t client_rev) {
  return change{.value = value, .effective = value, .node_rev = node_rev,
                .client_id = client_id, .client_rev = client_rev}
    .event();
}

class mirror_test : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(m_.apply(snapshot())); }
  state_mirror m_{"me"};
};

TEST_F(mirror_test, revisions_are_monotonic_from_one) {
  EXPECT_EQ(m_.last_rev(), 0u);
  EXPECT_EQ(m_.note_intent("osc", "frequency", dbl(220)), 1u);
  EXPECT_EQ(m_.note_intent("amp", "level", dbl(-3)), 2u);
  EXPECT_EQ(m_.note_intent("osc", "frequency", dbl(230)), 3u);
  EXPECT_EQ(m_.latest_own_rev("osc", "frequency"), 3u);
  EXPECT_EQ(m_.latest_own_rev("amp", "level"), 2u);
  EXPECT_EQ(m_.latest_own_rev("osc", "level"), 0u);
}

TEST_F(mirror_test, intent_shows_at_once_in_the_view_only) {
  m_.note_intent("osc", "frequency", dbl(220));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_EQ(m_.param("osc", "frequency")->committed().double_value(), 220);
  EXPECT_EQ(m_.authority().nodes(0).params(0).value().double_value(), 440);
  EXPECT_EQ(m_.pending(), 1u);
}

TEST_F(mirror_test, stale_self_echo_is_dropped) {
  const auto r1 = m_.note_intent("osc", "frequency", dbl(220));
  const auto r2 = m_.note_intent("osc", "frequency", dbl(330));
  EXPECT_FALSE(m_.apply(committed(220, 1, "me", r1)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 330) << "the older echo must not pull the value back";
  EXPECT_TRUE(m_.apply(committed(330, 2, "me", r2)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 330);
  EXPECT_EQ(m_.pending(), 0u);
}

TEST_F(mirror_test, own_echo_of_the_latest_rev_is_applied) {
  const auto r1 = m_.note_intent("osc", "frequency", dbl(220));
  // The authority normalises (here: to 221) and the echo is the truth.
  EXPECT_TRUE(m_.apply(committed(221, 1, "me", r1)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 221);
  EXPECT_EQ(m_.node_rev("osc"), 1u);
  EXPECT_EQ(m_.pending(), 0u);
}

TEST_F(mirror_test, own_echo_on_another_parameter_is_not_stale) {
  m_.note_intent("osc", "frequency", dbl(220));
  const auto r2 = m_.note_intent("osc", "level", dbl(-3));
  const auto r3 = m_.note_intent("osc", "frequency", dbl(330));
  ASSERT_LT(r2, r3);
  auto level = committed(-3, 1, "me", r2);
  level.mutable_param_changed()->set_param("level");
  EXPECT_TRUE(m_.apply(level));
  EXPECT_EQ(eff(m_, "osc", "level"), -3);
}

TEST_F(mirror_test, other_clients_edits_are_applied_even_with_the_same_rev) {
  EXPECT_TRUE(m_.apply(committed(500, 1, "them", 1)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 500);
  m_.note_intent("osc", "frequency", dbl(220));
  m_.note_intent("osc", "frequency", dbl(230));
  EXPECT_TRUE(m_.apply(committed(600, 2, "them", 1))) << "rev 1 of another client is not ours";
  EXPECT_EQ(m_.authority().nodes(0).params(0).value().double_value(), 600);
}

TEST_F(mirror_test, interleaved_edits_end_in_server_order) {
  // Server order: them (node_rev 1), me (2), them again (3).
  const auto mine = m_.note_intent("osc", "frequency", dbl(220));
  EXPECT_TRUE(m_.apply(committed(500, 1, "them", 7)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220) << "our intent was applied after theirs";
  EXPECT_TRUE(m_.apply(committed(220, 2, "me", mine)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_TRUE(m_.apply(committed(600, 3, "them", 8)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 600);
  EXPECT_EQ(m_.node_rev("osc"), 3u);
  EXPECT_EQ(m_.pending(), 0u);
}

TEST_F(mirror_test, reordered_own_echoes_converge_to_the_server) {
  // The server applied rev 2 before rev 1: it ends at 220, and so must we. Once rev 2 is
  // answered nothing newer is pending, so the late rev 1 is not stale: it is the server's truth.
  const auto r1 = m_.note_intent("osc", "frequency", dbl(220));
  const auto r2 = m_.note_intent("osc", "frequency", dbl(330));
  EXPECT_TRUE(m_.apply(committed(330, 1, "me", r2)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220) << "rev 1 is still to be applied after rev 2";
  EXPECT_TRUE(m_.apply(committed(220, 2, "me", r1)));
  EXPECT_EQ(m_.pending(), 0u);
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
}

TEST_F(mirror_test, stale_echo_still_updates_the_layers_under_a_newer_intent) {
  const auto r1 = m_.note_intent("osc", "frequency", dbl(220));
  const auto r2 = m_.note_intent("osc", "frequency", dbl(300), {.overlay_source = "lfo"});
  // The server normalised rev 1 to 221: the committed layer must show it.
  EXPECT_FALSE(m_.apply(committed(221, 1, "me", r1)));
  const auto* p = m_.param("osc", "frequency");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->committed().double_value(), 221);
  EXPECT_EQ(p->value().double_value(), 300);
  EXPECT_EQ(m_.latest_own_rev("osc", "frequency"), r2);
}

TEST_F(mirror_test, overlay_beats_committed_beats_base) {
  EXPECT_EQ(eff(m_, "osc", "frequency"), 440);
  EXPECT_TRUE(m_.apply(committed(220, 1, "them", 1)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .effective = 300,
                              .node_rev = 2, .client_id = "them", .client_rev = 2,
                              .source = "lfo"}
                         .event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 300);
  // A new base does not show through the committed value and the overlay.
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_BASE, .value = 100, .effective = 300,
                              .node_rev = 3, .reason = v1::CHANGE_REASON_GRAPH}
                         .event()));
  const auto* p = m_.param("osc", "frequency");
  EXPECT_EQ(p->base().double_value(), 100);
  EXPECT_EQ(p->committed().double_value(), 220);
  ASSERT_EQ(p->overlays_size(), 1);
  EXPECT_EQ(p->overlays(0).source(), "lfo");
  EXPECT_EQ(p->value().double_value(), 300);
}

TEST_F(mirror_test, effective_is_composed_when_the_server_leaves_it_unset) {
  EXPECT_TRUE(m_.apply(change{.value = 220, .node_rev = 1, .client_id = "them"}.event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .node_rev = 2,
                              .client_id = "them", .source = "lfo"}
                         .event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 300);
  EXPECT_TRUE(m_.apply(
    change{.layer = v1::LAYER_COMMITTED, .node_rev = 3, .client_id = "them"}.event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 300);
  EXPECT_FALSE(m_.param("osc", "frequency")->has_committed());
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .node_rev = 4, .source = "lfo"}.event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 440) << "back to base";
}

TEST_F(mirror_test, cleared_overlay_falls_back_to_the_previous_source_then_committed) {
  m_.apply(committed(220, 1, "them", 1));
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .effective = 300, .node_rev = 2,
                  .source = "lfo"}
             .event());
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 310, .effective = 310, .node_rev = 3,
                  .source = "midi"}
             .event());
  EXPECT_EQ(eff(m_, "osc", "frequency"), 310);
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .effective = 300, .node_rev = 4,
                              .source = "midi"}
                         .event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 300);
  ASSERT_EQ(m_.param("osc", "frequency")->overlays_size(), 1);
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .effective = 220, .node_rev = 5,
                              .source = "lfo"}
                         .event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_EQ(m_.param("osc", "frequency")->overlays_size(), 0);
}

TEST_F(mirror_test, rewriting_an_overlay_makes_it_the_newest) {
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .node_rev = 1, .source = "lfo"}
             .event());
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 310, .node_rev = 2, .source = "midi"}
             .event());
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 305, .node_rev = 3, .source = "lfo"}
             .event());
  const auto* p = m_.param("osc", "frequency");
  ASSERT_EQ(p->overlays_size(), 2);
  EXPECT_EQ(p->overlays(1).source(), "lfo");
  EXPECT_EQ(eff(m_, "osc", "frequency"), 305);
}

TEST_F(mirror_test, settle_sequence_moves_the_overlay_into_a_session_commit) {
  m_.apply(committed(220, 1, "me", m_.note_intent("osc", "frequency", dbl(220))));
  const auto ov = m_.note_intent("osc", "frequency", dbl(300), {.overlay_source = "lfo"});
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .effective = 300, .node_rev = 2,
                  .client_id = "me", .client_rev = ov, .source = "lfo"}
             .event());
  ASSERT_EQ(m_.pending(), 0u);

  const auto rev = m_.note_settle("osc", "frequency", "lfo");
  EXPECT_EQ(m_.latest_own_rev("osc", "frequency"), rev);
  const auto* p = m_.param("osc", "frequency");
  EXPECT_EQ(p->overlays_size(), 0);
  EXPECT_EQ(p->committed().double_value(), 300);
  EXPECT_FALSE(p->persisted()) << "settled values are session-only";

  // First echo: the overlay is cleared; the server's effective falls to the old commit for a
  // moment, but the view keeps the settled value until the second echo.
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .effective = 220, .node_rev = 3,
                              .client_id = "me", .client_rev = rev, .source = "lfo",
                              .reason = v1::CHANGE_REASON_SETTLE}
                         .event()));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 300);
  EXPECT_EQ(m_.pending(), 1u);
  EXPECT_TRUE(m_.apply(change{.value = 300, .effective = 300, .node_rev = 4, .client_id = "me",
                              .client_rev = rev, .source = "lfo",
                              .reason = v1::CHANGE_REASON_SETTLE}
                         .event()));
  EXPECT_EQ(m_.pending(), 0u);
  p = m_.param("osc", "frequency");
  EXPECT_EQ(p->overlays_size(), 0);
  EXPECT_EQ(p->committed().double_value(), 300);
  EXPECT_EQ(p->value().double_value(), 300);
  EXPECT_EQ(m_.node_rev("osc"), 4u);
}

TEST_F(mirror_test, settle_by_timeout_comes_without_origin_and_is_applied) {
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .effective = 300, .node_rev = 1,
                  .client_id = "them", .client_rev = 4, .source = "osc-in"}
             .event());
  EXPECT_TRUE(m_.apply(change{.layer = v1::LAYER_OVERLAY, .effective = 440, .node_rev = 2,
                              .source = "osc-in", .reason = v1::CHANGE_REASON_SETTLE}
                         .event()));
  EXPECT_TRUE(m_.apply(change{.value = 300, .effective = 300, .node_rev = 3,
                              .source = "osc-in", .reason = v1::CHANGE_REASON_SETTLE}
                         .event()));
  const auto* p = m_.param("osc", "frequency");
  EXPECT_EQ(p->overlays_size(), 0);
  EXPECT_EQ(p->committed().double_value(), 300);
  EXPECT_FALSE(p->persisted());
}

TEST_F(mirror_test, settle_of_a_whole_node_covers_only_that_source) {
  m_.apply(change{.layer = v1::LAYER_OVERLAY, .value = 300, .node_rev = 1, .source = "lfo"}
             .event());
  m_.apply(change{.param = "level", .layer = v1::LAYER_OVERLAY, .value = -3, .node_rev = 2,
                  .source = "midi"}
             .event());
  m_.note_settle("osc", "", "lfo");
  EXPECT_EQ(m_.pending(), 1u);
  EXPECT_EQ(m_.param("osc", "frequency")->committed().double_value(), 300);
  EXPECT_EQ(m_.param("osc", "level")->overlays_size(), 1);
  EXPECT_EQ(m_.latest_own_rev("osc", "level"), 0u);
}

TEST_F(mirror_test, persist_marks_the_committed_value) {
  const auto rev = m_.note_intent("osc", "frequency", dbl(220), {.persist = true});
  EXPECT_TRUE(m_.param("osc", "frequency")->persisted());
  EXPECT_TRUE(m_.apply(change{.value = 220, .effective = 220, .node_rev = 1, .client_id = "me",
                              .client_rev = rev, .persist = true}
                         .event()));
  EXPECT_TRUE(m_.param("osc", "frequency")->persisted());
  EXPECT_TRUE(m_.apply(committed(230, 2, "them", 1)));
  EXPECT_FALSE(m_.param("osc", "frequency")->persisted()) << "a session-only commit replaced it";
}

TEST_F(mirror_test, rejected_intent_falls_back_to_the_server_state) {
  const auto rev = m_.note_intent("osc", "frequency", dbl(99999));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 99999);
  m_.reject(rev);
  EXPECT_EQ(eff(m_, "osc", "frequency"), 440);
  EXPECT_FALSE(m_.param("osc", "frequency")->has_committed());
  EXPECT_EQ(m_.pending(), 0u);

  const auto typo = m_.note_intent("osc", "frequncy", dbl(1));
  EXPECT_NE(m_.param("osc", "frequncy"), nullptr);
  m_.reject(typo);
  EXPECT_EQ(m_.param("osc", "frequncy"), nullptr);
}

TEST_F(mirror_test, an_older_echo_after_the_latest_was_refused_is_applied) {
  const auto r1 = m_.note_intent("osc", "frequency", dbl(220));
  const auto r2 = m_.note_intent("osc", "frequency", dbl(99999));
  m_.reject(r2);
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220) << "rev 1 is still in flight";
  EXPECT_TRUE(m_.apply(committed(220, 1, "me", r1)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_EQ(m_.pending(), 0u);
}

TEST_F(mirror_test, acknowledged_intent_waits_for_the_authority) {
  const auto rev = m_.note_intent("osc", "frequency", dbl(220));
  m_.acknowledge(rev, 1);
  EXPECT_EQ(m_.pending(), 1u) << "the echo has not arrived";
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  // The echo was lost to a resync; a later change of the node proves the authority has it.
  auto level = committed(-3, 2, "them", 1);
  level.mutable_param_changed()->set_param("level");
  EXPECT_TRUE(m_.apply(level));
  EXPECT_EQ(m_.pending(), 0u);
  EXPECT_EQ(eff(m_, "osc", "frequency"), 440) << "the authority never showed our 220";

  const auto late = m_.note_intent("osc", "frequency", dbl(230));
  m_.acknowledge(late, 2);
  EXPECT_EQ(m_.pending(), 0u) << "already caught up";
  const auto quiet = m_.note_intent("osc", "frequency", dbl(240));
  m_.acknowledge(quiet, 0);
  EXPECT_EQ(m_.pending(), 0u) << "node_rev 0: no echo will come";
}

TEST_F(mirror_test, snapshot_replaces_everything_but_keeps_own_revisions) {
  const auto mine = m_.note_intent("amp", "level", dbl(-3));
  m_.acknowledge(mine, 1);
  m_.apply(committed(220, 1, "them", 1));
  v1::Event next = snapshot(7, 880);
  next.mutable_snapshot()->mutable_nodes()->DeleteSubrange(1, 1);  // amp is gone
  next.mutable_snapshot()->set_graph_rev(2);
  EXPECT_TRUE(m_.apply(next));
  EXPECT_EQ(m_.snapshot().graph_rev(), 2u);
  EXPECT_EQ(m_.node("amp"), nullptr);
  EXPECT_EQ(eff(m_, "osc", "frequency"), 880);
  EXPECT_FALSE(m_.param("osc", "frequency")->has_committed());
  EXPECT_EQ(m_.node_rev("osc"), 7u);
  EXPECT_EQ(m_.pending(), 0u);
  EXPECT_EQ(m_.latest_own_rev("amp", "level"), mine);
  EXPECT_EQ(m_.note_intent("osc", "level", dbl(-1)), mine + 1);
}

TEST_F(mirror_test, snapshot_keeps_unanswered_intents_on_top) {
  m_.note_intent("osc", "frequency", dbl(220));
  EXPECT_TRUE(m_.apply(snapshot(3, 880)));
  EXPECT_EQ(eff(m_, "osc", "frequency"), 220);
  EXPECT_EQ(m_.authority().nodes(0).params(0).value().double_value(), 880);
}

TEST_F(mirror_test, node_rev_follows_the_authority_not_the_intents) {
  EXPECT_EQ(m_.node_rev("osc"), 0u);
  m_.note_intent("osc", "frequency", dbl(220));
  EXPECT_EQ(m_.node_rev("osc"), 0u);
  m_.apply(committed(500, 5, "them", 1));
  EXPECT_EQ(m_.node_rev("osc"), 5u);
  EXPECT_EQ(m_.node_rev("amp"), 0u);
  EXPECT_FALSE(m_.node_rev("nope").has_value());
}

TEST_F(mirror_test, unknown_nodes_and_statuses) {
  auto ev = committed(1, 1, "them", 1);
  ev.mutable_param_changed()->set_node("ghost");
  EXPECT_FALSE(m_.apply(ev));
  EXPECT_EQ(m_.node("ghost"), nullptr);

  v1::Event status;
  status.mutable_node_status()->set_node("amp");
  status.mutable_node_status()->set_state(v1::NodeStatus::STATE_FAILED);
  EXPECT_TRUE(m_.apply(status));
  EXPECT_EQ(m_.node("amp")->state(), v1::NodeStatus::STATE_FAILED);
}

TEST_F(mirror_test, graph_applied_drops_removed_nodes_and_their_intents) {
  m_.note_intent("amp", "level", dbl(-3));
  v1::Event ev;
  ev.mutable_graph_applied()->set_name("test");
  ev.mutable_graph_applied()->set_graph_rev(2);
  ev.mutable_graph_applied()->add_removed("amp");
  EXPECT_TRUE(m_.apply(ev));
  EXPECT_EQ(m_.node("amp"), nullptr);
  EXPECT_EQ(m_.pending(), 0u);
  EXPECT_EQ(m_.snapshot().graph_rev(), 2u);
  EXPECT_NE(m_.node("osc"), nullptr);
}

TEST(mirror_unseeded, intents_before_the_snapshot_are_forgotten_when_answered) {
  state_mirror m("me");
  EXPECT_FALSE(m.seeded());
  const auto rev = m.note_intent("osc", "frequency", dbl(220));
  EXPECT_EQ(rev, 1u);
  m.acknowledge(rev, 4);
  EXPECT_EQ(m.pending(), 0u);
}

TEST(backoff, doubles_from_100ms_to_a_5s_cap_with_20_percent_jitter) {
  client_options o;
  EXPECT_EQ(backoff_delay(o, 0, 0.5), 100ms);
  EXPECT_EQ(backoff_delay(o, 1, 0.5), 200ms);
  EXPECT_EQ(backoff_delay(o, 5, 0.5), 3200ms);
  EXPECT_EQ(backoff_delay(o, 6, 0.5), 5000ms);
  EXPECT_EQ(backoff_delay(o, 1000, 0.5), 5000ms);
  EXPECT_EQ(backoff_delay(o, 0, 0.0), 80ms);
  EXPECT_EQ(backoff_delay(o, 0, 1.0), 120ms);
  EXPECT_EQ(backoff_delay(o, 9, 1.0), 6000ms);
}

} // namespace
} // namespace sg::test
