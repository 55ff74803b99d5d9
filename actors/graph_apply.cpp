#include "actors/graph_apply.hpp"

#include <set>

#include <google/protobuf/util/message_differencer.h>

#include "actors/node_actor.hpp"
#include "actors/state/layers.hpp"
#include "graph/params.hpp"
#include "nodes/core/node_info.hpp"

namespace sg {

namespace {

const node_info& info_of(const std::string& type) {
  return *node_registry::builtin().find(type);
}

bool same_value(const v1::Value& a, const v1::Value& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

/// Base values: the graph file's, then the store's where the parameter still exists and the
/// stored value is acceptable.
v1::NodeState base_state(const v1::NodeSpec& spec,
                         const std::vector<const v1::StoredParam*>& stored, uint32_t& restored) {
  const auto& info = info_of(spec.type());
  auto state = initial_node_state(info, spec);
  for (const auto* stored_param : stored) {
    const auto& sp = *stored_param;
    const int index = info.param_index(sp.param());
    if (index < 0 || !info.params[index].live || !check_value(info.params[index], sp.value()))
      continue;
    auto* ps = state.mutable_params(index);
    *ps->mutable_base() = sp.value();
    refresh_effective(*ps);
    ++restored;
  }
  return state;
}

/// Carries the committed and overlay layers of a kept node into its new state: all of them
/// when the type is unchanged, those whose parameter still exists and accepts the value when
/// it was retyped. Returns the parameters whose layers were dropped.
std::vector<std::string> carry_layers(const v1::NodeState& before, v1::NodeState& after) {
  std::vector<std::string> dropped;
  const auto& info = info_of(after.type());
  for (const auto& old : before.params()) {
    const int index = info.param_index(old.name());
    const bool maps = index >= 0 && info.params[index].live;
    auto* ps = maps ? after.mutable_params(index) : nullptr;
    bool lost = false;
    if (old.has_committed()) {
      if (ps && check_value(info.params[index], old.committed())) {
        *ps->mutable_committed() = old.committed();
        ps->set_persisted(old.persisted());
      } else {
        lost = true;
      }
    }
    for (const auto& ov : old.overlays()) {
      if (ps && check_value(info.params[index], ov.value()))
        *ps->add_overlays() = ov;
      else
        lost = true;
    }
    if (ps)
      refresh_effective(*ps);
    if (lost || !maps)
      dropped.push_back(old.name());
  }
  return dropped;
}

/// Field by field: serialised bytes would differ for equal `options` maps (map order).
bool same_device(const v1::DeviceSpec& a, const v1::DeviceSpec& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

} // namespace

bool same_devices(const v1::GraphSpec& a, const v1::GraphSpec& b) {
  if (a.devices_size() != b.devices_size())
    return false;
  for (int i = 0; i < a.devices_size(); ++i)
    if (!same_device(a.devices(i), b.devices(i)))
      return false;
  return true;
}

bool same_audio_structure(const v1::GraphSpec& a, const v1::GraphSpec& b) {
  if (!same_devices(a, b) || a.edges_size() != b.edges_size() || a.nodes_size() != b.nodes_size())
    return false;
  for (int i = 0; i < a.edges_size(); ++i)
    if (a.edges(i).SerializeAsString() != b.edges(i).SerializeAsString())
      return false;
  for (int i = 0; i < a.nodes_size(); ++i) {
    const auto &x = a.nodes(i), &y = b.nodes(i);
    if (x.id() != y.id() || x.type() != y.type() || x.device() != y.device())
      return false;
    const auto& info = info_of(x.type());
    for (const auto& p : info.params) {
      if (p.live)
        continue;
      auto vx = x.params().find(p.name), vy = y.params().find(p.name);
      const bool hx = vx != x.params().end(), hy = vy != y.params().end();
      if (hx != hy || (hx && !same_value(vx->second, vy->second)))
        return false;
    }
  }
  return true;
}

apply_plan make_plan(const v1::GraphSpec& running, bool devices_open, v1::GraphSpec graph,
                     const v1::StoredState& stored, std::map<std::string, v1::NodeState> before) {
  apply_plan plan;
  plan.rebuild_devices = !devices_open || !same_audio_structure(running, graph);
  std::set<std::string> next_ids;
  // The store's rows grouped by node once, so restoring is linear in the rows.
  std::map<std::string, std::vector<const v1::StoredParam*>> stored_by_node;
  for (const auto& sp : stored.params())
    stored_by_node[sp.node()].push_back(&sp);
  static const std::vector<const v1::StoredParam*> none;
  for (const auto& spec : graph.nodes()) {
    next_ids.insert(spec.id());
    auto rows = stored_by_node.find(spec.id());
    auto state = base_state(spec, rows == stored_by_node.end() ? none : rows->second,
                            plan.restored);
    auto old = before.find(spec.id());
    if (old == before.end()) {
      plan.added.push_back(spec.id());
      plan.states[spec.id()] = std::move(state);
      continue;
    }
    plan.kept.push_back(spec.id());
    const bool retyped = old->second.type() != spec.type();
    auto dropped = carry_layers(old->second, state);
    bool base_changed = retyped;
    for (int i = 0; !retyped && i < state.params_size(); ++i)
      base_changed |= !same_value(state.params(i).base(), old->second.params(i).base());
    if (retyped) {
      plan.retyped.push_back(spec.id());
      if (!dropped.empty()) {
        v1::PersistClear clear;
        clear.set_node(spec.id());
        for (auto& d : dropped)
          clear.add_params(d);
        plan.clears.push_back(std::move(clear));
      }
    } else if (base_changed) {
      plan.changed.push_back(spec.id());
    }
    state.set_node_rev(old->second.node_rev() + (base_changed ? 1 : 0));
    plan.states[spec.id()] = std::move(state);
  }
  for (const auto& [id, state] : before)
    if (!next_ids.count(id)) {
      plan.removed.push_back(id);
      v1::PersistClear clear;
      clear.set_node(id);
      plan.clears.push_back(std::move(clear));
    }
  plan.graph = std::move(graph);
  plan.before = std::move(before);
  return plan;
}

v1::GraphSpec effective_graph(const apply_plan& plan) {
  v1::GraphSpec spec = plan.graph;
  for (auto& n : *spec.mutable_nodes()) {
    const auto& state = plan.states.at(n.id());
    for (const auto& ps : state.params())
      (*n.mutable_params())[ps.name()] = ps.value();
  }
  return spec;
}

} // namespace sg
