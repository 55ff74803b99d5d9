#include "actors/controllers/common.hpp"

#include <cmath>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "actors/state/layers.hpp"
#include "graph/params.hpp"

namespace sg::ctl {

bool param_mirror::apply(const v1::Event& ev, const std::string& id) {
  if (ev.has_snapshot()) {
    snap_ = ev.snapshot();
    index_.clear();
    for (int i = 0; i < snap_.nodes_size(); ++i)
      index_[snap_.nodes(i).id()] = i;
    seeded_ = true;
    return true;
  }
  if (!ev.has_param_changed())
    return false;
  const auto& pc = ev.param_changed();
  auto it = index_.find(pc.node());
  if (it == index_.end())
    return false;
  apply_change(*snap_.mutable_nodes(it->second), pc);
  return pc.node() == id;
}

const v1::NodeState* param_mirror::node(const std::string& id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &snap_.nodes(it->second);
}

const v1::ParamState* param_mirror::param(const std::string& node_id,
                                          const std::string& name) const {
  const auto* n = node(node_id);
  if (!n)
    return nullptr;
  for (const auto& p : n->params())
    if (p.name() == name)
      return &p;
  return nullptr;
}

double param_mirror::number(const std::string& node_id, const std::string& name,
                            double fallback) const {
  const auto* n = node(node_id);
  const auto* p = param(node_id, name);
  if (!n || !p)
    return fallback;
  const auto* info = node_registry::builtin().find(n->type());
  const int index = info ? info->param_index(name) : -1;
  if (index < 0)
    return fallback;
  return to_number(info->params[index], p->value());
}

std::string param_mirror::first_of_type(const std::string& type) const {
  for (const auto& n : snap_.nodes())
    if (n.type() == type)
      return n.id();
  return {};
}

expected<target> resolve_target(const param_mirror& m, const std::string& text) {
  const auto dot = text.find('.');
  if (text.empty() || dot == std::string::npos || dot == 0 || dot + 1 == text.size())
    return unexpected("target: expected node.param, got \"" + text + "\"");
  target t;
  t.node = text.substr(0, dot);
  t.param = text.substr(dot + 1);
  const auto* n = m.node(t.node);
  if (!n)
    return unexpected("target: no node '" + t.node + "' in the graph");
  const auto* info = node_registry::builtin().find(n->type());
  const int index = info ? info->param_index(t.param) : -1;
  if (index < 0)
    return unexpected("target: node '" + t.node + "' (" + n->type() + ") has no parameter '" +
                      t.param + "'");
  t.info = &info->params[index];
  if (t.info->type == param_type::string || !t.info->live)
    return unexpected("target: '" + text + "' is not a live numeric parameter");
  t.lo = t.info->min;
  t.hi = t.info->max;
  return t;
}

expected<void> check_event_node(const param_mirror& m, const std::string& id) {
  const auto* n = m.node(id);
  if (!n)
    return unexpected("no node '" + id + "' in the graph");
  const auto* info = node_registry::builtin().find(n->type());
  if (!info || !info->accepts_events)
    return unexpected("'" + id + "' (" + n->type() + ") takes no notes or triggers");
  return {};
}

v1::Value target_value(const target& t, double x) {
  x = std::clamp(x, t.lo, t.hi);
  if (t.info->type != param_type::real)
    x = std::round(x);
  return to_value(*t.info, x, {});
}

double fraction_in(const target& t, double value) {
  return t.hi > t.lo ? (value - t.lo) / (t.hi - t.lo) : 0;
}

v1::SetParamRequest set_request(const target& t, double value) {
  v1::SetParamRequest req;
  req.set_node(t.node);
  req.set_param(t.param);
  *req.mutable_value() = target_value(t, value);
  return req;
}

v1::TriggerRequest trigger_request(const std::string& node, v1::TriggerRequest::Kind kind,
                                   uint32_t note, float velocity, int64_t time_ns) {
  v1::TriggerRequest req;
  req.set_node(node);
  req.set_kind(kind);
  req.set_note(note);
  req.set_velocity(velocity);
  req.set_time_ns(time_ns);
  return req;
}

double shape_cc(uint32_t value, int curve, double low, double high) {
  const double x = std::min(value, 127u) / 127.0;
  const double y = curve == 1 ? std::log10(1 + 9 * x) : curve == 2 ? (std::pow(10, x) - 1) / 9 : x;
  return low + (high - low) * y;
}

bool pickup::admit(double in, double now) {
  if (!picked) {
    const bool near = std::fabs(in - now) <= 1.5 / 127;
    const bool crossed = last_in >= 0 && (last_in - now) * (in - now) <= 0;
    last_in = in;
    if (!near && !crossed)
      return false;
    picked = true;
  }
  last_in = in;
  return true;
}

void rate_limited_log::error(const std::string& message) {
  const auto now = std::chrono::steady_clock::now();
  if (now - window_ >= std::chrono::seconds(1)) {
    if (suppressed_ > 0)
      spdlog::warn("{}: {} more errors in the last second not shown", who_, suppressed_);
    window_ = now;
    in_window_ = 0;
    suppressed_ = 0;
  }
  if (in_window_++ < per_second_)
    spdlog::warn("{}: {}", who_, message);
  else
    ++suppressed_;
}

v1::Event node_status(const std::string& node, const std::string& why) {
  v1::Event ev;
  ev.set_node_id(node);
  auto& ns = *ev.mutable_node_status();
  ns.set_node(node);
  ns.set_state(why.empty() ? v1::NodeStatus::STATE_RUNNING : v1::NodeStatus::STATE_FAILED);
  ns.set_message(why);
  return ev;
}

void subscribe(caf::event_based_actor* self, const hub_actor& hub) {
  v1::SubscribeRequest filter;
  filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  filter.add_kinds(v1::EVENT_KIND_SNAPSHOT);
  self->request(hub, std::chrono::seconds(5), caf::subscribe_atom_v,
                caf::actor_cast<caf::actor>(self), std::move(filter))
    .then([](uint64_t) {});
}

} // namespace sg::ctl
