#include "actors/state/layers.hpp"

namespace sg {

const v1::Value& effective_value(const v1::ParamState& p) {
  if (p.overlays_size() > 0)
    return p.overlays(p.overlays_size() - 1).value();
  if (p.has_committed())
    return p.committed();
  return p.base();
}

void refresh_effective(v1::ParamState& p) {
  v1::Value v = effective_value(p);
  *p.mutable_value() = std::move(v);
}

namespace {

void remove_overlay(v1::ParamState& p, std::string_view source) {
  auto* list = p.mutable_overlays();
  for (int i = 0; i < list->size(); ++i)
    if (list->Get(i).source() == source) {
      list->erase(list->begin() + i);
      return;
    }
}

} // namespace

const v1::OverlayValue* find_overlay(const v1::ParamState& p, std::string_view source) {
  for (const auto& o : p.overlays())
    if (o.source() == source)
      return &o;
  return nullptr;
}

void apply_change(v1::ParamState& p, const v1::ParamChanged& c) {
  switch (c.layer()) {
    case v1::LAYER_BASE:
      *p.mutable_base() = c.value();
      break;
    case v1::LAYER_COMMITTED:
      if (c.cleared()) {
        p.clear_committed();
        p.set_persisted(false);
      } else {
        *p.mutable_committed() = c.value();
        p.set_persisted(c.persist());
      }
      break;
    case v1::LAYER_OVERLAY:
      // A write moves the source to the end: the most recent writer wins.
      remove_overlay(p, c.source());
      if (!c.cleared()) {
        auto* o = p.add_overlays();
        o->set_source(c.source());
        *o->mutable_value() = c.value();
      }
      break;
    default:
      break;
  }
  if (c.has_effective())
    *p.mutable_value() = c.effective();
  else
    refresh_effective(p);
}

bool apply_change(v1::NodeState& node, const v1::ParamChanged& c) {
  if (c.node_rev() > node.node_rev())
    node.set_node_rev(c.node_rev());
  for (auto& p : *node.mutable_params())
    if (p.name() == c.param()) {
      apply_change(p, c);
      return true;
    }
  return false;
}

} // namespace sg
