// The host actor, deterministically: graph applies as diffs, the loading guard and presets on
// CAF's test scheduler. The hub, the persistence writer and every audio device the host spawns
// are probes (host_options::boundary); the node actors are the real ones. Every message the
// host sends is read in order, at the actor it went to, before that actor runs.

#include <deque>
#include <string>
#include <vector>

#include "actors/host.hpp"
#include "actors/host_state.hpp"
#include "graph/loader.hpp"
#include "tests/actors/deterministic.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* studio = R"(version: 1
name: studio
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
nodes:
  - { id: osc, type: audio.sine, params: { frequency: 440, level: -12 } }
  - { id: amp, type: audio.gain, params: { level: -6 } }
  - { id: out, type: audio.output, device: main }
edges:
  - osc.out -> amp.in
  - amp.out -> out.in
)";

/// The studio graph with `from` replaced by `to`.
std::string studio_with(const std::string& from, const std::string& to) {
  std::string g = studio;
  const auto at = g.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return g.replace(at, from.size(), to);
}

/// osc gives way to a noise source (one node removed, one added; the device stays).
std::string studio_with_noise() {
  auto g = studio_with("- { id: osc, type: audio.sine, params: { frequency: 440, level: -12 } }",
                       "- { id: noise, type: audio.noise }");
  return g.replace(g.find("osc.out"), 7, "noise.out");
}

/// Node ids in the host's order (its map): begin_load and end_load go out in this order.
const std::vector<std::string> studio_ids = {"amp", "osc", "out", "store"};

class host_test : public deterministic_test {
protected:
  host_test() {
    for (int i = 0; i < 4; ++i)
      devices.emplace_back(sys, "device " + std::to_string(i));
  }

  void SetUp() override {
    host_options options;
    options.state_path = "studio.sqlite";  // never opened: the writer is a probe
    options.node.max_queued = 2;
    options.boundary.store = [this](caf::actor_system&, const std::string&) {
      return store.as<store_actor>();
    };
    options.boundary.audio_device = [this](caf::actor_system&, const audio_domain& d,
                                           const hub_actor&) {
      domains.push_back(d);
      EXPECT_LE(domains.size(), devices.size()) << "more devices than probes";
      return domains.size() <= devices.size() ? devices[domains.size() - 1].as<device_actor>()
                                              : device_actor{};
    };
    host = spawn_host(sys, hub.as<hub_actor>(), options);
    dispatch();
  }

  void TearDown() override {
    caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
    dispatch();
  }

  static v1::ApplyGraphRequest apply_request(const std::string& yaml) {
    auto loaded = load_graph_string(yaml, "studio.yaml");
    for (const auto& d : loaded.errors)
      ADD_FAILURE() << format_diagnostic(d);
    v1::ApplyGraphRequest req;
    *req.mutable_graph() = loaded.spec;
    return req;
  }

  static v1::SetParamRequest set(const std::string& node, const std::string& param, double value,
                                 uint64_t rev) {
    v1::SetParamRequest req;
    req.set_node(node);
    req.set_param(param);
    *req.mutable_value() = dbl(value);
    *req.mutable_origin() = origin("desk", rev);
    return req;
  }

  /// The node actor the host runs for `id`.
  node_actor node(const std::string& id) {
    using host_impl = caf::stateful_actor<host_detail::host_state, host_actor::base>;
    auto& self = dynamic_cast<host_impl&>(*caf::actor_cast<caf::abstract_actor*>(host));
    auto it = self.state.nodes.find(id);
    return it == self.state.nodes.end() ? node_actor{} : it->second.handle;
  }

  /// The first graph, applied with nothing stored: returns the Snapshot the hub got. Every
  /// message of the apply is taken (the first test reads them one by one).
  v1::Snapshot start(const std::string& yaml = studio) {
    request(client, host, apply_request(yaml));
    dispatch();
    take<caf::get_atom>(store);
    answer(store, v1::StoredState{});
    take<v1::ListPanelsRequest>(store);
    answer(store, v1::StoredPanels{});
    take<caf::subscribe_atom, caf::actor, v1::SubscribeRequest>(hub);
    answer(hub, uint64_t{1});
    dispatch();
    take<caf::open_atom>(devices[0]);
    answer(devices[0], ok_status());
    dispatch();
    auto snap = take<v1::Snapshot>(hub);
    take<v1::Event>(hub);
    EXPECT_EQ(take<v1::ApplyGraphReply>(client).status().code(), code_ok);
    return snap;
  }

  /// An intent through the host, applied: its kernel write and echo are taken.
  void set_through_host(const v1::SetParamRequest& req) {
    request(client, host, req);
    dispatch();
    take<v1::KernelParam>(devices[0]);
    take_change(hub);
    EXPECT_EQ(take<v1::SetParamReply>(client).status().code(), code_ok);
  }

  /// Applies `yaml` over the running studio graph up to where the apply waits for the store:
  /// the guard is up (`begin_load` reached every node in the host's id order, and each
  /// answered with the layers to build on) and the stored values were asked for.
  void apply_until_store(const std::string& yaml, const where& at = where::current()) {
    const caller trace(at);
    request(client, host, apply_request(yaml));
    pass<v1::ApplyGraphRequest>(host, at);
    for (const auto& id : studio_ids)
      pass<sg::begin_load_atom>(node(id), at);
    dispatch();
    take<caf::get_atom>(store, at);
  }

  /// `id` got its new layers and kernel binding next (checked, then handled): returns the
  /// layers.
  v1::NodeState rebound(const std::string& id, const caf::actor& device, uint32_t slot,
                        const where& at = where::current()) {
    const caller trace(at);
    auto [atom, bound, bound_slot, state] =
      pass<sg::rebind_atom, caf::actor, uint32_t, v1::NodeState>(node(id), at);
    EXPECT_EQ(bound, device) << id;
    EXPECT_EQ(bound_slot, slot) << id;
    return state;
  }

  /// The next kernel write `device` got: `param_of`'s value for `slot` and `index`.
  void expect_kernel(probe& device, const std::string& param_of, uint32_t slot, uint32_t index,
                     double value, const where& at = where::current()) {
    const caller trace(at);
    auto kp = take<v1::KernelParam>(device, at);
    EXPECT_EQ(kp.slot(), slot) << param_of;
    EXPECT_EQ(kp.index(), index) << param_of;
    EXPECT_EQ(kp.value(), value) << param_of;
  }

  /// Nothing more reached the hub, the writer, the client or any device.
  void expect_silence(const where& at = where::current()) {
    expect_nothing(hub, at);
    expect_nothing(store, at);
    expect_nothing(client, at);
    for (auto& d : devices)
      expect_nothing(d, at);
  }

  probe hub{sys, "hub"}, store{sys, "store"}, client{sys, "client"};
  std::deque<probe> devices;
  /// The domain of every device the host spawned, in order (devices[i] runs domains[i]).
  std::vector<audio_domain> domains;
  host_actor host;
};

// -- graph applies ------------------------------------------------------------------------------

TEST_F(host_test, the_first_graph_reads_the_store_opens_its_device_then_starts_the_nodes) {
  request(client, host, apply_request(studio));
  dispatch();
  take<caf::get_atom>(store);  // the stored values: amp's level was stored as -9
  v1::StoredState stored;
  auto* row = stored.add_params();
  row->set_node("amp"), row->set_type("audio.gain"), row->set_param("level");
  *row->mutable_value() = dbl(-9);
  answer(store, stored);
  // The panel authority starts with the first graph: it reads its panels and subscribes.
  take<v1::ListPanelsRequest>(store);
  answer(store, v1::StoredPanels{});
  take<caf::subscribe_atom, caf::actor, v1::SubscribeRequest>(hub);
  answer(hub, uint64_t{1});
  expect_silence();

  dispatch();
  take<caf::open_atom>(devices[0]);
  ASSERT_EQ(domains.size(), 1u);
  EXPECT_EQ(domains[0].device.name, "main");
  std::vector<std::string> slots;
  for (const auto& n : domains[0].nodes)
    slots.push_back(n.id);
  EXPECT_EQ(slots, (std::vector<std::string>{"osc", "amp", "out"}));
  expect_silence();  // nothing is announced, and no node exists, before the device opened
  EXPECT_FALSE(node("amp"));

  answer(devices[0], ok_status());
  dispatch();
  const auto snap = take<v1::Snapshot>(hub);
  EXPECT_EQ(snap.graph_rev(), 1u);
  ASSERT_EQ(snap.nodes_size(), 4);
  EXPECT_EQ(snap.nodes(3).id(), "store") << "the implicit store.sqlite node comes last";
  EXPECT_TRUE(same(snap.nodes(1).params(0), R"(name: "level" value { double_value: -9 }
      base { double_value: -9 })"))
    << "the stored value is amp's base";
  auto applied = take<v1::Event>(hub);
  EXPECT_TRUE(same(applied.graph_applied(), R"(name: "studio" nodes: 4 edges: 2 devices: 1
      graph_rev: 1 added: "osc" added: "amp" added: "out" added: "store" restored: 1)"));
  auto reply = take<v1::ApplyGraphReply>(client);
  EXPECT_EQ(reply.status().code(), code_ok);
  EXPECT_TRUE(same(reply.applied(), applied.graph_applied().DebugString()));
  EXPECT_TRUE(node("amp"));
  expect_silence();  // the nodes start with the values the device compiled: no kernel writes
}

TEST_F(host_test, a_reapply_of_new_values_keeps_the_device_and_rebinds_every_node) {
  start();
  set_through_host(set("amp", "level", -3, 1));
  apply_until_store(studio_with("level: -6", "level: -8"));
  answer(store, v1::StoredState{});
  pass<v1::StoredState>(host);
  // Values only: no open, no plan for the device; each node gets its new layers, bound to the
  // running device, and pushes every effective value to its kernel.
  const auto device = devices[0].as<caf::actor>();
  rebound("osc", device, 0);
  expect_kernel(devices[0], "osc.frequency", 0, 0, 440);
  expect_kernel(devices[0], "osc.level", 0, 1, -12);
  const auto amp = rebound("amp", device, 1);
  EXPECT_TRUE(same(amp.params(0), R"(name: "level" value { double_value: -3 }
      base { double_value: -8 } committed { double_value: -3 })"))
    << "the committed value stays over the new base";
  EXPECT_EQ(amp.node_rev(), 2u) << "the base changed: one revision";
  expect_kernel(devices[0], "amp.level", 1, 0, -3);
  rebound("out", device, 2);
  expect_kernel(devices[0], "out.level", 2, 0, 0);
  rebound("store", caf::actor{}, 0);
  // Then the hub reseeds, the apply is announced, and the guard comes down.
  EXPECT_EQ(take<v1::Snapshot>(hub).graph_rev(), 2u);
  EXPECT_TRUE(same(take<v1::Event>(hub).graph_applied(), R"(name: "studio" nodes: 4 edges: 2
      devices: 1 graph_rev: 2 changed: "amp")"));
  for (const auto& id : studio_ids)
    pass<sg::end_load_atom>(node(id));
  EXPECT_EQ(take<v1::ApplyGraphReply>(client).status().code(), code_ok);
  EXPECT_EQ(domains.size(), 1u) << "no device was spawned";
  expect_silence();
}

TEST_F(host_test, a_reapply_that_adds_and_removes_nodes_swaps_the_running_devices_plan) {
  start();
  const auto osc = node("osc");
  apply_until_store(studio_with_noise());
  answer(store, v1::StoredState{});
  dispatch();
  // The device compiles the new plan next to the running one (kernels of kept nodes stay).
  auto plan = take<v1::DomainPlan>(devices[0]);
  ASSERT_EQ(plan.nodes_size(), 3);
  EXPECT_EQ(plan.nodes(0).id(), "noise");
  EXPECT_EQ(plan.nodes(1).id(), "amp");
  expect_silence();  // nothing changes on the node side before the device took the plan

  answer(devices[0], ok_status());
  pass<v1::Status>(host);
  // The removed node stops and its stored values go; the added one starts; kept ones rebind.
  auto stop = pass<caf::exit_msg>(osc);
  EXPECT_EQ(stop.reason, caf::exit_reason::user_shutdown);
  EXPECT_TRUE(same(take<v1::PersistClear>(store), R"(node: "osc")"));
  const auto device = devices[0].as<caf::actor>();
  EXPECT_TRUE(node("noise"));
  rebound("amp", device, 1);
  expect_kernel(devices[0], "amp.level", 1, 0, -6);
  pass<sg::end_load_atom>(node("amp"));
  const auto snap = take<v1::Snapshot>(hub);
  ASSERT_EQ(snap.nodes_size(), 4);
  EXPECT_EQ(snap.nodes(0).id(), "noise");
  EXPECT_TRUE(same(take<v1::Event>(hub).graph_applied(), R"(name: "studio" nodes: 4 edges: 2
      devices: 1 graph_rev: 2 added: "noise" removed: "osc")"));
  EXPECT_EQ(take<v1::ApplyGraphReply>(client).status().code(), code_ok);
  dispatch();  // out and store rebind
  expect_kernel(devices[0], "out.level", 2, 0, 0);
  EXPECT_EQ(domains.size(), 1u);
  expect_silence();  // the removed node was let go: no failure reported, no restart
}

/// What a device answers when asked to close: the status it had, with the backend it ran on.
v1::DeviceStatus closed_status(const std::string& backend) {
  v1::DeviceStatus s;
  s.set_device("main");
  s.set_backend(backend);
  return s;
}

TEST_F(host_test, a_graph_whose_device_cannot_open_changes_nothing) {
  const std::string on_auto = studio_with("backend: null", "backend: auto");
  start(on_auto);
  set_through_host(set("amp", "level", -3, 1));
  // A new block size (the device must reopen) and a new base value for amp.
  auto next = on_auto;
  next.replace(next.find("block: 128"), 10, "block: 256");
  apply_until_store(next.replace(next.find("level: -6"), 9, "level: -8"));
  answer(store, v1::StoredState{});
  dispatch();
  // A device setting changed: the running device closes (its hardware let go before anything
  // opens), stops, and a new one is asked to open on the backend the old one ran on...
  take<caf::close_atom>(devices[0]);
  answer(devices[0], closed_status("jack"));
  dispatch();
  EXPECT_EQ(take<caf::exit_msg>(devices[0]).reason, caf::exit_reason::user_shutdown);
  take<caf::open_atom>(devices[1]);
  EXPECT_EQ(domains[1].device.block, 256u);
  EXPECT_EQ(domains[1].device.backend, "jack") << "a live change never lands on another backend";
  answer(devices[1], make_status(code_unavailable, "main: no such device"));
  dispatch();
  // ...and cannot: it closes and stops too, and the previous domain opens again, on its backend.
  take<caf::close_atom>(devices[1]);
  answer(devices[1], closed_status(""));
  dispatch();
  take<caf::exit_msg>(devices[1]);
  take<caf::open_atom>(devices[2]);
  EXPECT_EQ(domains[2].device.block, 128u);
  EXPECT_EQ(domains[2].device.backend, "jack");
  expect_silence();
  answer(devices[2], ok_status());
  pass<v1::Status>(host);
  // Every node gets its layers from before the apply, bound to the reopened device.
  const auto device = devices[2].as<caf::actor>();
  EXPECT_TRUE(same(rebound("amp", device, 1).params(0), R"(name: "level"
      value { double_value: -3 } base { double_value: -6 } committed { double_value: -3 })"));
  expect_kernel(devices[2], "amp.level", 1, 0, -3);
  pass<sg::end_load_atom>(node("amp"));
  rebound("osc", device, 0);
  expect_kernel(devices[2], "osc.frequency", 0, 0, 440);
  expect_kernel(devices[2], "osc.level", 0, 1, -12);
  dispatch();
  expect_kernel(devices[2], "out.level", 2, 0, 0);
  EXPECT_TRUE(same(take<v1::ApplyGraphReply>(client).status(),
                   R"(code: 14 message: "main: no such device")"));
  expect_silence();  // no Snapshot, no GraphApplied: subscribers saw nothing change

  request(client, host, v1::GetGraphRequest{});
  dispatch();
  auto graph = take<v1::GetGraphReply>(client);
  EXPECT_EQ(graph.graph_rev(), 1u);
  EXPECT_EQ(graph.graph().devices(0).block(), 128u);
}

TEST_F(host_test, a_plan_the_device_refuses_changes_nothing) {
  start();
  apply_until_store(studio_with_noise());
  answer(store, v1::StoredState{});
  dispatch();
  take<v1::DomainPlan>(devices[0]);
  answer(devices[0], make_status(code_invalid_argument, "noise: cannot compile"));
  pass<v1::Status>(host);
  // No rebind, no stop, no spawn: the guard comes down on the nodes as they were.
  for (const auto& id : studio_ids)
    pass<sg::end_load_atom>(node(id));
  EXPECT_TRUE(same(take<v1::ApplyGraphReply>(client).status(),
                   R"(code: 3 message: "noise: cannot compile")"));
  EXPECT_FALSE(node("noise"));
  EXPECT_TRUE(node("osc"));
  dispatch();
  expect_silence();
}

// -- the loading guard --------------------------------------------------------------------------

TEST_F(host_test, during_an_apply_batches_bypass_and_another_apply_are_refused_at_once) {
  start();
  apply_until_store(studio_with_noise());  // the apply waits here until the store answers
  v1::SetParamsRequest batch;
  batch.set_node("amp");
  request(client, host, batch);
  dispatch();
  EXPECT_TRUE(same(take<v1::SetParamsReply>(client).status(), R"pb(code: 14 field: "node"
      message: "node: 'amp' is loading (graph apply or preset); retry shortly")pb"));
  v1::BypassRequest bypass;
  bypass.set_node("noise");
  request(client, host, bypass);
  dispatch();
  EXPECT_TRUE(same(take<v1::BypassReply>(client).status(), R"pb(code: 14 field: "node"
      message: "node: 'noise' is not there yet (a graph apply is in progress)")pb"));
  request(client, host, apply_request(studio));
  dispatch();
  EXPECT_TRUE(same(take<v1::ApplyGraphReply>(client).status(), R"(code: 14 field: "graph"
      message: "graph: another graph apply or preset load is in progress")"));
  expect_silence();
}

TEST_F(host_test, during_an_apply_intents_wait_and_apply_after_the_announcement) {
  start();
  const auto osc = node("osc");
  apply_until_store(studio_with_noise());  // the apply waits here until the store answers
  // For a node that exists: held by the node.
  request(client, host, set("amp", "level", -1, 1));
  pass<v1::SetParamRequest>(host);
  pass<v1::SetParamRequest>(node("amp"));
  // For nodes the apply may add: held by the host, up to the bound (2).
  request(client, host, set("noise", "level", -20, 2));
  request(client, host, set("ghost", "level", 0, 3));
  request(client, host, set("phantom", "level", 0, 4));
  dispatch();
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(), R"pb(code: 14 field: "node"
      message: "node: 'phantom' is not there yet (a graph apply is in progress) "
               "and 2 intents are already waiting")pb"));
  expect_silence();  // nothing leaked out early

  answer(store, v1::StoredState{});
  dispatch();
  take<v1::DomainPlan>(devices[0]);
  answer(devices[0], ok_status());
  pass<v1::Status>(host);
  pass<caf::exit_msg>(osc);
  take<v1::PersistClear>(store);
  // A held intent for a node that did not come is answered with NOT_FOUND at once.
  EXPECT_TRUE(same(take<v1::SetParamReply>(client).status(),
                   R"(code: 5 field: "node" message: "node: no node 'ghost'")"));
  rebound("amp", devices[0].as<caf::actor>(), 1);
  pass<sg::end_load_atom>(node("amp"));      // amp's held intent applies now
  pass<v1::SetParamRequest>(node("noise"));  // the one the host held, routed to the new node
  // Subscribers reseed and learn about the apply before any held intent's echo.
  take<v1::Snapshot>(hub);
  EXPECT_TRUE(take<v1::Event>(hub).has_graph_applied());
  EXPECT_TRUE(same(take_change(hub), R"(node: "amp" param: "level" value { double_value: -1 }
      node_rev: 1 origin { client_id: "desk" client_rev: 1 } layer: LAYER_COMMITTED
      effective { double_value: -1 } reason: CHANGE_REASON_INTENT)"));
  EXPECT_TRUE(same(take_change(hub), R"(node: "noise" param: "level" value { double_value: -20 }
      node_rev: 1 origin { client_id: "desk" client_rev: 2 } layer: LAYER_COMMITTED
      effective { double_value: -20 } reason: CHANGE_REASON_INTENT)"));
  EXPECT_EQ(take<v1::ApplyGraphReply>(client).status().code(), code_ok);
  EXPECT_EQ(take<v1::SetParamReply>(client).applied().origin().client_rev(), 1u);
  EXPECT_EQ(take<v1::SetParamReply>(client).applied().origin().client_rev(), 2u);
  expect_kernel(devices[0], "amp.level", 1, 0, -6);  // the rebind
  expect_kernel(devices[0], "amp.level", 1, 0, -1);
  expect_kernel(devices[0], "noise.level", 0, 1, -20);
  dispatch();
  expect_kernel(devices[0], "out.level", 2, 0, 0);
  expect_silence();
}

// -- presets ------------------------------------------------------------------------------------

TEST_F(host_test, saving_a_preset_reads_the_published_state_then_writes_the_store) {
  auto published = start();
  // What the hub publishes is what is saved: committed ?? base of every live parameter.
  *published.mutable_nodes(1)->mutable_params(0)->mutable_committed() = dbl(-3);
  v1::SavePresetRequest save;
  save.set_name("scene");
  save.add_nodes("amp");
  request(client, host, save);
  dispatch();
  take<caf::get_atom>(hub);
  answer(hub, published);
  dispatch();
  auto preset = take<v1::Preset>(store);
  EXPECT_GT(preset.saved_unix_ns(), 0);
  preset.clear_saved_unix_ns();
  EXPECT_TRUE(same(preset, R"(name: "scene" nodes { id: "amp" type: "audio.gain"
      params { name: "level" value { double_value: -3 } } })"));
  answer(store, ok_status());
  dispatch();
  auto reply = take<v1::SavePresetReply>(client);
  EXPECT_EQ(reply.status().code(), code_ok);
  reply.mutable_preset()->clear_saved_unix_ns();
  EXPECT_TRUE(same(reply.preset(), R"(name: "scene" nodes: "amp" params: 1)"));
  expect_idle(node("amp"));
  expect_silence();

  save.set_nodes(0, "ghost");
  request(client, host, save);
  dispatch();
  EXPECT_TRUE(same(take<v1::SavePresetReply>(client).status(),
                   R"(code: 5 field: "nodes" message: "nodes[0]: no node 'ghost'")"));
  expect_silence();
}

TEST_F(host_test, loading_a_preset_holds_its_nodes_applies_announces_then_releases) {
  start();
  auto lfo = set("amp", "level", -10, 1);
  lfo.set_overlay_source("lfo");
  set_through_host(lfo);
  v1::LoadPresetRequest load;
  load.set_name("scene");
  *load.mutable_origin() = origin("desk", 9);
  request(client, host, load);
  dispatch();
  EXPECT_EQ(std::get<1>(take<caf::get_atom, std::string>(store)), "scene");
  v1::PresetReply stored;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
    R"(preset { name: "scene"
         nodes { id: "amp" type: "audio.gain" params { name: "level" value { double_value: -3 } }
                 params { name: "nope" value { double_value: 1 } } }
         nodes { id: "ghost" type: "audio.gain"
                 params { name: "level" value { double_value: -1 } } } })",
    &stored));
  answer(store, stored);
  pass<v1::PresetReply>(host);
  // An intent that reaches amp right after the guard waits there.
  request(client, host, set("amp", "level", -1, 10));
  pass<v1::SetParamRequest>(host);
  pass<sg::begin_load_atom>(node("amp"));  // only the preset's nodes are held
  expect_idle(node("osc"));
  pass<v1::SetParamRequest>(node("amp"));
  expect_silence();
  pass<v1::NodeState>(host);
  auto [part, forwarded] = pass<v1::PresetNode, v1::LoadPresetRequest>(node("amp"));
  EXPECT_EQ(part.params_size(), 2) << "amp's part of the preset, as stored";
  EXPECT_EQ(forwarded.origin().client_rev(), 9u);
  // amp: the preset's parameter loses its overlay, then takes the preset's value.
  const auto cleared = take_change(hub);
  EXPECT_TRUE(same(cleared, R"(node: "amp" param: "level" node_rev: 2
      origin { client_id: "desk" client_rev: 9 } layer: LAYER_OVERLAY source: "lfo"
      cleared: true effective { double_value: -6 } reason: CHANGE_REASON_PRESET)"));
  EXPECT_EQ(take_change(hub).reason(), v1::CHANGE_REASON_PRESET);
  expect_kernel(devices[0], "amp.level", 1, 0, -6);
  expect_kernel(devices[0], "amp.level", 1, 0, -3);
  expect_silence();
  pass<uint32_t>(host);
  EXPECT_TRUE(same(take<v1::Event>(hub).preset_loaded(), R"(name: "scene" nodes: "amp"
      params: 1 origin { client_id: "desk" client_rev: 9 } skipped: "amp.nope"
      skipped: "ghost.level")"));
  EXPECT_EQ(take<v1::LoadPresetReply>(client).status().code(), code_ok);
  pass<sg::end_load_atom>(node("amp"));  // the held intent applies on top of the preset
  EXPECT_EQ(take_change(hub).value().double_value(), -1);
  expect_kernel(devices[0], "amp.level", 1, 0, -1);
  EXPECT_EQ(take<v1::SetParamReply>(client).applied().node_rev(), 4u);
  dispatch();
  expect_silence();
}

} // namespace
} // namespace sg::test
