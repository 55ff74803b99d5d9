#include "apps/client/state_mirror.hpp"

#include "actors/state/layers.hpp"

namespace sg {

namespace {

const v1::ParamState* find_param(const v1::NodeState& node, const std::string& name) {
  for (const auto& p : node.params())
    if (p.name() == name)
      return &p;
  return nullptr;
}

v1::ParamState& param_of(v1::NodeState& node, const std::string& name) {
  for (auto& p : *node.mutable_params())
    if (p.name() == name)
      return p;
  auto* p = node.add_params();
  p->set_name(name);
  return *p;
}

void erase_param(v1::NodeState& node, const std::string& name) {
  auto* params = node.mutable_params();
  for (int i = 0; i < params->size(); ++i)
    if (params->Get(i).name() == name) {
      params->DeleteSubrange(i, 1);
      return;
    }
}

/// A change the authority would broadcast for one of our intents (no effective: the view
/// composes it from the layers).
v1::ParamChanged predicted(v1::Layer layer, const std::string& source, const v1::Value* value,
                           bool persist = false) {
  v1::ParamChanged c;
  c.set_layer(layer);
  c.set_source(source);
  if (value)
    *c.mutable_value() = *value;
  c.set_cleared(!value);
  c.set_persist(persist);
  return c;
}

void update_device(v1::Snapshot& snap, const v1::DeviceStatus& d) {
  for (auto& known : *snap.mutable_devices())
    if (known.device() == d.device()) {
      known = d;
      return;
    }
  *snap.add_devices() = d;
}

} // namespace

state_mirror::state_mirror(std::string client_id) : client_id_(std::move(client_id)) {}

bool state_mirror::apply(const v1::Event& ev) {
  switch (ev.body_case()) {
    case v1::Event::kSnapshot: apply_snapshot(ev.snapshot()); return true;
    case v1::Event::kParamChanged: return apply_param_changed(ev.param_changed());
    case v1::Event::kNodeStatus: {
      const int i = node_index(ev.node_status().node());
      if (i < 0)
        return false;
      authority_.mutable_nodes(i)->set_state(ev.node_status().state());
      view_.mutable_nodes(i)->set_state(ev.node_status().state());
      return true;
    }
    case v1::Event::kDeviceStatus:
      update_device(authority_, ev.device_status());
      update_device(view_, ev.device_status());
      return true;
    case v1::Event::kGraphApplied: {
      const auto& ga = ev.graph_applied();
      for (auto* snap : {&authority_, &view_}) {
        snap->set_graph_name(ga.name());
        snap->set_graph_rev(ga.graph_rev());
      }
      // Added and retyped nodes arrive with the Snapshot the server sends after an apply.
      for (const auto& gone : ga.removed())
        remove_node(gone);
      return true;
    }
    default: return true;
  }
}

void state_mirror::apply_snapshot(const v1::Snapshot& snap) {
  authority_ = snap;
  view_ = snap;
  seeded_ = true;
  index_.clear();
  for (int i = 0; i < snap.nodes_size(); ++i)
    index_[snap.nodes(i).id()] = i;
  // An intent already acknowledged is either in this snapshot or echoed after it. Unanswered
  // ones stay shown until their reply or echo.
  for (auto it = pending_.begin(); it != pending_.end();) {
    std::erase_if(it->second, [](const auto& e) { return e.second.acked_node_rev != 0; });
    it = it->second.empty() || !index_.contains(it->first.first) ? pending_.erase(it)
                                                                 : std::next(it);
  }
  for (const auto& [key, ops] : pending_)
    rebuild(key);
}

bool state_mirror::apply_param_changed(const v1::ParamChanged& pc) {
  const int i = node_index(pc.node());
  if (i < 0)
    return false;
  auto* node = authority_.mutable_nodes(i);
  node->set_node_rev(pc.node_rev());
  apply_change(param_of(*node, pc.param()), pc);
  view_.mutable_nodes(i)->set_node_rev(pc.node_rev());

  const param_key key{pc.node(), pc.param()};
  bool fresh = true;
  const auto rev = pc.origin().client_rev();
  if (!client_id_.empty() && pc.origin().client_id() == client_id_)
    if (auto it = pending_.find(key); it != pending_.end()) {
      auto& ops = it->second;
      fresh = ops.upper_bound(rev) == ops.end();
      // Answered by the echo of its last change (a settle: "overlay cleared" comes first).
      auto own = ops.find(rev);
      if (own != ops.end() && own->second.changes.back().layer() == pc.layer())
        ops.erase(own);
      if (ops.empty())
        pending_.erase(it);
    }
  prune(pc.node());
  rebuild(key);
  return fresh;
}

void state_mirror::remove_node(const std::string& node) {
  const int i = node_index(node);
  if (i < 0)
    return;
  authority_.mutable_nodes()->DeleteSubrange(i, 1);
  view_.mutable_nodes()->DeleteSubrange(i, 1);
  index_.clear();
  for (int j = 0; j < authority_.nodes_size(); ++j)
    index_[authority_.nodes(j).id()] = j;
  std::erase_if(pending_, [&](const auto& e) { return e.first.first == node; });
}

void state_mirror::prune(const std::string& node) {
  const int i = node_index(node);
  const uint64_t rev = i < 0 ? 0 : authority_.nodes(i).node_rev();
  auto it = pending_.lower_bound({node, {}});
  while (it != pending_.end() && it->first.first == node) {
    const auto key = it->first;
    const auto dropped = std::erase_if(it->second, [rev](const auto& e) {
      return e.second.acked_node_rev != 0 && e.second.acked_node_rev <= rev;
    });
    it = it->second.empty() ? pending_.erase(it) : std::next(it);
    if (dropped)
      rebuild(key);
  }
}

void state_mirror::rebuild(const param_key& key) {
  const int i = node_index(key.first);
  if (i < 0)
    return;
  const auto* truth = find_param(authority_.nodes(i), key.second);
  const auto ops = pending_.find(key);
  auto& node = *view_.mutable_nodes(i);
  if (!truth && ops == pending_.end()) {
    erase_param(node, key.second);  // only a refused intent had shown it
    return;
  }
  auto& shown = param_of(node, key.second);
  if (truth) {
    shown = *truth;
  } else {
    shown.Clear();
    shown.set_name(key.second);
  }
  if (ops == pending_.end())
    return;
  for (const auto& [rev, op] : ops->second)
    for (const auto& change : op.changes)
      apply_change(shown, change);
}

void state_mirror::add_pending(const param_key& key, uint64_t rev, pending_op op) {
  latest_rev_[key] = rev;
  pending_[key][rev] = std::move(op);
  rebuild(key);
}

uint64_t state_mirror::note_intent(const std::string& node, const std::string& param,
                                   const v1::Value& value, const set_options& opts) {
  const uint64_t rev = next_rev();
  pending_op op;
  if (opts.overlay_source.empty())
    op.changes.push_back(predicted(v1::LAYER_COMMITTED, {}, &value, opts.persist));
  else
    op.changes.push_back(predicted(v1::LAYER_OVERLAY, opts.overlay_source, &value));
  add_pending({node, param}, rev, std::move(op));
  return rev;
}

uint64_t state_mirror::note_settle(const std::string& node, const std::string& param,
                                   const std::string& source) {
  const uint64_t rev = next_rev();
  const auto* state = this->node(node);
  std::vector<std::pair<std::string, v1::Value>> settling;
  if (state)
    for (const auto& p : state->params())
      if (param.empty() || p.name() == param)
        for (const auto& o : p.overlays())
          if (o.source() == source)
            settling.emplace_back(p.name(), o.value());
  if (!param.empty())
    latest_rev_[{node, param}] = rev;
  for (auto& [name, value] : settling) {
    pending_op op;
    op.changes.push_back(predicted(v1::LAYER_OVERLAY, source, nullptr));
    op.changes.push_back(predicted(v1::LAYER_COMMITTED, source, &value));
    add_pending({node, name}, rev, std::move(op));
  }
  return rev;
}

uint64_t state_mirror::next_rev() {
  return ++last_rev_;
}

void state_mirror::acknowledge(uint64_t rev, uint64_t node_rev) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const auto key = it->first;
    auto op = it->second.find(rev);
    if (op == it->second.end()) {
      ++it;
      continue;
    }
    const int i = node_index(key.first);
    // Without the node (not seeded yet) there is nothing to show and no echo to wait for.
    if (node_rev == 0 || i < 0 || authority_.nodes(i).node_rev() >= node_rev) {
      it->second.erase(op);
      it = it->second.empty() ? pending_.erase(it) : std::next(it);
      rebuild(key);
    } else {
      op->second.acked_node_rev = node_rev;
      ++it;
    }
  }
}

void state_mirror::reject(uint64_t rev) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    const auto key = it->first;
    const bool had = it->second.erase(rev) > 0;
    it = it->second.empty() ? pending_.erase(it) : std::next(it);
    if (had)
      rebuild(key);
  }
}

int state_mirror::node_index(const std::string& node) const {
  auto it = index_.find(node);
  return it == index_.end() ? -1 : it->second;
}

const v1::NodeState* state_mirror::node(const std::string& node) const {
  const int i = node_index(node);
  return i < 0 ? nullptr : &view_.nodes(i);
}

const v1::ParamState* state_mirror::param(const std::string& node,
                                          const std::string& param) const {
  const auto* n = this->node(node);
  return n ? find_param(*n, param) : nullptr;
}

std::optional<v1::Value> state_mirror::effective(const std::string& node,
                                                 const std::string& param) const {
  const auto* p = this->param(node, param);
  if (!p)
    return std::nullopt;
  return p->value();
}

std::optional<uint64_t> state_mirror::node_rev(const std::string& node) const {
  const auto* n = this->node(node);
  if (!n)
    return std::nullopt;
  return n->node_rev();
}

uint64_t state_mirror::latest_own_rev(const std::string& node, const std::string& param) const {
  auto it = latest_rev_.find({node, param});
  return it == latest_rev_.end() ? 0 : it->second;
}

size_t state_mirror::pending() const {
  size_t n = 0;
  for (const auto& [key, ops] : pending_)
    n += ops.size();
  return n;
}

} // namespace sg
