#pragma once

/// A real runtime running the gw-test graph on the null audio device, a real gateway on a free
/// loopback port, and real gRPC stubs talking to it.

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "actors/gateway/gateway.hpp"
#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"

namespace sg::test {

namespace v1 = studiograph::v1;

inline constexpr const char* gw_test_graph = R"(version: 1
name: gw-test
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
nodes:
  - { id: osc, type: audio.sine, params: { frequency: 440, level: -12 } }
  - { id: amp, type: audio.gain, params: { level: -6 } }
  - { id: meter, type: audio.meter }
  - { id: out, type: audio.output, device: main }
edges:
  - osc.out -> amp.in
  - amp.out -> out.in
  - amp.out -> meter.in
)";

/// Polls `done` until it holds (true) or `timeout` passes (false). Timeouts are generous:
/// sanitizer builds run 2-10x slower, and a wait that ends early costs nothing.
template <class Pred>
bool eventually(Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds poll = std::chrono::milliseconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

/// A context whose deadline keeps a broken server from hanging the test.
inline std::unique_ptr<grpc::ClientContext> ctx(std::chrono::milliseconds timeout =
                                                  std::chrono::seconds(5)) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + timeout);
  return c;
}

inline v1::Value dbl(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}

/// A channel with its own connection: gRPC otherwise shares one TCP connection between
/// channels with equal arguments, and the gateway could not tell the clients apart.
inline std::shared_ptr<grpc::Channel> own_channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

/// One client connection (its own channel and TCP connection, so its own peer address).
struct client {
  explicit client(const std::string& address)
    : channel(own_channel(address)),
      nodes(v1::NodeService::NewStub(channel)),
      graph(v1::GraphService::NewStub(channel)),
      events(v1::EventService::NewStub(channel)),
      system(v1::SystemService::NewStub(channel)),
      health(grpc::health::v1::Health::NewStub(channel)) {}

  grpc::Status get(const std::string& node, v1::GetNodeReply& reply) {
    v1::GetNodeRequest req;
    req.set_node(node);
    return nodes->GetNode(ctx().get(), req, &reply);
  }

  grpc::Status set(const std::string& node, const std::string& param, const v1::Value* value,
                   v1::SetParamReply& reply, const std::string& client_id = {},
                   uint64_t client_rev = 0) {
    v1::SetParamRequest req;
    req.set_node(node);
    req.set_param(param);
    if (value)
      *req.mutable_value() = *value;
    if (!client_id.empty()) {
      req.mutable_origin()->set_client_id(client_id);
      req.mutable_origin()->set_client_rev(client_rev);
    }
    return nodes->SetParam(ctx().get(), req, &reply);
  }

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::NodeService::Stub> nodes;
  std::unique_ptr<v1::GraphService::Stub> graph;
  std::unique_ptr<v1::EventService::Stub> events;
  std::unique_ptr<v1::SystemService::Stub> system;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;
};

/// Waits until the status reply shows a load for each of `nodes` (device status, with node
/// loads, comes once a second); `out` is the last reply read.
inline bool status_with_node_loads(client& c, const std::vector<std::string>& nodes,
                                   v1::StatusReply& out) {
  return eventually(
    [&] {
      out.Clear();
      if (!c.system->GetStatus(ctx().get(), {}, &out).ok())
        return false;
      std::set<std::string> loaded;
      for (const auto& d : out.devices())
        for (const auto& nl : d.node_loads())
          loaded.insert(nl.node());
      for (const auto& n : nodes)
        if (!loaded.count(n))
          return false;
      return true;
    },
    std::chrono::seconds(10), std::chrono::milliseconds(50));
}

class gateway_fixture : public ::testing::Test {
protected:
  /// Without persistence by default, so tests never share state through a database; suites
  /// that test persistence override this with a file of their own.
  virtual runtime_options runtime_opts() {
    runtime_options o;
    o.state_path = "none";
    return o;
  }

  /// The gateway's options; the listen address should stay a free loopback port.
  virtual gateway_options gateway_opts() { return {.listen = "127.0.0.1:0"}; }

  void SetUp() override {
    opts_ = runtime_opts();
    start_runtime();
  }

  /// Runtime, gateway and client for gw_test_graph with `opts_`.
  void start_runtime() {
    auto loaded = load_graph_string(gw_test_graph, "gw-test.yaml");
    std::string errors;
    for (const auto& d : loaded.errors)
      errors += format_diagnostic(d) + "\n";
    ASSERT_TRUE(loaded.ok()) << errors;
    rt_ = std::make_unique<runtime>(opts_);
    auto applied = rt_->apply_graph(loaded.spec);
    ASSERT_EQ(applied.status().code(), 0) << applied.status().message();
    gw_ = std::make_unique<gateway>(*rt_, gateway_opts());
    auto started = gw_->start();
    ASSERT_TRUE(started) << started.error();
    gw_->set_serving(true);
    address_ = gw_->address();
    cl_ = std::make_unique<client>(address_);
  }

  /// Stops client, gateway and runtime (a clean shutdown: the writer flushes).
  void stop_runtime() {
    cl_.reset();
    gw_.reset();
    rt_.reset();
  }

  void TearDown() override { stop_runtime(); }

  runtime_options opts_;
  std::unique_ptr<runtime> rt_;
  std::unique_ptr<gateway> gw_;
  std::string address_;
  std::unique_ptr<client> cl_;
};

} // namespace sg::test
