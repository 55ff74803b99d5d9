// Live state over real gRPC: the three layers, settle, persistence and restore, invalidation by
// graph applies, presets, and the loading guard. A real runtime with a real SQLite file per
// test, a real gateway on loopback, real stubs.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <thread>

#include "actors/store/state_store.hpp"
#include "tests/gateway/fixture.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// gw_test_graph with `osc` retyped, `meter` removed, or a device option changed.
std::string graph_variant(const std::string& from, const std::string& to) {
  std::string g = gw_test_graph;
  auto at = g.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  g.replace(at, from.size(), to);
  return g;
}

class state_fixture : public gateway_fixture {
protected:
  runtime_options runtime_opts() override {
    char tmpl[] = "/tmp/sg-state-XXXXXX";
    dir_ = mkdtemp(tmpl);
    runtime_options o;
    o.state_path = db_path();
    o.max_held_intents = 4;
    return o;
  }

  /// amp's parameter changes, from a snapshot on: the stream these tests read what happened in.
  std::unique_ptr<grpc::ClientReader<v1::Event>> amp_changes(grpc::ClientContext& c) {
    v1::SubscribeRequest changes;
    changes.add_nodes("amp");
    changes.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
    return cl_->events->Subscribe(&c, changes);
  }

  void SetUp() override {
    gateway_fixture::SetUp();
    presets_ = v1::PresetService::NewStub(cl_->channel);
  }


  void TearDown() override {
    gateway_fixture::TearDown();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string db_path() const { return dir_ + "/state.sqlite"; }

  v1::ParamState param(const std::string& node, const std::string& name) {
    v1::GetNodeReply reply;
    auto status = cl_->get(node, reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (const auto& p : reply.node().params())
      if (p.name() == name)
        return p;
    ADD_FAILURE() << node << "." << name << " not found";
    return {};
  }

  grpc::Status set(const std::string& node, const std::string& name, double value,
                   bool persist = false, const std::string& overlay = {},
                   uint32_t settle_ms = 0, v1::SetParamReply* out = nullptr) {
    v1::SetParamRequest req;
    req.set_node(node);
    req.set_param(name);
    *req.mutable_value() = dbl(value);
    req.set_persist(persist);
    req.set_overlay_source(overlay);
    req.set_settle_ms(settle_ms);
    v1::SetParamReply reply;
    return cl_->nodes->SetParam(ctx().get(), req, out ? out : &reply);
  }

  grpc::Status apply(const std::string& yaml, v1::ApplyGraphReply& reply) {
    v1::ApplyGraphRequest req;
    req.set_yaml(yaml);
    req.set_file_name("variant.yaml");
    return cl_->graph->ApplyGraph(ctx(10s).get(), req, &reply);
  }

  std::vector<v1::StoredParam> stored() {
    rt_->flush_state();
    auto db = state_store::open(db_path(), true);
    EXPECT_TRUE(db) << db.error();
    if (!db)
      return {};
    auto params = (*db)->load_params();
    EXPECT_TRUE(params) << params.error();
    return params ? std::move(*params) : std::vector<v1::StoredParam>{};
  }

  std::string dir_;
  std::unique_ptr<v1::PresetService::Stub> presets_;
};

bool has_stored(const std::vector<v1::StoredParam>& rows, const std::string& node,
                const std::string& param, double* value = nullptr) {
  for (const auto& r : rows)
    if (r.node() == node && r.param() == param) {
      if (value)
        *value = r.value().double_value();
      return true;
    }
  return false;
}

// -- layers -----------------------------------------------------------------------------------

TEST_F(state_fixture, overlay_beats_committed_beats_base) {
  auto p = param("amp", "level");
  EXPECT_EQ(p.base().double_value(), -6);
  EXPECT_FALSE(p.has_committed());
  EXPECT_EQ(p.value().double_value(), -6);

  ASSERT_TRUE(set("amp", "level", -3).ok());
  p = param("amp", "level");
  EXPECT_EQ(p.committed().double_value(), -3);
  EXPECT_EQ(p.value().double_value(), -3);
  EXPECT_EQ(p.base().double_value(), -6) << "a commit leaves the base alone";

  ASSERT_TRUE(set("amp", "level", -20, false, "lfo1", 60000).ok());
  p = param("amp", "level");
  ASSERT_EQ(p.overlays_size(), 1);
  EXPECT_EQ(p.overlays(0).source(), "lfo1");
  EXPECT_EQ(p.value().double_value(), -20) << "overlay wins";
  EXPECT_EQ(p.committed().double_value(), -3);

  // A commit under an active overlay changes the committed layer but not the effective value.
  ASSERT_TRUE(set("amp", "level", -4).ok());
  p = param("amp", "level");
  EXPECT_EQ(p.committed().double_value(), -4);
  EXPECT_EQ(p.value().double_value(), -20);

  // Two sources: the one written last is effective.
  ASSERT_TRUE(set("amp", "level", -30, false, "osc-surface", 60000).ok());
  EXPECT_EQ(param("amp", "level").value().double_value(), -30);
  ASSERT_TRUE(set("amp", "level", -21, false, "lfo1", 60000).ok());
  EXPECT_EQ(param("amp", "level").value().double_value(), -21);
}

TEST_F(state_fixture, explicit_settle_makes_a_session_only_commit) {
  ASSERT_TRUE(set("amp", "level", -12, false, "fader", 60000).ok());
  v1::SettleRequest req;
  req.set_node("amp");
  req.set_param("level");
  req.set_source("fader");
  v1::SetParamReply reply;
  auto status = cl_->nodes->Settle(ctx().get(), req, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.applied().layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(reply.applied().reason(), v1::CHANGE_REASON_SETTLE);
  EXPECT_FALSE(reply.applied().persist());
  auto p = param("amp", "level");
  EXPECT_EQ(p.overlays_size(), 0);
  EXPECT_EQ(p.committed().double_value(), -12);
  EXPECT_FALSE(p.persisted());
  EXPECT_FALSE(has_stored(stored(), "amp", "level")) << "settle never writes the database";

  // Settling again: nothing left from that source.
  status = cl_->nodes->Settle(ctx().get(), req, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(status.error_message().find("source"), std::string::npos);
}

TEST_F(state_fixture, an_idle_overlay_settles_by_itself) {
  auto sub_ctx = ctx(10s);
  auto reader = amp_changes(*sub_ctx);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_snapshot());
  // The reply and the events say what happened when: the overlay came, and 80 ms without a
  // new value later it went and its value was committed.
  v1::SetParamReply reply;
  ASSERT_TRUE(set("amp", "level", -9, false, "osc:/sg/amp/level", 80, &reply).ok());
  EXPECT_EQ(reply.applied().layer(), v1::LAYER_OVERLAY);
  EXPECT_EQ(reply.applied().source(), "osc:/sg/amp/level");
  std::vector<v1::ParamChanged> seen;
  while (seen.size() < 3 && reader->Read(&ev))
    seen.push_back(ev.param_changed());
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].layer(), v1::LAYER_OVERLAY);
  EXPECT_FALSE(seen[0].cleared());
  EXPECT_EQ(seen[1].layer(), v1::LAYER_OVERLAY);
  EXPECT_TRUE(seen[1].cleared());
  EXPECT_EQ(seen[1].reason(), v1::CHANGE_REASON_SETTLE);
  EXPECT_EQ(seen[2].layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(seen[2].value().double_value(), -9);
  EXPECT_EQ(seen[2].reason(), v1::CHANGE_REASON_SETTLE);
  sub_ctx->TryCancel();
  const auto p = param("amp", "level");
  EXPECT_EQ(p.overlays_size(), 0);
  EXPECT_EQ(p.committed().double_value(), -9);
  EXPECT_FALSE(p.persisted());
  EXPECT_FALSE(has_stored(stored(), "amp", "level"));
}

TEST_F(state_fixture, overlays_are_never_persisted_and_bad_intents_change_nothing) {
  const auto before = param("amp", "level");
  auto status = set("amp", "level", -5, true, "lfo");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("persist"), std::string::npos);
  status = set("amp", "level", 99);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  status = set("amp", "level", -5, false, std::string(200, 'x'));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("overlay_source"), std::string::npos);
  EXPECT_EQ(param("amp", "level").SerializeAsString(), before.SerializeAsString());
}

// -- persistence ------------------------------------------------------------------------------

TEST_F(state_fixture, persisted_commits_are_durable_and_become_the_base_after_restart) {
  v1::SubscribeRequest sub;
  sub.add_kinds(v1::EVENT_KIND_DURABLE);
  auto c = ctx(10s);
  auto reader = cl_->events->Subscribe(c.get(), sub);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));  // the snapshot
  ASSERT_TRUE(set("amp", "level", -2.5, true).ok());
  ASSERT_TRUE(set("osc", "frequency", 220).ok());  // not persisted
  ASSERT_TRUE(reader->Read(&ev));
  ASSERT_TRUE(ev.has_durable());
  ASSERT_GE(ev.durable().entries_size(), 1);
  EXPECT_EQ(ev.durable().entries(0).node(), "amp");
  EXPECT_EQ(ev.durable().entries(0).param(), "level");
  EXPECT_EQ(ev.durable().path(), db_path());
  EXPECT_TRUE(param("amp", "level").persisted());
  c->TryCancel();

  auto rows = stored();
  double v = 0;
  EXPECT_TRUE(has_stored(rows, "amp", "level", &v));
  EXPECT_EQ(v, -2.5);
  EXPECT_FALSE(has_stored(rows, "osc", "frequency"));

  // Restart on the same database: the durable value is the base; origin metadata is gone.
  stop_runtime();
  start_runtime();
  auto p = param("amp", "level");
  EXPECT_EQ(p.base().double_value(), -2.5);
  EXPECT_FALSE(p.has_committed());
  EXPECT_EQ(p.value().double_value(), -2.5);
  EXPECT_EQ(param("osc", "frequency").value().double_value(), 440) << "not persisted";
  v1::GetGraphReply graph;
  ASSERT_TRUE(cl_->graph->GetGraph(ctx().get(), {}, &graph).ok());
  EXPECT_EQ(graph.graph().SerializeAsString().find("client"), std::string::npos);
}

TEST_F(state_fixture, persist_without_a_database_is_refused) {
  stop_runtime();
  opts_.state_path = "none";
  start_runtime();
  auto status = set("amp", "level", -2, true);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("persist"), std::string::npos);
  EXPECT_FALSE(param("amp", "level").has_committed());
}

// -- invalidation -----------------------------------------------------------------------------

TEST_F(state_fixture, reapplying_a_graph_that_keeps_a_node_keeps_its_layers) {
  ASSERT_TRUE(set("amp", "level", -3).ok());
  ASSERT_TRUE(set("amp", "level", -40, false, "lfo", 60000).ok());
  const auto rev = param("amp", "level");
  v1::ApplyGraphReply reply;
  // The graph file's own value changes: the base follows, committed and overlay stay.
  auto status = apply(graph_variant("params: { level: -6 }", "params: { level: -7 }"), reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.applied().changed_size(), 1);
  EXPECT_EQ(reply.applied().changed(0), "amp");
  EXPECT_EQ(reply.applied().added_size() + reply.applied().removed_size(), 0);
  auto p = param("amp", "level");
  EXPECT_EQ(p.base().double_value(), -7);
  EXPECT_EQ(p.committed().double_value(), -3);
  ASSERT_EQ(p.overlays_size(), 1);
  EXPECT_EQ(p.value().double_value(), -40);
  EXPECT_EQ(rev.overlays(0).source(), p.overlays(0).source());
}

TEST_F(state_fixture, removing_a_node_clears_every_layer_and_its_stored_values) {
  ASSERT_TRUE(set("meter", "rate", 10, true).ok());
  ASSERT_TRUE(has_stored(stored(), "meter", "rate"));
  const std::string without = graph_variant("  - { id: meter, type: audio.meter }\n", "");
  const std::string without_edges = [&] {
    std::string g = without;
    auto at = g.find("  - amp.out -> meter.in\n");
    g.erase(at, std::string("  - amp.out -> meter.in\n").size());
    return g;
  }();
  v1::ApplyGraphReply reply;
  auto status = apply(without_edges, reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reply.applied().removed_size(), 1);
  v1::GetNodeReply node;
  EXPECT_EQ(cl_->get("meter", node).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(has_stored(stored(), "meter", "rate"));
  // Back again: only the graph file's values.
  status = apply(gw_test_graph, reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reply.applied().added_size(), 1);
  auto p = param("meter", "rate");
  EXPECT_FALSE(p.has_committed());
  EXPECT_EQ(p.value().double_value(), p.base().double_value());
  EXPECT_NE(p.value().double_value(), 10);
}

TEST_F(state_fixture, retyping_a_node_keeps_only_values_that_still_map) {
  ASSERT_TRUE(set("osc", "frequency", 220, true).ok());
  ASSERT_TRUE(set("osc", "level", -20).ok());
  ASSERT_TRUE(set("osc", "level", -25, false, "lfo", 60000).ok());
  v1::ApplyGraphReply reply;
  auto status = apply(graph_variant("{ id: osc, type: audio.sine, params: { frequency: 440, "
                                    "level: -12 } }",
                                    "{ id: osc, type: audio.gain }"),
                      reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reply.applied().retyped_size(), 1);
  v1::GetNodeReply node;
  ASSERT_TRUE(cl_->get("osc", node).ok());
  EXPECT_EQ(node.node().type(), "audio.gain");
  ASSERT_EQ(node.node().params_size(), 1);
  const auto& level = node.node().params(0);
  EXPECT_EQ(level.committed().double_value(), -20) << "level still maps";
  ASSERT_EQ(level.overlays_size(), 1);
  EXPECT_EQ(level.value().double_value(), -25);
  EXPECT_FALSE(has_stored(stored(), "osc", "frequency")) << "frequency no longer maps";
}

TEST_F(state_fixture, an_invalid_graph_changes_nothing) {
  ASSERT_TRUE(set("amp", "level", -3).ok());
  const auto before = param("amp", "level");
  v1::ApplyGraphReply reply;
  auto status = apply(graph_variant("type: audio.gain", "type: audio.gian"), reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("variant.yaml:"), std::string::npos)
    << status.error_message();
  EXPECT_EQ(param("amp", "level").SerializeAsString(), before.SerializeAsString());
}

// -- presets ----------------------------------------------------------------------------------

TEST_F(state_fixture, preset_load_replaces_committed_values_and_clears_their_overlays) {
  ASSERT_TRUE(set("amp", "level", -10).ok());
  ASSERT_TRUE(set("osc", "frequency", 330).ok());
  v1::SavePresetRequest save;
  save.set_name("verse");
  save.add_nodes("amp");
  v1::SavePresetReply saved;
  auto status = presets_->SavePreset(ctx().get(), save, &saved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(saved.preset().nodes_size(), 1);

  ASSERT_TRUE(set("amp", "level", -1).ok());
  ASSERT_TRUE(set("amp", "level", -50, false, "lfo", 60000).ok());
  ASSERT_TRUE(set("osc", "frequency", 660, false, "lfo", 60000).ok());

  v1::SubscribeRequest sub;
  sub.add_kinds(v1::EVENT_KIND_PRESET_LOADED);
  auto c = ctx(10s);
  auto reader = cl_->events->Subscribe(c.get(), sub);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));

  v1::LoadPresetRequest load;
  load.set_name("verse");
  v1::LoadPresetReply loaded;
  status = presets_->LoadPreset(ctx().get(), load, &loaded);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(loaded.loaded().params(), 1u);
  auto amp = param("amp", "level");
  EXPECT_EQ(amp.committed().double_value(), -10);
  EXPECT_EQ(amp.overlays_size(), 0) << "the preset's parameters lose their overlays";
  EXPECT_EQ(amp.value().double_value(), -10);
  auto freq = param("osc", "frequency");
  EXPECT_EQ(freq.overlays_size(), 1) << "parameters the preset does not set keep theirs";
  EXPECT_EQ(freq.committed().double_value(), 330);
  ASSERT_TRUE(reader->Read(&ev));
  ASSERT_TRUE(ev.has_preset_loaded());
  EXPECT_EQ(ev.preset_loaded().name(), "verse");
  c->TryCancel();

  v1::ListPresetsReply list;
  ASSERT_TRUE(presets_->ListPresets(ctx().get(), {}, &list).ok());
  ASSERT_EQ(list.presets_size(), 1);
  v1::DeletePresetRequest del;
  del.set_name("verse");
  v1::DeletePresetReply deleted;
  ASSERT_TRUE(presets_->DeletePreset(ctx().get(), del, &deleted).ok());
  EXPECT_EQ(presets_->DeletePreset(ctx().get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(presets_->LoadPreset(ctx().get(), load, &loaded).error_code(),
            grpc::StatusCode::NOT_FOUND);
  load.set_name("");
  EXPECT_EQ(presets_->LoadPreset(ctx().get(), load, &loaded).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// -- loading guard ----------------------------------------------------------------------------

/// amp.level set to `value`.
v1::SetParamRequest amp_level(double value) {
  v1::SetParamRequest req;
  req.set_node("amp");
  req.set_param("level");
  *req.mutable_value() = dbl(value);
  return req;
}

/// Probes amp until it refuses a batch as loading: true once the loading guard is up; `guard`
/// is the last answer. The batch names no real parameter, so a probe that comes too early
/// changes nothing either.
bool loading_guard_up(client& cl, grpc::Status& guard) {
  v1::SetParamsRequest probe;
  probe.set_node("amp");
  probe.add_params()->set_param("nope");
  *probe.mutable_params(0)->mutable_value() = dbl(0);
  return eventually([&] {
    v1::SetParamsReply reply;
    guard = cl.nodes->SetParams(ctx().get(), probe, &reply);
    return guard.error_code() == grpc::StatusCode::UNAVAILABLE;
  });
}

using outcome = std::pair<grpc::Status, v1::SetParamReply>;

/// Two SetParam calls made during a load, and what came of them while the load held amp.
struct held_calls {
  std::vector<std::future<outcome>> calls;  // amp.level -13 and -14
  bool one_back = false;                    // one of them came back during the load
  size_t held_call = 0;                     // the other one, held as the fourth intent
  int refused = 0;                          // refused as loading: the call back and a sixth
};

/// During the load: three intents posted in order, then two calls of which the first to
/// arrive is held (fourth) and the other refused, then a sixth intent, refused too. Checks
/// that both refusals say "loading".
held_calls fill_past_the_bound(client& cl, runtime& rt) {
  auto call = [&cl](double value) {
    return std::async(std::launch::async, [&cl, req = amp_level(value)] {
      outcome o;
      o.first = cl.nodes->SetParam(ctx().get(), req, &o.second);
      return o;
    });
  };
  held_calls h;
  // Posts from this thread reach amp in the order made and ahead of any later request: the
  // arrival order that calls from several threads cannot give.
  for (int i = 0; i < 3; ++i)
    rt.post(amp_level(-10 - i));
  // Whichever of these two comes first is held (fourth); the other is refused at once.
  h.calls.push_back(call(-13));
  h.calls.push_back(call(-14));
  auto ready = [](std::future<outcome>& f) { return f.wait_for(0s) == std::future_status::ready; };
  h.one_back = eventually([&] { return ready(h.calls[0]) || ready(h.calls[1]); });
  const size_t refused_call = h.one_back && ready(h.calls[0]) ? 0 : 1;
  h.held_call = 1 - refused_call;
  if (!h.one_back)
    return h;
  EXPECT_FALSE(ready(h.calls[h.held_call])) << "both calls came back during the load";
  // The refused call proves four intents were held when it arrived.
  std::vector<outcome> past_the_bound{h.calls[refused_call].get()};
  outcome sixth;
  sixth.first = cl.nodes->SetParam(ctx().get(), amp_level(-15), &sixth.second);
  past_the_bound.push_back(sixth);
  for (const auto& [status, reply] : past_the_bound) {
    h.refused += status.error_code() == grpc::StatusCode::UNAVAILABLE;
    EXPECT_NE(status.error_message().find("loading"), std::string::npos) << status.error_message();
  }
  return h;
}

/// The next `count` changes of amp.level to -10 dB or below read from `reader` (fewer if the
/// stream ends).
std::vector<v1::ParamChanged> held_levels_applied(grpc::ClientReader<v1::Event>& reader,
                                                  size_t count) {
  std::vector<v1::ParamChanged> applied;
  v1::Event ev;
  while (applied.size() < count && reader.Read(&ev))
    if (ev.has_param_changed() && ev.param_changed().param() == "level" &&
        ev.param_changed().value().double_value() <= -10)
      applied.push_back(ev.param_changed());
  return applied;
}

/// A graph apply whose new device writes into a FIFO: opening it blocks until the test opens
/// the reading end, which holds the apply (and its loading guard) open for as long as needed.
/// Bound 4: three intents posted in a known order and one of two gRPC calls are held, the other
/// call and a sixth intent are refused, and after the load the held ones apply in order.
TEST_F(state_fixture, intents_during_a_load_are_queued_then_applied_or_refused_past_the_bound) {
  auto sub_ctx = ctx(30s);
  auto reader = amp_changes(*sub_ctx);
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev) && ev.has_snapshot());

  const std::string fifo = dir_ + "/hold.wav";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string held = graph_variant("block: 128, channels: 2 }",
                                         "block: 128, channels: 2, path: \"" + fifo + "\" }");
  std::thread applier([&] {
    v1::ApplyGraphReply reply;
    apply(held, reply);
  });
  // The guard is up once amp refuses a batch as loading.
  grpc::Status guard;
  const bool up = loading_guard_up(*cl_, guard);
  EXPECT_NE(guard.error_message().find("loading"), std::string::npos) << guard.error_message();
  held_calls h;
  if (up)
    h = fill_past_the_bound(*cl_, *rt_);
  if (h.one_back) {
    EXPECT_FALSE(param("amp", "level").has_committed()) << "nothing applied during the load";
  }
  // Release the device: the apply finishes, the held intents apply in arrival order.
  int fd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(fd, 0);
  applier.join();
  ASSERT_TRUE(up) << "the loading guard never came up: " << guard.error_message();
  ASSERT_TRUE(h.one_back) << "neither call past the third held intent came back";
  EXPECT_EQ(h.refused, 2);
  const auto [status, reply] = h.calls[h.held_call].get();
  EXPECT_TRUE(status.ok()) << status.error_message();
  const double held_value = h.held_call == 0 ? -13 : -14;
  const auto applied = held_levels_applied(*reader, 4);
  ASSERT_EQ(applied.size(), 4u) << "the held intents were not all applied";
  const double order[] = {-10, -11, -12, held_value};
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(applied[i].value().double_value(), order[i]) << i;
  for (size_t i = 1; i < 4; ++i)
    EXPECT_EQ(applied[i].node_rev(), applied[i - 1].node_rev() + 1) << i;
  EXPECT_EQ(reply.applied().node_rev(), applied[3].node_rev());
  close(fd);
  EXPECT_EQ(param("amp", "level").committed().double_value(), held_value)
    << "the last held intent";
  sub_ctx->TryCancel();
}

} // namespace
} // namespace sg::test
