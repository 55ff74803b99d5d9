#pragma once

// A runtime in this process running a small graph, and a subscription that collects what the
// authorities broadcast.

#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "actors/runtime.hpp"
#include "graph/loader.hpp"

namespace sg::test {

using namespace std::chrono_literals;

/// How long a test waits for what normally takes milliseconds: generous, for sanitizer builds
/// on a loaded machine; a wait ends as soon as its condition holds.
constexpr auto patience = 10s;

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
    held_.clear();
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
      if (!next_event(ev, 20ms))
        continue;
      out.push_back(ev);
      if (until && until(ev))
        break;
    }
    return out;
  }

  /// Waits until every controller of the graph (control.lfo, .ramp, .osc, .midi) has reported
  /// its NodeStatus: each does once it has its snapshot, after its hub subscription is in place,
  /// so it hears everything published from then on. With `also`, waits as well until it has
  /// returned true for one event. Returns the events collected meanwhile.
  std::vector<v1::Event> wait_controllers(std::function<bool(const v1::Event&)> also = {}) {
    static const std::set<std::string> reporting = {"control.lfo", "control.ramp",
                                                    "control.osc", "control.midi"};
    std::set<std::string> waiting;
    const auto snap = rt_->snapshot();
    for (const auto& n : snap.nodes())
      if (reporting.count(n.type()))
        waiting.insert(n.id());
    bool also_seen = !also;
    auto evs = collect(patience, [&](const v1::Event& e) {
      if (e.has_node_status())
        waiting.erase(e.node_status().node());
      also_seen = also_seen || also(e);
      return waiting.empty() && also_seen;
    });
    EXPECT_TRUE(waiting.empty()) << "no status from " << *waiting.begin();
    return evs;
  }

  /// Drops the events already queued (what happened before now).
  void drain() {
    held_.clear();
    v1::Event ev;
    while (stream_->next(ev, 0ms)) {
    }
  }

  /// The next event: one a wait read ahead without taking it, else the stream's.
  bool next_event(v1::Event& ev, std::chrono::milliseconds timeout) {
    if (held_.empty())
      return stream_->next(ev, timeout);
    ev = std::move(held_.front());
    held_.pop_front();
    return true;
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

  static double as_number(const v1::Value& v) {
    return v.has_double_value() ? v.double_value()
           : v.has_int_value()  ? static_cast<double>(v.int_value())
                                : (v.bool_value() ? 1.0 : 0.0);
  }

  /// A test for a value: equal to `x` within rounding.
  static std::function<bool(double)> is(double x) {
    return [x](double v) { return std::fabs(v - x) < 1e-9; };
  }

  /// The node's revision: it counts the changes of all its parameters.
  uint64_t node_rev(const std::string& node) {
    v1::GetNodeRequest req;
    req.set_node(node);
    return rt_->get_node(req).node().node_rev();
  }

  /// Every change of `node` after node revision `after`, in order, up to the first change of
  /// `param` whose value satisfies `marker` (that one last); nothing if the marker did not come
  /// within `patience`. One authority applies a node's changes in the order they reach it, so
  /// what the marker's sender sent before the marker shows up before it.
  std::optional<std::vector<v1::ParamChanged>> changes_until(
    const std::string& node, const std::string& param, uint64_t after,
    const std::function<bool(double)>& marker) {
    std::vector<v1::ParamChanged> seen;
    bool found = false;
    collect(patience, [&](const v1::Event& e) {
      if (!e.has_param_changed() || e.param_changed().node() != node ||
          e.param_changed().node_rev() <= after)
        return false;
      const auto& pc = e.param_changed();
      seen.push_back(pc);
      found = pc.param() == param && !pc.cleared() && marker(as_number(pc.value()));
      return found;
    });
    if (!found)
      return std::nullopt;
    return seen;
  }

  /// "param=value, ..." for a failure message.
  static std::string show(const std::vector<v1::ParamChanged>& pcs) {
    std::ostringstream out;
    for (const auto& pc : pcs)
      out << (out.tellp() > 0 ? ", " : "") << pc.param() << "=" << as_number(pc.value())
          << " from " << pc.origin().client_id();
    return out.str();
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

  /// Waits (`patience`, or `within`, at most) for the value of node.param to satisfy `ok`.
  bool wait_value(const std::string& node, const std::string& p,
                  const std::function<bool(double)>& ok,
                  std::chrono::milliseconds within = patience) {
    for (const auto end = std::chrono::steady_clock::now() + within;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(10ms))
      if (ok(value(node, p)))
        return true;
    return ok(value(node, p));
  }
  double value(const std::string& node, const std::string& p) {
    return as_number(param(node, p).value());
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
  std::deque<v1::Event> held_;  // read from the stream ahead of collect()
};

} // namespace sg::test
