// The RPCs added for full remote control, against the real runtime and gateway on loopback:
// SetParams (atomic), Bypass (heard in the meter), ExportGraph (round trip through the
// loader), status with per-node load and gateway clients, and the per-client limits.

#include <chrono>
#include <cmath>
#include <iostream>

#include <google/protobuf/util/message_differencer.h>

#include "tests/gateway/fixture.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;
using google::protobuf::util::MessageDifferencer;

uint64_t rev_of(client& c, const std::string& node) {
  v1::GetNodeReply reply;
  EXPECT_TRUE(c.get(node, reply).ok());
  return reply.node().node_rev();
}

const v1::ParamState* param_of(const v1::GetNodeReply& reply, const std::string& name) {
  for (const auto& p : reply.node().params())
    if (p.name() == name)
      return &p;
  return nullptr;
}

v1::SetParamsRequest batch(const std::string& node,
                           std::initializer_list<std::pair<const char*, double>> values) {
  v1::SetParamsRequest req;
  req.set_node(node);
  for (const auto& [param, x] : values) {
    auto* e = req.add_params();
    e->set_param(param);
    *e->mutable_value() = dbl(x);
  }
  req.mutable_origin()->set_client_id("batcher");
  req.mutable_origin()->set_client_rev(7);
  return req;
}

/// Reads events until `pred` holds for one (true) or the deadline passes (false).
template <class Pred>
bool read_until(grpc::ClientReader<v1::Event>& reader, Pred pred, v1::Event* seen = nullptr) {
  v1::Event ev;
  while (reader.Read(&ev)) {
    if (pred(ev)) {
      if (seen)
        *seen = ev;
      return true;
    }
  }
  return false;
}

TEST_F(gateway_fixture, set_params_applies_every_entry_in_one_step) {
  auto sub_ctx = ctx(10s);
  auto reader = cl_->events->Subscribe(sub_ctx.get(), {});
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));
  ASSERT_TRUE(ev.has_snapshot());

  client other(address_);
  v1::SetParamsReply reply;
  auto s = other.nodes->SetParams(ctx().get(), batch("osc", {{"frequency", 330}, {"level", -20}}),
                                  &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(reply.applied_size(), 2);
  EXPECT_EQ(reply.applied(0).param(), "frequency");
  EXPECT_EQ(reply.applied(1).param(), "level");
  EXPECT_EQ(reply.applied(1).node_rev(), reply.applied(0).node_rev() + 1);
  EXPECT_EQ(reply.applied(0).origin().client_id(), "batcher");

  // The subscriber sees both changes back to back, nothing of the node in between.
  std::vector<v1::ParamChanged> changes;
  ASSERT_TRUE(read_until(*reader, [&](const v1::Event& e) {
    if (e.has_param_changed())
      changes.push_back(e.param_changed());
    return changes.size() == 2;
  }));
  EXPECT_EQ(changes[0].param(), "frequency");
  EXPECT_EQ(changes[1].param(), "level");
  EXPECT_EQ(changes[1].node_rev(), changes[0].node_rev() + 1);
  sub_ctx->TryCancel();

  v1::GetNodeReply node;
  ASSERT_TRUE(cl_->get("osc", node).ok());
  EXPECT_EQ(param_of(node, "frequency")->value().double_value(), 330);
  EXPECT_EQ(param_of(node, "level")->value().double_value(), -20);
}

TEST_F(gateway_fixture, set_params_with_one_bad_entry_changes_nothing) {
  const uint64_t before = rev_of(*cl_, "osc");
  v1::SetParamsReply reply;
  auto s = cl_->nodes->SetParams(ctx().get(), batch("osc", {{"frequency", 330}, {"level", 12}}),
                                 &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("params[1].value: level:", 0), 0u) << s.error_message();

  s = cl_->nodes->SetParams(ctx().get(), batch("osc", {{"frequency", 330}, {"nope", 1}}), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("params[1].param:", 0), 0u) << s.error_message();

  s = cl_->nodes->SetParams(ctx().get(),
                            batch("osc", {{"frequency", 330}, {"frequency", 331}}), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("given twice"), std::string::npos) << s.error_message();

  EXPECT_EQ(rev_of(*cl_, "osc"), before);
  v1::GetNodeReply node;
  ASSERT_TRUE(cl_->get("osc", node).ok());
  EXPECT_EQ(param_of(node, "frequency")->value().double_value(), 440);

  s = cl_->nodes->SetParams(ctx().get(), batch("nope", {{"level", -3}}), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message(), "node: no node 'nope'");
  s = cl_->nodes->SetParams(ctx().get(), batch("osc", {}), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("params:", 0), 0u) << s.error_message();
  s = cl_->nodes->SetParams(ctx().get(), batch("", {{"level", -3}}), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("node:", 0), 0u) << s.error_message();
}

/// Reads meter events until `in_a_row` peaks in a row are within 0.5 dB of `db` (true), or the
/// stream ends at its deadline (false). `last` is the latest peak read, for the message.
bool meter_settles_at(grpc::ClientReader<v1::Event>& reader, double db, float& last,
                      int in_a_row = 3) {
  last = -200;
  int close = 0;
  v1::Event ev;
  while (reader.Read(&ev)) {
    if (!ev.has_meter() || ev.meter().peak_db_size() == 0)
      continue;
    last = ev.meter().peak_db(0);
    close = std::abs(last - db) <= 0.5 ? close + 1 : 0;
    if (close == in_a_row)
      return true;
  }
  return false;
}

TEST_F(gateway_fixture, bypass_passes_the_input_through_and_is_an_event) {
  v1::SubscribeRequest filter;
  filter.add_nodes("meter");
  filter.add_nodes("amp");
  filter.add_kinds(v1::EVENT_KIND_METER);
  filter.add_kinds(v1::EVENT_KIND_BYPASS);
  auto sub_ctx = ctx(30s);
  auto reader = cl_->events->Subscribe(sub_ctx.get(), filter);
  // osc at -12 dBFS through amp at -6 dB: the meter reads about -18, and -12 with amp bypassed.
  float peak = 0;
  EXPECT_TRUE(meter_settles_at(*reader, -18, peak)) << "the meter reads " << peak;

  v1::BypassRequest req;
  req.set_node("amp");
  req.set_bypass(true);
  v1::BypassReply reply;
  auto s = cl_->nodes->Bypass(ctx().get(), req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(reply.applied().bypassed());
  v1::Event ev;
  ASSERT_TRUE(read_until(*reader, [](const v1::Event& e) { return e.has_bypassed(); }, &ev));
  EXPECT_EQ(ev.bypassed().node(), "amp");
  EXPECT_EQ(ev.bypassed().node_rev(), reply.applied().node_rev());
  EXPECT_TRUE(meter_settles_at(*reader, -12, peak)) << "bypassed, the meter reads " << peak;

  v1::GetNodeReply node;
  ASSERT_TRUE(cl_->get("amp", node).ok());
  EXPECT_TRUE(node.node().bypassed());
  // Switching to the same state again changes nothing.
  ASSERT_TRUE(cl_->nodes->Bypass(ctx().get(), req, &reply).ok());
  EXPECT_EQ(reply.applied().node_rev(), node.node().node_rev());

  req.set_bypass(false);
  ASSERT_TRUE(cl_->nodes->Bypass(ctx().get(), req, &reply).ok());
  EXPECT_TRUE(meter_settles_at(*reader, -18, peak)) << "back in, the meter reads " << peak;
  sub_ctx->TryCancel();

  req.set_node("nope");
  EXPECT_EQ(cl_->nodes->Bypass(ctx().get(), req, &reply).error_code(),
            grpc::StatusCode::NOT_FOUND);
  req.set_node("");
  EXPECT_EQ(cl_->nodes->Bypass(ctx().get(), req, &reply).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(gateway_fixture, bypass_survives_a_graph_apply_and_shows_in_snapshots) {
  v1::BypassRequest req;
  req.set_node("amp");
  req.set_bypass(true);
  v1::BypassReply reply;
  ASSERT_TRUE(cl_->nodes->Bypass(ctx().get(), req, &reply).ok());
  std::string changed = gw_test_graph;
  changed.replace(changed.find("level: -6"), 9, "level: -7");
  v1::ApplyGraphRequest apply;
  apply.set_yaml(changed);
  v1::ApplyGraphReply applied;
  auto s = cl_->graph->ApplyGraph(ctx(30s).get(), apply, &applied);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetNodeReply node;
  ASSERT_TRUE(cl_->get("amp", node).ok());
  EXPECT_TRUE(node.node().bypassed());
  auto sub_ctx = ctx();
  auto reader = cl_->events->Subscribe(sub_ctx.get(), {});
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));
  bool seen = false;
  for (const auto& n : ev.snapshot().nodes())
    if (n.id() == "amp")
      seen = n.bypassed();
  EXPECT_TRUE(seen);
  sub_ctx->TryCancel();
}

TEST_F(gateway_fixture, export_graph_round_trips_through_the_loader) {
  v1::ExportGraphRequest req;
  v1::ExportGraphReply reply;
  auto s = cl_->graph->ExportGraph(ctx().get(), req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  auto loaded = load_graph_string(reply.yaml(), "exported.yaml");
  ASSERT_TRUE(loaded.ok()) << reply.yaml();
  v1::GetGraphReply running;
  ASSERT_TRUE(cl_->graph->GetGraph(ctx().get(), {}, &running).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(loaded.spec, running.graph())) << reply.yaml();
  EXPECT_EQ(reply.graph_rev(), running.graph_rev());
}

TEST_F(gateway_fixture, export_graph_with_session_values_never_exports_overlays) {
  v1::SetParamReply r;
  const auto committed = dbl(300);
  ASSERT_TRUE(cl_->set("osc", "frequency", &committed, r).ok());
  v1::SetParamRequest overlay;
  overlay.set_node("osc");
  overlay.set_param("level");
  *overlay.mutable_value() = dbl(-40);
  overlay.set_overlay_source("lfo");
  overlay.set_settle_ms(60000);
  ASSERT_TRUE(cl_->nodes->SetParam(ctx().get(), overlay, &r).ok());

  v1::ExportGraphRequest req;
  req.set_committed(true);
  v1::ExportGraphReply reply;
  ASSERT_TRUE(cl_->graph->ExportGraph(ctx().get(), req, &reply).ok());
  auto loaded = load_graph_string(reply.yaml(), "exported.yaml");
  ASSERT_TRUE(loaded.ok()) << reply.yaml();
  for (const auto& n : loaded.spec.nodes())
    if (n.id() == "osc") {
      EXPECT_EQ(n.params().at("frequency").double_value(), 300) << reply.yaml();
      EXPECT_EQ(n.params().at("level").double_value(), -12) << reply.yaml();
    }
}

TEST_F(gateway_fixture, status_reports_version_node_loads_and_clients) {
  auto sub_ctx = ctx();
  auto reader = cl_->events->Subscribe(sub_ctx.get(), {});
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));
  v1::StatusReply status;
  ASSERT_TRUE(status_with_node_loads(*cl_, {"osc", "amp"}, status)) << status.DebugString();
  EXPECT_FALSE(status.version().empty());
  EXPECT_GT(status.uptime_s(), 0);
  EXPECT_FALSE(status.tls());
  EXPECT_FALSE(status.auth());
  ASSERT_EQ(status.devices_size(), 1);
  ASSERT_GE(status.clients_size(), 1);
  bool subscribed = false;
  for (const auto& c : status.clients()) {
    EXPECT_EQ(c.role(), "open");
    EXPECT_GE(c.calls(), 1u);
    subscribed |= c.subscriptions() == 1;
  }
  EXPECT_TRUE(subscribed) << status.DebugString();
  sub_ctx->TryCancel();
}

class limited_gateway : public gateway_fixture {
protected:
  gateway_options gateway_opts() override {
    return {.listen = "127.0.0.1:0",
            .max_message_bytes = 64 << 10,
            .max_subscribers_per_client = 2,
            .max_intents_per_s = 20};
  }
};

TEST_F(limited_gateway, intents_beyond_the_rate_are_refused_and_change_nothing) {
  const uint64_t before = rev_of(*cl_, "osc");
  int ok = 0, limited = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 60; ++i) {
    v1::SetParamReply r;
    auto value = dbl(200 + i);
    auto s = cl_->set("osc", "frequency", &value, r);
    if (s.ok())
      ++ok;
    else if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++limited;
      EXPECT_EQ(s.error_message().rfind("intents: more than 20 intents per second", 0), 0u)
        << s.error_message();
    }
  }
  const double took_s =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "60 intents in " << took_s << " s: " << ok << " accepted\n";
  // A bucket of 20 that refills at 20 per second: the burst, plus what refilled while the
  // loop ran (a slow machine takes longer and may see more accepted, never more than that).
  EXPECT_GE(ok, 20);
  EXPECT_LE(ok, 20 + static_cast<int>(20 * took_s));
  EXPECT_EQ(ok + limited, 60);
  EXPECT_EQ(rev_of(*cl_, "osc"), before + static_cast<uint64_t>(ok));
  // Reads are never rate limited, and another client has its own budget.
  client other(address_);
  v1::SetParamReply r;
  auto value = dbl(500);
  EXPECT_TRUE(other.set("osc", "frequency", &value, r).ok());
  v1::StatusReply status;
  ASSERT_TRUE(cl_->system->GetStatus(ctx().get(), {}, &status).ok());
  uint64_t refused = 0;
  for (const auto& c : status.clients())
    refused += c.limited();
  EXPECT_EQ(refused, static_cast<uint64_t>(limited));
  // The budget refills: retried every 50 ms, an intent is accepted again; every refusal
  // meanwhile is the rate limit.
  grpc::Status again;
  EXPECT_TRUE(eventually(
    [&] {
      again = cl_->set("osc", "frequency", &value, r);
      EXPECT_TRUE(again.ok() || again.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
        << again.error_message();
      return again.ok();
    },
    10s, 50ms))
    << again.error_message();
}

TEST_F(limited_gateway, subscriptions_per_client_and_message_size_are_bounded) {
  auto c1 = ctx(), c2 = ctx(), c3 = ctx();
  auto r1 = cl_->events->Subscribe(c1.get(), {});
  auto r2 = cl_->events->Subscribe(c2.get(), {});
  v1::Event ev;
  ASSERT_TRUE(r1->Read(&ev));
  ASSERT_TRUE(r2->Read(&ev));
  auto r3 = cl_->events->Subscribe(c3.get(), {});
  EXPECT_FALSE(r3->Read(&ev));
  auto s = r3->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("from this client (limit 2)"), std::string::npos)
    << s.error_message();
  // Another connection may still subscribe.
  client other(address_);
  auto c4 = ctx();
  auto r4 = other.events->Subscribe(c4.get(), {});
  EXPECT_TRUE(r4->Read(&ev));
  c1->TryCancel();
  c2->TryCancel();
  c4->TryCancel();

  v1::ValidateGraphRequest big;
  big.set_yaml(std::string(100 << 10, '#'));
  v1::ValidateGraphReply reply;
  EXPECT_EQ(cl_->graph->ValidateGraph(ctx().get(), big, &reply).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
}

} // namespace
} // namespace sg::test
