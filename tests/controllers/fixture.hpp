#pragma once

// A runtime in this process running a small graph, and a subscription that collects what the
// authorities broadcast.

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/runtime.hpp"
#include "graph/loader.hpp"

namespace sg::test {

using namespace std::chrono_literals;

class controller_fixture : public ::testing::Test {
protected:
  void start(const std::string& nodes_yaml, const std::string& devices_yaml = {},
             const std::string& state_path = "none", const std::string& edges_yaml = {}) {
    runtime_options ro;
    ro.state_path = state_path;
    rt_ = std::make_unique<runtime>(ro);
    const std::string yaml = R"(version: 1
name: controllers
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
)" + devices_yaml + R"(nodes:
  - { id: tone, type: audio.sine, params: { frequency: 440 } }
  - { id: amp, type: audio.gain, params: { level: -20 } }
  - { id: out, type: audio.output, device: main }
)" + nodes_yaml + R"(
edges:
  - tone.out -> amp.in
  - amp.out -> out.in
)" + edges_yaml;
    auto loaded = load_graph_string(yaml, "controllers.yaml");
    ASSERT_TRUE(loaded.ok()) << format_diagnostic(loaded.errors.front());
    v1::SubscribeRequest sub;
    stream_ = rt_->subscribe(sub);
    auto r = rt_->apply_graph(loaded.spec);
    ASSERT_EQ(r.status().code(), 0) << r.status().message();
  }

  void TearDown() override {
    if (stream_)
      stream_->close();
    rt_.reset();
  }

  /// Collects events for `d`, or until `until` returns true for one.
  std::vector<v1::Event> collect(std::chrono::milliseconds d,
                                 const std::function<bool(const v1::Event&)>& until = {}) {
    std::vector<v1::Event> out;
    const auto end = std::chrono::steady_clock::now() + d;
    v1::Event ev;
    while (std::chrono::steady_clock::now() < end) {
      if (!stream_->next(ev, 20ms))
        continue;
      out.push_back(ev);
      if (until && until(ev))
        break;
    }
    return out;
  }

  /// Drops the events already queued (what happened before now).
  void drain() {
    v1::Event ev;
    while (stream_->next(ev, 0ms)) {
    }
  }

  /// ParamChanged events of node.param among `evs`.
  static std::vector<v1::ParamChanged> changes(const std::vector<v1::Event>& evs,
                                               const std::string& node,
                                               const std::string& param) {
    std::vector<v1::ParamChanged> out;
    for (const auto& e : evs)
      if (e.has_param_changed() && e.param_changed().node() == node &&
          e.param_changed().param() == param)
        out.push_back(e.param_changed());
    return out;
  }

  v1::ParamState param(const std::string& node, const std::string& name) {
    v1::GetNodeRequest req;
    req.set_node(node);
    const auto reply = rt_->get_node(req);
    for (const auto& p : reply.node().params())
      if (p.name() == name)
        return p;
    ADD_FAILURE() << "no " << node << "." << name;
    return {};
  }

  v1::SetParamReply set(const std::string& node, const std::string& name, v1::Value v) {
    v1::SetParamRequest req;
    req.set_node(node);
    req.set_param(name);
    *req.mutable_value() = std::move(v);
    req.mutable_origin()->set_client_id("test");
    return rt_->set_param(req);
  }

  static v1::Value boolean(bool b) {
    v1::Value v;
    v.set_bool_value(b);
    return v;
  }
  static v1::Value number(double x) {
    v1::Value v;
    v.set_double_value(x);
    return v;
  }

  std::unique_ptr<runtime> rt_;
  std::shared_ptr<event_stream> stream_;
};

} // namespace sg::test
