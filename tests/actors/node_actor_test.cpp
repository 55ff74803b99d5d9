// Node authorities, deterministically: one node actor on CAF's test scheduler, its device,
// persistence writer and hub stood in by probes. Every message it sends is read in order, the
// ones it must not send are asserted absent, and settle timers fire when the test moves the
// clock.

#include "actors/node_actor.hpp"
#include "nodes/core/describe.hpp"
#include "tests/actors/deterministic.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;

/// The node type of these tests: a live level, a structural label, and a trim whose policy is
/// to store every committed value.
const node_info& knob_info() {
  static const node_info info = [] {
    node_info i;
    i.type = "test.knob";
    auto trim = describe::real("trim", -12, 12, 0, "dB", "Trim, stored whenever committed");
    trim.persist = true;
    i.params = {describe::real("level", -120, 24, 0, "dB", "Level"),
                describe::text("label", "knob", "Label"), std::move(trim)};
    return i;
  }();
  return info;
}

constexpr uint32_t knob_slot = 3;

v1::Value text(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}

class node_test : public deterministic_test {
protected:
  void SetUp() override { node = start(device, store, hub); }

  void TearDown() override {
    for (const auto& n : started)
      caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
    dispatch();
  }

  /// A knob (level -6 in its graph file) in slot 3 of `dev`, settling overlays after 500 ms
  /// by default and holding at most two intents while loading. `st` null: no persistence.
  node_actor start(probe& dev, const store_actor& st, probe& events) {
    v1::NodeSpec spec;
    spec.set_id("knob");
    spec.set_type(knob_info().type);
    (*spec.mutable_params())["level"] = dbl(-6);
    node_options options;
    options.default_settle = 500ms;
    options.max_queued = 2;
    auto n = spawn_node(sys, knob_info(), initial_node_state(knob_info(), spec),
                        kernel_binding{dev.as<device_actor>(), knob_slot}, events.as<hub_actor>(),
                        st, options);
    started.push_back(n);
    dispatch();
    return n;
  }
  node_actor start(probe& dev, probe& st, probe& events) {
    return start(dev, st.as<store_actor>(), events);
  }

  /// An intent from client "desk" at revision `rev`.
  static v1::SetParamRequest intent(const std::string& param, v1::Value value, uint64_t rev) {
    v1::SetParamRequest req;
    req.set_node("knob");
    req.set_param(param);
    *req.mutable_value() = std::move(value);
    *req.mutable_origin() = origin("desk", rev);
    return req;
  }
  static v1::SetParamRequest overlay(double value, uint64_t rev, uint32_t settle_ms = 0) {
    auto req = intent("level", dbl(value), rev);
    req.set_overlay_source("lfo");
    req.set_settle_ms(settle_ms);
    return req;
  }

  /// Sends `req` from the client and lets the node handle it.
  template <class Request>
  void send(const Request& req) {
    request(client, node, req);
    dispatch();
  }

  /// The kernel write the device got next.
  void expect_kernel(double value, const where& at = where::current()) {
    const caller trace(at);
    auto kp = take<v1::KernelParam>(device, at);
    EXPECT_EQ(kp.slot(), knob_slot);
    EXPECT_EQ(kp.index(), 0u) << "level";
    EXPECT_EQ(kp.value(), value);
  }

  /// The client's next reply accepted its intent as node revision `rev`.
  void expect_applied(uint64_t rev, const where& at = where::current()) {
    const caller trace(at);
    auto reply = take<v1::SetParamReply>(client, at);
    EXPECT_EQ(reply.status().code(), code_ok) << reply.status().message();
    EXPECT_EQ(reply.applied().node_rev(), rev);
  }

  /// Level committed at -3 (rev 1), then an lfo overlay at -10 settling after `settle_ms`
  /// (rev 2): both reached the kernel, the hub and the client, in that order.
  void commit_then_overlay(uint32_t settle_ms, const where& at = where::current()) {
    const caller trace(at);
    send(intent("level", dbl(-3), 1));
    send(overlay(-10, 2, settle_ms));
    expect_kernel(-3, at);
    expect_kernel(-10, at);
    EXPECT_EQ(take_change(hub, at).node_rev(), 1u);
    EXPECT_EQ(take_change(hub, at).node_rev(), 2u);
    expect_applied(1, at);
    expect_applied(2, at);
  }

  /// Device, writer and hub got nothing more.
  void expect_silence(const where& at = where::current()) {
    expect_nothing(device, at);
    expect_nothing(store, at);
    expect_nothing(hub, at);
  }

  probe hub{sys, "hub"}, store{sys, "store"}, device{sys, "device"}, client{sys, "client"};
  std::vector<node_actor> started;
  node_actor node;
};

// -- authority ----------------------------------------------------------------------------------

TEST_F(node_test, an_intent_writes_the_kernel_then_the_store_then_the_echo_then_replies) {
  // One probe stands in for the device, the writer, the hub and the client: its mailbox is
  // the order in which the node sent everything.
  probe world{sys, "device+store+hub+client"};
  auto solo = start(world, world, world);
  auto req = intent("level", dbl(-3), 7);
  req.set_persist(true);
  request(world, solo, req);
  dispatch();
  EXPECT_TRUE(same(take<v1::KernelParam>(world), "slot: 3 index: 0 value: -3"));
  EXPECT_TRUE(same(take<v1::PersistParam>(world), R"(node: "knob" type: "test.knob"
      param: "level" value { double_value: -3 } node_rev: 1)"));
  const auto echo = take_change(world);
  EXPECT_TRUE(same(echo, R"(node: "knob" param: "level" value { double_value: -3 } node_rev: 1
      origin { client_id: "desk" client_rev: 7 } layer: LAYER_COMMITTED
      effective { double_value: -3 } persist: true reason: CHANGE_REASON_INTENT)"));
  auto reply = take<v1::SetParamReply>(world);
  EXPECT_EQ(reply.status().code(), code_ok);
  EXPECT_TRUE(same(reply.applied(), echo.DebugString())) << "the reply carries the echo";
  expect_nothing(world);
}

TEST_F(node_test, a_refused_intent_names_the_field_and_changes_nothing) {
  auto persisted_overlay = overlay(-3, 5);
  persisted_overlay.set_persist(true);
  const std::vector<std::pair<v1::SetParamRequest, std::string>> refused = {
    {intent("nope", dbl(1), 1),
     R"pb(code: 3 field: "param"
          message: "param: node 'knob' (test.knob) has no parameter 'nope'")pb"},
    {intent("level", dbl(30), 2), R"(code: 3 field: "value"
       message: "value: level: value out of range: expected -120..24 dB")"},
    {intent("level", {}, 3), R"(code: 3 field: "value" message: "value: no value given")"},
    {intent("level", text("loud"), 4), R"pb(code: 3 field: "value"
       message: "value: level: wrong type: expected a number (-120..24 dB)")pb"},
    {persisted_overlay, R"(code: 3 field: "persist"
       message: "persist: overlays are never persisted; commit the value instead")"},
  };
  for (const auto& [req, status] : refused) {
    send(req);
    EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), status)) << req.ShortDebugString();
    expect_silence();
  }
  send(intent("label", text("fader"), 6));
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"(code: 9 field: "param"
      message: "param: 'label' is structural; change it in the graph file")"));
  expect_silence();
  // Nothing counted either: the next accepted change is the node's first revision.
  send(intent("level", dbl(-3), 7));
  expect_kernel(-3);
  EXPECT_EQ(take_change(hub).node_rev(), 1u);
  expect_applied(1);
  expect_silence();
}

TEST_F(node_test, a_parameter_whose_policy_is_to_persist_is_stored_unasked) {
  send(intent("trim", dbl(2), 1));
  auto kp = take<v1::KernelParam>(device);
  EXPECT_EQ(kp.index(), 2u) << "trim";
  EXPECT_TRUE(same(take<v1::PersistParam>(store), R"(node: "knob" type: "test.knob"
      param: "trim" value { double_value: 2 } node_rev: 1)"));
  EXPECT_TRUE(take_change(hub).persist());
  expect_applied(1);
  // A plain commit of a parameter without that policy is not stored.
  send(intent("level", dbl(-1), 2));
  expect_kernel(-1);
  EXPECT_FALSE(take_change(hub).persist());
  expect_nothing(store);
}

TEST_F(node_test, persist_without_a_writer_is_refused) {
  auto unstored = start(device, store_actor{}, hub);
  auto req = intent("level", dbl(-3), 1);
  req.set_persist(true);
  request(client, unstored, req);
  dispatch();
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"pb(code: 9 field: "persist"
      message: "persist: persistence is disabled for this graph (--state none)")pb"));
  expect_silence();
}

// -- layers and settle --------------------------------------------------------------------------

TEST_F(node_test, an_overlay_beats_the_committed_value_which_beats_the_base) {
  send(intent("level", dbl(-3), 1));
  expect_kernel(-3);
  EXPECT_EQ(take_change(hub).layer(), v1::LAYER_COMMITTED);
  expect_applied(1);
  send(overlay(-10, 2, 200));
  expect_kernel(-10);
  EXPECT_TRUE(same(take_change(hub), R"(node: "knob" param: "level" value { double_value: -10 }
      node_rev: 2 origin { client_id: "desk" client_rev: 2 } layer: LAYER_OVERLAY source: "lfo"
      effective { double_value: -10 } reason: CHANGE_REASON_INTENT)"));
  expect_applied(2);
  // A commit under the overlay changes the committed layer only: the kernel keeps -10.
  send(intent("level", dbl(-4), 3));
  const auto under = take_change(hub);
  EXPECT_EQ(under.layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(under.effective().double_value(), -10);
  expect_applied(3);
  expect_silence();

  request(client, node, v1::GetNodeRequest{});
  dispatch();
  const auto level = take<v1::GetNodeReply>(client).node().params(0);
  EXPECT_TRUE(same(level, R"(name: "level" value { double_value: -10 } base { double_value: -6 }
      committed { double_value: -4 } overlays { source: "lfo" value { double_value: -10 } })"));
}

TEST_F(node_test, an_idle_overlay_settles_into_a_session_only_commit_at_its_settle_time) {
  commit_then_overlay(200);
  advance(200ms);  // due now; the sweep runs 1 ms later
  expect_silence();
  advance(1ms);
  // Two changes: the overlay cleared (the kernel briefly back to the committed -3), then the
  // overlay's value committed. Neither is persisted; the origin of a timeout is empty.
  expect_kernel(-3);
  expect_kernel(-10);
  EXPECT_TRUE(same(take_change(hub), R"(node: "knob" param: "level" node_rev: 3 origin {}
      layer: LAYER_OVERLAY source: "lfo" cleared: true effective { double_value: -3 }
      reason: CHANGE_REASON_SETTLE)"));
  EXPECT_TRUE(same(take_change(hub), R"(node: "knob" param: "level" value { double_value: -10 }
      node_rev: 4 origin {} layer: LAYER_COMMITTED source: "lfo"
      effective { double_value: -10 } reason: CHANGE_REASON_SETTLE)"));
  expect_silence();
  advance(10s);
  expect_silence();
}

TEST_F(node_test, every_overlay_write_restarts_its_settle_time) {
  send(overlay(-10, 1));  // the default settle time: 500 ms
  advance(400ms);
  send(overlay(-11, 2));
  expect_kernel(-10);
  expect_kernel(-11);
  EXPECT_EQ(take_change(hub).node_rev(), 1u);
  EXPECT_EQ(take_change(hub).node_rev(), 2u);
  expect_applied(1);
  expect_applied(2);
  advance(101ms);  // the first write's sweep finds nothing due
  advance(399ms);
  expect_silence();
  advance(1ms);  // 500 ms after the second write, plus the sweep's 1 ms
  expect_kernel(-6);
  expect_kernel(-11);
  EXPECT_TRUE(take_change(hub).cleared());
  EXPECT_EQ(take_change(hub).value().double_value(), -11);
  expect_silence();
}

TEST_F(node_test, settle_commits_an_overlay_at_once_and_discard_drops_it) {
  commit_then_overlay(60000);

  v1::SettleRequest settle;
  settle.set_node("knob");
  settle.set_source("lfo");
  *settle.mutable_origin() = origin("desk", 3);
  send(settle);
  expect_kernel(-3);
  expect_kernel(-10);
  EXPECT_TRUE(take_change(hub).cleared());
  const auto committed = take_change(hub);
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).applied(), committed.DebugString()));
  EXPECT_EQ(committed.origin().client_rev(), 3u) << "an explicit settle carries its origin";

  send(overlay(-20, 4, 60000));
  expect_kernel(-20);
  EXPECT_EQ(take_change(hub).node_rev(), 5u);
  expect_applied(5);
  settle.set_discard(true);
  send(settle);
  expect_kernel(-10);  // committed ?? base again
  const auto dropped = take_change(hub);
  EXPECT_TRUE(dropped.cleared());
  EXPECT_EQ(dropped.effective().double_value(), -10);
  expect_applied(6);
  expect_silence();
  send(settle);
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"(code: 5 field: "source"
      message: "source: node 'knob' has no overlay from 'lfo'")"));
  advance(61s);
  expect_silence();
}

// -- the loading guard --------------------------------------------------------------------------

TEST_F(node_test, while_loading_intents_wait_in_order_and_apply_at_end_load) {
  send(overlay(-10, 1, 100));
  expect_kernel(-10);
  EXPECT_EQ(take_change(hub).node_rev(), 1u);
  expect_applied(1);
  probe loader{sys, "host"};
  request(loader, node, sg::begin_load_atom_v);
  dispatch();
  EXPECT_EQ(take<v1::NodeState>(loader).node_rev(), 1u) << "the layers to build on";

  send(intent("level", dbl(-1), 2));
  send(intent("level", dbl(-2), 3));
  advance(200ms);  // the overlay is due, but a load is building on the current layers
  expect_silence();
  expect_nothing(client);
  // Past the bound, refused at once; batches and bypass are never held.
  send(intent("level", dbl(-3), 4));
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"pb(code: 14 field: "node"
      message: "node: 'knob' is loading (graph apply or preset) "
               "and 2 intents are already waiting; retry shortly")pb"));
  v1::SetParamsRequest batch;
  batch.set_node("knob");
  send(batch);
  EXPECT_TRUE(same(take<v1::SetParamsReply>(client).status(), R"pb(code: 14 field: "node"
      message: "node: 'knob' is loading (graph apply or preset); retry shortly")pb"));
  v1::BypassRequest bypass;
  bypass.set_node("knob");
  bypass.set_bypass(true);
  send(bypass);
  EXPECT_EQ(take<v1::BypassReply>(client).status().code(), code_unavailable);
  expect_silence();

  caf::anon_send(node, sg::end_load_atom_v);
  dispatch();
  // The held intents in arrival order (committed under the overlay: the kernel keeps -10),
  // then the sweep that waited for the load.
  const auto first = take_change(hub), second = take_change(hub);
  EXPECT_EQ(first.value().double_value(), -1);
  EXPECT_EQ(second.value().double_value(), -2);
  EXPECT_EQ(first.node_rev(), 2u);
  EXPECT_EQ(second.node_rev(), 3u);
  expect_applied(2);
  expect_applied(3);
  expect_kernel(-2);
  expect_kernel(-10);
  EXPECT_TRUE(take_change(hub).cleared());
  EXPECT_EQ(take_change(hub).node_rev(), 5u);
  expect_silence();
}

TEST_F(node_test, intents_held_by_a_removed_node_learn_why) {
  probe loader{sys, "host"};
  request(loader, node, sg::begin_load_atom_v);
  dispatch();
  take<v1::NodeState>(loader);
  send(intent("level", dbl(-1), 1));
  expect_nothing(client);
  caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
  dispatch();
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"(code: 5 field: "node"
      message: "node: 'knob' was removed by a graph apply")"));
  expect_silence();
}

} // namespace
} // namespace sg::test
