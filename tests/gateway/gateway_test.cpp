#include <cmath>
#include <future>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/gateway/fixture.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;
using health_status = grpc::health::v1::HealthCheckResponse;

/// A subscription read by the test, checking that `seq` is contiguous on the wire.
struct subscription {
  subscription(client& c, const v1::SubscribeRequest& req = {},
               std::chrono::milliseconds timeout = 10s)
    : context(ctx(timeout)), reader(c.events->Subscribe(context.get(), req)) {}

  /// The next event; fails the test on a gap in `seq` or a closed stream.
  bool next(v1::Event& ev) {
    if (!reader->Read(&ev))
      return false;
    EXPECT_EQ(ev.seq(), last_seq + 1) << "seq not contiguous";
    last_seq = ev.seq();
    return true;
  }

  /// Reads until a ParamChanged for node.param arrives.
  bool until_param(const std::string& node, const std::string& param, v1::ParamChanged& out) {
    v1::Event ev;
    while (next(ev))
      if (ev.has_param_changed() && ev.param_changed().node() == node &&
          ev.param_changed().param() == param) {
        out = ev.param_changed();
        return true;
      }
    return false;
  }

  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReader<v1::Event>> reader;
  uint64_t last_seq = 0;
};

std::map<std::string, std::string> params_of(const v1::NodeState& n) {
  std::map<std::string, std::string> out;
  for (const auto& p : n.params())
    out[p.name()] = p.value().ShortDebugString();
  return out;
}

health_status::ServingStatus health_of(client& c, const std::string& service) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  health_status reply;
  auto s = c.health->Check(ctx().get(), req, &reply);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return reply.status();
}

// --- nodes --------------------------------------------------------------------------------

TEST_F(gateway_fixture, list_nodes_shows_the_running_graph) {
  v1::ListNodesReply reply;
  auto s = cl_->nodes->ListNodes(ctx().get(), {}, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::map<std::string, v1::NodeSummary> by_id;
  for (const auto& n : reply.nodes())
    by_id[n.id()] = n;
  ASSERT_EQ(by_id.size(), 4u);
  EXPECT_EQ(by_id["osc"].type(), "audio.sine");
  EXPECT_EQ(by_id["amp"].type(), "audio.gain");
  EXPECT_EQ(by_id["meter"].type(), "audio.meter");
  EXPECT_EQ(by_id["out"].type(), "audio.output");
  EXPECT_EQ(by_id["out"].device(), "main");
  for (const auto& [id, n] : by_id)
    EXPECT_EQ(n.state(), v1::NodeStatus::STATE_RUNNING) << id;
}

TEST_F(gateway_fixture, list_node_types_has_descriptors) {
  v1::ListNodeTypesReply reply;
  ASSERT_TRUE(cl_->nodes->ListNodeTypes(ctx().get(), {}, &reply).ok());
  bool sine = false;
  for (const auto& t : reply.types())
    if (t.type() == "audio.sine") {
      sine = true;
      ASSERT_EQ(t.params_size(), 2);
      EXPECT_EQ(t.params(0).name(), "frequency");
      EXPECT_EQ(t.params(0).unit(), "Hz");
    }
  EXPECT_TRUE(sine);
}

TEST_F(gateway_fixture, get_node_returns_params_and_descriptor) {
  v1::GetNodeReply reply;
  auto s = cl_->get("osc", reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.node().id(), "osc");
  EXPECT_EQ(reply.type_info().type(), "audio.sine");
  auto params = params_of(reply.node());
  EXPECT_EQ(params["frequency"], dbl(440).ShortDebugString());
  EXPECT_EQ(params["level"], dbl(-12).ShortDebugString());
}

TEST_F(gateway_fixture, get_node_unknown_is_not_found_naming_the_field) {
  v1::GetNodeReply reply;
  auto s = cl_->get("nope", reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(s.error_message().rfind("node: ", 0), 0u) << s.error_message();
  EXPECT_NE(s.error_message().find("nope"), std::string::npos) << s.error_message();

  s = cl_->get("", reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("node: ", 0), 0u) << s.error_message();
}

// --- SetParam -------------------------------------------------------------------------------

TEST_F(gateway_fixture, set_param_applies_bumps_rev_and_echoes_origin) {
  v1::GetNodeReply before;
  ASSERT_TRUE(cl_->get("osc", before).ok());
  auto value = dbl(220);
  v1::SetParamReply reply;
  auto s = cl_->set("osc", "frequency", &value, reply, "test-a", 7);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(reply.has_status()) << "failures travel as gRPC statuses, not in the body";
  const auto& a = reply.applied();
  EXPECT_EQ(a.node(), "osc");
  EXPECT_EQ(a.param(), "frequency");
  EXPECT_EQ(a.value().ShortDebugString(), value.ShortDebugString());
  EXPECT_EQ(a.node_rev(), before.node().node_rev() + 1);
  EXPECT_EQ(a.origin().client_id(), "test-a");
  EXPECT_EQ(a.origin().client_rev(), 7u);

  v1::GetNodeReply after;
  ASSERT_TRUE(cl_->get("osc", after).ok());
  EXPECT_EQ(after.node().node_rev(), a.node_rev());
  EXPECT_EQ(params_of(after.node())["frequency"], value.ShortDebugString());
}

TEST_F(gateway_fixture, set_param_without_origin_gets_a_per_connection_id) {
  auto value = dbl(-3);
  v1::SetParamReply first, second;
  ASSERT_TRUE(cl_->set("amp", "level", &value, first).ok());
  ASSERT_TRUE(cl_->set("amp", "level", &value, second).ok());
  const auto& id = first.applied().origin().client_id();
  EXPECT_EQ(id.rfind("peer:", 0), 0u) << id;
  EXPECT_GT(id.size(), 5u);
  EXPECT_EQ(second.applied().origin().client_id(), id) << "same connection, same id";

  client other(address_);
  v1::SetParamReply third;
  ASSERT_TRUE(other.set("amp", "level", &value, third).ok());
  EXPECT_NE(third.applied().origin().client_id(), id) << "another connection, another id";
}

struct bad_set {
  const char* name;
  std::string node;
  std::string param;
  std::optional<v1::Value> value;
  grpc::StatusCode code;
  const char* field;
};

v1::Value text(const std::string& s) {
  v1::Value v;
  v.set_string_value(s);
  return v;
}

TEST_F(gateway_fixture, set_param_errors_name_the_field_and_change_nothing) {
  const bad_set cases[] = {
    {"unknown node", "nope", "level", dbl(-6), grpc::StatusCode::NOT_FOUND, "node"},
    {"unknown param", "osc", "nope", dbl(1), grpc::StatusCode::INVALID_ARGUMENT, "param"},
    {"wrong type", "osc", "frequency", text("loud"), grpc::StatusCode::INVALID_ARGUMENT,
     "value"},
    {"out of range", "osc", "frequency", dbl(50000), grpc::StatusCode::INVALID_ARGUMENT,
     "value"},
    {"missing value", "osc", "frequency", std::nullopt, grpc::StatusCode::INVALID_ARGUMENT,
     "value"},
    {"empty node", "", "frequency", dbl(220), grpc::StatusCode::INVALID_ARGUMENT, "node"},
    {"empty param", "osc", "", dbl(220), grpc::StatusCode::INVALID_ARGUMENT, "param"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    v1::GetNodeReply osc_before, amp_before;
    ASSERT_TRUE(cl_->get("osc", osc_before).ok());
    ASSERT_TRUE(cl_->get("amp", amp_before).ok());

    v1::SetParamReply reply;
    auto s = cl_->set(c.node, c.param, c.value ? &*c.value : nullptr, reply, "test-bad", 1);
    EXPECT_EQ(s.error_code(), c.code) << s.error_message();
    EXPECT_EQ(s.error_message().rfind(std::string(c.field) + ": ", 0), 0u) << s.error_message();

    v1::GetNodeReply osc_after, amp_after;
    ASSERT_TRUE(cl_->get("osc", osc_after).ok());
    ASSERT_TRUE(cl_->get("amp", amp_after).ok());
    EXPECT_EQ(osc_after.node().ShortDebugString(), osc_before.node().ShortDebugString());
    EXPECT_EQ(amp_after.node().ShortDebugString(), amp_before.node().ShortDebugString());
  }
}

// --- Subscribe ------------------------------------------------------------------------------

TEST_F(gateway_fixture, subscribe_starts_with_a_full_snapshot) {
  subscription sub(*cl_);
  v1::Event ev;
  ASSERT_TRUE(sub.next(ev));
  ASSERT_TRUE(ev.has_snapshot()) << ev.ShortDebugString();
  EXPECT_EQ(ev.seq(), 1u);
  const auto& snap = ev.snapshot();
  EXPECT_EQ(snap.graph_name(), "gw-test");
  ASSERT_EQ(snap.nodes_size(), 4);
  for (const auto& n : snap.nodes()) {
    SCOPED_TRACE(n.id());
    v1::GetNodeReply live;
    ASSERT_TRUE(cl_->get(n.id(), live).ok());
    EXPECT_EQ(params_of(n), params_of(live.node()));
    EXPECT_EQ(n.node_rev(), live.node().node_rev());
    EXPECT_EQ(n.type(), live.node().type());
    EXPECT_EQ(static_cast<size_t>(n.params_size()),
              static_cast<size_t>(live.type_info().params_size()))
      << "every parameter of the type is in the snapshot";
  }
}

TEST_F(gateway_fixture, set_param_from_another_client_reaches_every_subscriber) {
  subscription all(*cl_);
  v1::SubscribeRequest only_params;
  only_params.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  client second_subscriber(address_);
  subscription filtered(second_subscriber, only_params);
  v1::Event ev;
  ASSERT_TRUE(all.next(ev) && ev.has_snapshot());
  ASSERT_TRUE(filtered.next(ev) && ev.has_snapshot()) << "the snapshot is never filtered";

  client writer(address_);
  auto value = dbl(330);
  v1::SetParamReply reply;
  ASSERT_TRUE(writer.set("osc", "frequency", &value, reply, "client-b", 42).ok());

  for (auto* sub : {&all, &filtered}) {
    v1::ParamChanged pc;
    ASSERT_TRUE(sub->until_param("osc", "frequency", pc));
    EXPECT_EQ(pc.value().ShortDebugString(), value.ShortDebugString());
    EXPECT_EQ(pc.node_rev(), reply.applied().node_rev());
    EXPECT_EQ(pc.origin().client_id(), "client-b");
    EXPECT_EQ(pc.origin().client_rev(), 42u);
  }
  EXPECT_EQ(filtered.last_seq, 2u) << "filtered events are numbered contiguously";
}

TEST_F(gateway_fixture, subscribe_filters_meter_events_by_node) {
  v1::SubscribeRequest req;
  req.add_nodes("meter");
  req.add_kinds(v1::EVENT_KIND_METER);
  subscription sub(*cl_, req);
  v1::Event ev;
  ASSERT_TRUE(sub.next(ev) && ev.has_snapshot());
  EXPECT_EQ(ev.snapshot().nodes_size(), 4) << "the snapshot is never filtered";
  v1::MeterLevels last;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(sub.next(ev)) << "meter events stopped after " << i;
    ASSERT_TRUE(ev.has_meter()) << ev.ShortDebugString();
    EXPECT_EQ(ev.node_id(), "meter");
    last = ev.meter();
  }
  // A -12 dBFS sine through -6 dB of gain peaks at -18 dBFS, RMS 3 dB lower.
  ASSERT_GT(last.peak_db_size(), 0);
  for (float p : last.peak_db())
    EXPECT_NEAR(p, -18.0, 0.5);
  for (float r : last.rms_db())
    EXPECT_NEAR(r, -21.0, 0.5);
}

TEST_F(gateway_fixture, subscribe_rejects_unknown_kinds) {
  v1::SubscribeRequest req;
  req.add_kinds(v1::EVENT_KIND_UNSPECIFIED);
  subscription sub(*cl_, req);
  v1::Event ev;
  EXPECT_FALSE(sub.reader->Read(&ev));
  auto s = sub.reader->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("kinds[0]: ", 0), 0u) << s.error_message();
}

TEST_F(gateway_fixture, subscribers_beyond_the_limit_are_refused) {
  gateway small(*rt_, {.listen = "127.0.0.1:0", .max_subscribers = 1});
  auto small_started = small.start();
  ASSERT_TRUE(small_started) << small_started.error();
  client c(small.address());
  auto first = std::make_unique<subscription>(c);
  v1::Event ev;
  ASSERT_TRUE(first->next(ev) && ev.has_snapshot());

  subscription second(c);
  EXPECT_FALSE(second.reader->Read(&ev));
  EXPECT_EQ(second.reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  first->context->TryCancel();
  first->reader->Finish();
  first.reset();
  // The handler notices the cancellation within its poll interval and frees the slot.
  ASSERT_TRUE(eventually([&] { return small.subscribers() == 0; })) << "the slot stayed taken";
  subscription third(c);
  ASSERT_TRUE(third.next(ev) && ev.has_snapshot());
}

/// Stops `g` on another thread and fails the test as soon as `limit` passes without stop()
/// returning (then it still waits: the gateway cannot go away under a running stop()). The
/// tests keep a call open with a 30 s deadline, so a stop() that waited for it could not pass
/// at 10 s. The time stop() took is printed, not asserted.
void expect_stops_within(gateway& g, std::chrono::seconds limit, const char* why) {
  const auto t0 = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [&g] { g.stop(); });
  if (stopped.wait_for(limit) != std::future_status::ready)
    ADD_FAILURE() << "stop() still running after " << limit.count() << " s: " << why;
  stopped.wait();
  const auto took = std::chrono::steady_clock::now() - t0;
  std::cout << "stop() took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
}

TEST_F(gateway_fixture, stop_with_an_open_stream_returns_promptly) {
  subscription sub(*cl_, {}, 30s);
  v1::Event ev;
  ASSERT_TRUE(sub.next(ev) && ev.has_snapshot());
  expect_stops_within(*gw_, 10s, "it waits for the open stream");
  while (sub.reader->Read(&ev)) {
  }
  EXPECT_EQ(sub.reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(gw_->address(), "");
}

TEST_F(gateway_fixture, stop_with_an_open_health_watch_returns_promptly) {
  auto watch_ctx = ctx(30s);
  grpc::health::v1::HealthCheckRequest req;
  auto reader = cl_->health->Watch(watch_ctx.get(), req);
  health_status first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.status(), health_status::SERVING);
  expect_stops_within(*gw_, 10s, "it waits for the open health watch");
  health_status ev;
  while (reader->Read(&ev))
    EXPECT_EQ(ev.status(), health_status::NOT_SERVING);
  reader->Finish();
}

TEST_F(gateway_fixture, requests_above_max_message_bytes_are_refused) {
  gateway small(*rt_, {.listen = "127.0.0.1:0", .max_message_bytes = 1024});
  auto small_started = small.start();
  ASSERT_TRUE(small_started) << small_started.error();
  client c(small.address());
  v1::ValidateGraphRequest req;
  req.set_yaml(std::string(4096, '#'));
  v1::ValidateGraphReply reply;
  auto s = c.graph->ValidateGraph(ctx().get(), req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
}

// --- graph, status, health, binding ---------------------------------------------------------

TEST_F(gateway_fixture, validate_graph_reports_line_and_column) {
  v1::ValidateGraphRequest req;
  req.set_file_name("broken.yaml");
  req.set_yaml("version: 1\nname: broken\nnodes:\n"
               "  - { id: osc, type: audio.sine, params: { frequency: 99999 } }\n"
               "  - { id: x, type: audio.nope }\n");
  v1::ValidateGraphReply reply;
  auto s = cl_->graph->ValidateGraph(ctx().get(), req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_FALSE(reply.ok());
  ASSERT_GE(reply.diagnostics_size(), 2);
  std::set<uint32_t> lines;
  for (const auto& d : reply.diagnostics()) {
    EXPECT_EQ(d.file(), "broken.yaml");
    EXPECT_GT(d.column(), 0u) << d.message();
    EXPECT_FALSE(d.message().empty());
    lines.insert(d.line());
  }
  EXPECT_TRUE(lines.count(4)) << "frequency out of range on line 4";
  EXPECT_TRUE(lines.count(5)) << "unknown type on line 5";

  req.set_yaml("version: 1\nnodes: [ { id: osc\n");
  ASSERT_TRUE(cl_->graph->ValidateGraph(ctx().get(), req, &reply).ok());
  EXPECT_FALSE(reply.ok());
  ASSERT_GE(reply.diagnostics_size(), 1);
  EXPECT_GT(reply.diagnostics(0).line(), 0u);
}

TEST_F(gateway_fixture, validate_graph_accepts_a_good_graph_and_refuses_empty_text) {
  v1::ValidateGraphRequest req;
  req.set_yaml(gw_test_graph);
  v1::ValidateGraphReply reply;
  ASSERT_TRUE(cl_->graph->ValidateGraph(ctx().get(), req, &reply).ok());
  EXPECT_TRUE(reply.ok());
  EXPECT_EQ(reply.diagnostics_size(), 0);

  req.clear_yaml();
  auto s = cl_->graph->ValidateGraph(ctx().get(), req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message().rfind("yaml: ", 0), 0u) << s.error_message();
}

TEST_F(gateway_fixture, get_graph_and_status) {
  v1::GetGraphReply graph;
  ASSERT_TRUE(cl_->graph->GetGraph(ctx().get(), {}, &graph).ok());
  EXPECT_EQ(graph.graph().name(), "gw-test");
  EXPECT_EQ(graph.graph().nodes_size(), 4);

  v1::StatusReply status;
  ASSERT_TRUE(cl_->system->GetStatus(ctx().get(), {}, &status).ok());
  EXPECT_EQ(status.graph_name(), "gw-test");
  EXPECT_FALSE(status.version().empty());
  ASSERT_EQ(status.devices_size(), 1);
  EXPECT_EQ(status.devices(0).backend(), "null");
  EXPECT_EQ(status.gateway_address(), address_);
}

TEST_F(gateway_fixture, health_follows_set_serving) {
  const std::string services[] = {"", "studiograph.v1.NodeService", "studiograph.v1.EventService",
                                  "studiograph.v1.GraphService", "studiograph.v1.SystemService"};
  for (const auto& s : services)
    EXPECT_EQ(health_of(*cl_, s), health_status::SERVING) << s;
  gw_->set_serving(false);
  for (const auto& s : services)
    EXPECT_EQ(health_of(*cl_, s), health_status::NOT_SERVING) << s;
  gw_->set_serving(true);
  EXPECT_EQ(health_of(*cl_, ""), health_status::SERVING);
}

TEST_F(gateway_fixture, a_new_gateway_is_not_serving_until_told) {
  gateway fresh(*rt_, {.listen = "127.0.0.1:0"});
  auto fresh_started = fresh.start();
  ASSERT_TRUE(fresh_started) << fresh_started.error();
  client c(fresh.address());
  EXPECT_EQ(health_of(c, ""), health_status::NOT_SERVING);
  fresh.set_serving(true);
  EXPECT_EQ(health_of(c, ""), health_status::SERVING);
}

TEST_F(gateway_fixture, start_refuses_non_loopback_and_bad_addresses) {
  struct bad {
    const char* listen;
    const char* says;
  };
  for (auto [listen, says] : {bad{"0.0.0.0:0", "not loopback"}, bad{"[::]:0", "not loopback"},
                              bad{"192.0.2.1:50051", "not loopback"},
                              bad{"example.com:50051", "not loopback"},
                              bad{"127.0.0.1", "does not parse"},
                              bad{"127.0.0.1:99999", "does not parse"},
                              bad{"[::1:50051", "does not parse"}}) {
    gateway g(*rt_, {.listen = listen});
    auto started = g.start();
    ASSERT_FALSE(started) << listen;
    EXPECT_NE(started.error().find(says), std::string::npos) << started.error();
    EXPECT_NE(started.error().find(listen), std::string::npos) << started.error();
    EXPECT_EQ(g.address(), "");
  }
  gateway g(*rt_, {.listen = "0.0.0.0:0"});
  auto started = g.start();
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().find("token"), std::string::npos) << started.error();
}

TEST_F(gateway_fixture, start_fails_when_the_port_is_taken) {
  gateway second(*rt_, {.listen = address_});
  auto started = second.start();
  ASSERT_FALSE(started) << "a second server on " << address_ << " must not share the port";
  EXPECT_NE(started.error().find("cannot bind"), std::string::npos) << started.error();
}

} // namespace
} // namespace sg::test
