#include "actors/node_actor.hpp"

#include <deque>
#include <optional>
#include <variant>

#include "actors/state/layers.hpp"
#include "graph/params.hpp"
#include "nodes/core/render_plan.hpp"

namespace sg {

namespace {

/// The actor system's clock: steady time, or the simulated time of CAF's test scheduler.
using clock_type = caf::actor_clock;
using reply_promise = caf::typed_response_promise<v1::SetParamReply>;

/// Longest overlay source name (it travels in every overlay event).
constexpr size_t max_source = 128;

/// When an overlay source wrote last and how long it may stay silent before it settles.
struct overlay_timer {
  int param = 0;
  std::string source;
  clock_type::time_point last;
  std::chrono::milliseconds settle{0};
};

struct held_intent {
  std::variant<v1::SetParamRequest, v1::SettleRequest> intent;
  reply_promise rp;
};

struct node_state {
  node_state() = default;  // not an aggregate: CAF must not build it from the self pointer
  const node_info* info = nullptr;
  v1::NodeState node;
  kernel_binding binding;
  hub_actor hub;
  store_actor store;
  node_options options;
  std::vector<overlay_timer> timers;
  /// When the next settle sweep is due (max: none scheduled).
  clock_type::time_point sweep_at = clock_type::time_point::max();
  bool loading = false;
  std::deque<held_intent> held;
  static inline const char* name = "node";
};

using self_ptr = node_actor::stateful_pointer<node_state>;

/// Now on the clock the settle sweep's delayed message runs on, so both agree.
clock_type::time_point now(self_ptr self) {
  return self->system().clock().now();
}

v1::SetParamReply accepted(const v1::ParamChanged& applied) {
  v1::SetParamReply reply;
  reply.mutable_status()->set_code(code_ok);
  *reply.mutable_applied() = applied;
  return reply;
}

std::string where(const node_state& st, const std::string& param) {
  return "node '" + st.node.id() + "' (" + st.info->type + ") parameter '" + param + "'";
}

// -- effects of an applied change -------------------------------------------------------------

void push_kernel(self_ptr self, int index) {
  auto& st = self->state;
  const auto& p = st.info->params[index];
  if (!st.binding.device || p.type == param_type::string)
    return;
  v1::KernelParam kp;
  kp.set_slot(st.binding.slot);
  kp.set_index(static_cast<uint32_t>(index));
  kp.set_value(to_number(p, st.node.params(index).value()));
  self->send(st.binding.device, std::move(kp));
}

/// Applies `change` to the layers of parameter `index`, bumps node_rev, feeds the kernel and
/// the store, and broadcasts it. Returns what was broadcast.
v1::ParamChanged commit_change(self_ptr self, int index, v1::ParamChanged change) {
  auto& st = self->state;
  auto& ps = *st.node.mutable_params(index);
  const v1::Value before = ps.value();
  change.set_node(st.node.id());
  change.set_param(ps.name());
  change.clear_effective();
  apply_change(ps, change);
  st.node.set_node_rev(st.node.node_rev() + 1);
  change.set_node_rev(st.node.node_rev());
  *change.mutable_effective() = ps.value();
  if (before.SerializeAsString() != ps.value().SerializeAsString())
    push_kernel(self, index);
  if (change.layer() == v1::LAYER_COMMITTED && change.persist() && !change.cleared() &&
      st.store) {
    v1::PersistParam pp;
    pp.set_node(st.node.id());
    pp.set_type(st.node.type());
    pp.set_param(ps.name());
    *pp.mutable_value() = change.value();
    pp.set_node_rev(change.node_rev());
    self->send(st.store, std::move(pp));
  }
  v1::Event ev;
  ev.set_node_id(st.node.id());
  *ev.mutable_param_changed() = change;
  self->send(st.hub, std::move(ev));
  return change;
}

/// Makes sure a sweep runs when the soonest overlay is due to settle.
void schedule_sweep(self_ptr self) {
  auto& st = self->state;
  if (st.timers.empty())
    return;
  auto soonest = clock_type::time_point::max();
  for (const auto& t : st.timers)
    soonest = std::min(soonest, t.last + t.settle);
  if (soonest >= st.sweep_at)
    return;
  st.sweep_at = soonest;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - now(self));
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds(0)) +
                             std::chrono::milliseconds(1),
                     caf::tick_atom_v);
}

void forget_timer(node_state& st, int index, const std::string& source) {
  std::erase_if(st.timers,
                [&](const overlay_timer& t) { return t.param == index && t.source == source; });
}

/// The overlay of `source` on parameter `index` becomes a session-only committed value: two
/// changes, the overlay cleared, then the committed value set. Returns the second. With
/// `discard` only the first: the value returns to committed ?? base.
v1::ParamChanged settle_overlay(self_ptr self, int index, const std::string& source,
                                const v1::Origin& origin, bool discard = false) {
  auto& st = self->state;
  const v1::OverlayValue* ov = find_overlay(st.node.params(index), source);
  v1::Value value = ov->value();
  forget_timer(st, index, source);
  v1::ParamChanged clear;
  clear.set_layer(v1::LAYER_OVERLAY);
  clear.set_source(source);
  clear.set_cleared(true);
  clear.set_reason(v1::CHANGE_REASON_SETTLE);
  *clear.mutable_origin() = origin;
  auto cleared = commit_change(self, index, std::move(clear));
  if (discard)
    return cleared;
  v1::ParamChanged commit;
  commit.set_layer(v1::LAYER_COMMITTED);
  *commit.mutable_value() = std::move(value);
  commit.set_source(source);
  commit.set_reason(v1::CHANGE_REASON_SETTLE);
  *commit.mutable_origin() = origin;
  return commit_change(self, index, std::move(commit));
}

// -- intents ----------------------------------------------------------------------------------

/// Why `req` cannot be applied, or nullopt when it can; checks without changing anything.
std::optional<v1::SetParamReply> check_set(const node_state& st, const v1::SetParamRequest& req) {
  const int index = st.info->param_index(req.param());
  if (index < 0)
    return status_reply<v1::SetParamReply>(code_invalid_argument, "param",
                                           "param: node '" + st.node.id() + "' (" + st.info->type +
                                             ") has no parameter '" + req.param() + "'");
  const auto& p = st.info->params[index];
  if (req.value().kind_case() == v1::Value::KIND_NOT_SET)
    return status_reply<v1::SetParamReply>(code_invalid_argument, "value", "value: no value given");
  if (auto accepted = check_value(p, req.value()); !accepted)
    return status_reply<v1::SetParamReply>(code_invalid_argument, "value",
                                           "value: " + req.param() + ": " + accepted.error());
  if (!p.live)
    return status_reply<v1::SetParamReply>(code_failed_precondition, "param",
                                           "param: '" + p.name +
                                             "' is structural; change it in the graph file");
  const bool overlay = !req.overlay_source().empty();
  if (overlay && req.overlay_source().size() > max_source)
    return status_reply<v1::SetParamReply>(code_invalid_argument, "overlay_source",
                                           "overlay_source: longer than " +
                                             std::to_string(max_source) + " characters");
  if (overlay && req.persist())
    return status_reply<v1::SetParamReply>(
      code_invalid_argument, "persist",
      "persist: overlays are never persisted; commit the value instead");
  if (req.persist() && !st.store)
    return status_reply<v1::SetParamReply>(
      code_failed_precondition, "persist",
      "persist: persistence is disabled for this graph (--state none)");
  return std::nullopt;
}

v1::SetParamReply apply_set(self_ptr self, const v1::SetParamRequest& req) {
  auto& st = self->state;
  if (auto refused = check_set(st, req))
    return std::move(*refused);
  const int index = st.info->param_index(req.param());
  const auto& p = st.info->params[index];
  const bool overlay = !req.overlay_source().empty();
  v1::ParamChanged change;
  // Normalise (an int sent for a double parameter is stored as a double).
  *change.mutable_value() = to_value(p, to_number(p, req.value()), req.value().string_value());
  *change.mutable_origin() = req.origin();
  change.set_reason(v1::CHANGE_REASON_INTENT);
  if (overlay) {
    change.set_layer(v1::LAYER_OVERLAY);
    change.set_source(req.overlay_source());
    forget_timer(st, index, req.overlay_source());
    auto settle = req.settle_ms() > 0 ? std::chrono::milliseconds(req.settle_ms())
                                      : st.options.default_settle;
    st.timers.push_back({index, req.overlay_source(), now(self), settle});
  } else {
    change.set_layer(v1::LAYER_COMMITTED);
    change.set_persist(req.persist() || p.persist);
  }
  auto applied = commit_change(self, index, std::move(change));
  if (overlay)
    schedule_sweep(self);
  return accepted(applied);
}

v1::SetParamReply apply_settle(self_ptr self, const v1::SettleRequest& req) {
  auto& st = self->state;
  if (req.source().empty())
    return status_reply<v1::SetParamReply>(code_invalid_argument, "source",
                                           "source: the overlay source to settle is empty");
  std::vector<int> targets;
  if (!req.param().empty()) {
    const int index = st.info->param_index(req.param());
    if (index < 0)
      return status_reply<v1::SetParamReply>(code_invalid_argument, "param",
                                             "param: node '" + st.node.id() + "' (" +
                                               st.info->type + ") has no parameter '" +
                                               req.param() + "'");
    if (!find_overlay(st.node.params(index), req.source()))
      return status_reply<v1::SetParamReply>(code_not_found, "source",
                                             "source: " + where(st, req.param()) +
                                               " has no overlay from '" + req.source() + "'");
    targets.push_back(index);
  } else {
    for (int i = 0; i < st.node.params_size(); ++i)
      if (find_overlay(st.node.params(i), req.source()))
        targets.push_back(i);
    if (targets.empty())
      return status_reply<v1::SetParamReply>(code_not_found, "source",
                                             "source: node '" + st.node.id() +
                                               "' has no overlay from '" + req.source() + "'");
  }
  v1::ParamChanged last;
  for (int index : targets)
    last = settle_overlay(self, index, req.source(), req.origin(), req.discard());
  return accepted(last);
}

/// Several parameters at once: every entry is checked before any is applied, then all are
/// applied in this one message (consecutive node revisions, nothing in between). Refused
/// while loading instead of held: a batch is not split across a load.
v1::SetParamsReply apply_set_params(self_ptr self, const v1::SetParamsRequest& req) {
  auto& st = self->state;
  if (st.loading)
    return status_reply<v1::SetParamsReply>(
      code_unavailable, "node",
      "node: '" + st.node.id() + "' is loading (graph apply or preset); retry shortly");
  if (req.params().empty())
    return status_reply<v1::SetParamsReply>(code_invalid_argument, "params",
                                            "params: no parameters given");
  std::vector<v1::SetParamRequest> intents;
  for (int i = 0; i < req.params_size(); ++i) {
    const std::string at = "params[" + std::to_string(i) + "]";
    v1::SetParamRequest one;
    one.set_node(req.node());
    one.set_param(req.params(i).param());
    *one.mutable_value() = req.params(i).value();
    *one.mutable_origin() = req.origin();
    one.set_persist(req.persist());
    one.set_overlay_source(req.overlay_source());
    one.set_settle_ms(req.settle_ms());
    for (const auto& earlier : intents)
      if (earlier.param() == one.param())
        return status_reply<v1::SetParamsReply>(code_invalid_argument, at + ".param",
                                                at + ".param: '" + one.param() +
                                                  "' is given twice");
    if (auto refused = check_set(st, one)) {
      const auto& status = refused->status();
      return status_reply<v1::SetParamsReply>(static_cast<status_code>(status.code()),
                                              at + "." + status.field(),
                                              at + "." + status.message());
    }
    intents.push_back(std::move(one));
  }
  v1::SetParamsReply reply;
  reply.mutable_status()->set_code(code_ok);
  for (const auto& one : intents)
    *reply.add_applied() = apply_set(self, one).applied();
  return reply;
}

/// Switches the kernel's bypass; the same state again is a no-op reported as applied.
v1::BypassReply apply_bypass(self_ptr self, const v1::BypassRequest& req) {
  auto& st = self->state;
  if (st.loading)
    return status_reply<v1::BypassReply>(code_unavailable, "node",
                                         "node: '" + st.node.id() +
                                           "' is loading (graph apply or preset); retry shortly");
  if (!st.binding.device)
    return status_reply<v1::BypassReply>(code_failed_precondition, "node",
                                         "node: '" + st.node.id() + "' (" + st.info->type +
                                           ") has no running kernel to bypass");
  v1::BypassReply reply;
  reply.mutable_status()->set_code(code_ok);
  auto& applied = *reply.mutable_applied();
  applied.set_node(st.node.id());
  applied.set_bypassed(req.bypass());
  *applied.mutable_origin() = req.origin();
  if (st.node.bypassed() == req.bypass()) {
    applied.set_node_rev(st.node.node_rev());
    return reply;
  }
  st.node.set_bypassed(req.bypass());
  st.node.set_node_rev(st.node.node_rev() + 1);
  applied.set_node_rev(st.node.node_rev());
  v1::KernelParam kp;
  kp.set_slot(st.binding.slot);
  kp.set_index(bypass_param_index);
  kp.set_value(req.bypass() ? 1 : 0);
  self->send(st.binding.device, std::move(kp));
  v1::Event ev;
  ev.set_node_id(st.node.id());
  *ev.mutable_bypassed() = applied;
  self->send(st.hub, std::move(ev));
  return reply;
}

void settle_expired(self_ptr self);

/// Applies an intent now, or holds it while the node is loading (bounded).
template <class Request, class Apply>
reply_promise take_intent(self_ptr self, const Request& req, Apply apply) {
  auto& st = self->state;
  auto rp = self->template make_response_promise<v1::SetParamReply>();
  if (!st.loading) {
    rp.deliver(apply(self, req));
  } else if (st.held.size() >= st.options.max_queued) {
    rp.deliver(status_reply<v1::SetParamReply>(
      code_unavailable, "node",
      "node: '" + st.node.id() + "' is loading (graph apply or preset) and " +
        std::to_string(st.options.max_queued) + " intents are already waiting; retry shortly"));
  } else {
    st.held.push_back({req, rp});
  }
  return rp;
}

void release_held(self_ptr self) {
  auto& st = self->state;
  st.loading = false;
  while (!st.held.empty() && !st.loading) {
    auto h = std::move(st.held.front());
    st.held.pop_front();
    if (auto* set = std::get_if<v1::SetParamRequest>(&h.intent))
      h.rp.deliver(apply_set(self, *set));
    else
      h.rp.deliver(apply_settle(self, std::get<v1::SettleRequest>(h.intent)));
  }
  settle_expired(self);
}

// -- notes and triggers -----------------------------------------------------------------------

v1::TriggerReply trigger(self_ptr self, const v1::TriggerRequest& req) {
  auto& st = self->state;
  v1::TriggerReply reply;
  if (!st.info->accepts_events) {
    *reply.mutable_status() = make_status(
      code_failed_precondition,
      "node: '" + st.node.id() + "' (" + st.info->type + ") takes no notes or triggers", "node");
    return reply;
  }
  if (req.kind() == v1::TriggerRequest::KIND_UNSPECIFIED ||
      !v1::TriggerRequest::Kind_IsValid(req.kind())) {
    *reply.mutable_status() = make_status(code_invalid_argument, "kind: not set", "kind");
    return reply;
  }
  if (req.note() > 127) {
    *reply.mutable_status() = make_status(code_invalid_argument, "note: expected 0..127", "note");
    return reply;
  }
  if (!(req.velocity() >= 0 && req.velocity() <= 1)) {
    *reply.mutable_status() =
      make_status(code_invalid_argument, "velocity: expected 0..1", "velocity");
    return reply;
  }
  if (!st.binding.device) {
    *reply.mutable_status() = make_status(code_unavailable,
                                          "node: '" + st.node.id() + "' is not running", "node");
    return reply;
  }
  v1::KernelEvent ke;
  ke.set_slot(st.binding.slot);
  ke.set_kind(static_cast<uint32_t>(req.kind()));
  ke.set_note(req.note());
  ke.set_velocity(req.velocity());
  ke.set_delay_ms(req.delay_ms());
  ke.set_frame(req.at_frame());
  ke.set_time_ns(req.time_ns());
  self->send(st.binding.device, std::move(ke));
  reply.mutable_status()->set_code(code_ok);
  return reply;
}

// -- loads ------------------------------------------------------------------------------------

uint32_t apply_preset(self_ptr self, const v1::PresetNode& preset,
                      const v1::LoadPresetRequest& req) {
  auto& st = self->state;
  uint32_t applied = 0;
  for (const auto& pp : preset.params()) {
    const int index = st.info->param_index(pp.name());
    if (index < 0)
      continue;
    const auto& p = st.info->params[index];
    if (!p.live || !check_value(p, pp.value()))
      continue;
    // The preset owns this parameter now: its overlays go, then its committed value is set.
    std::vector<std::string> sources;
    for (const auto& ov : st.node.params(index).overlays())
      sources.push_back(ov.source());
    for (const auto& source : sources) {
      forget_timer(st, index, source);
      v1::ParamChanged clear;
      clear.set_layer(v1::LAYER_OVERLAY);
      clear.set_source(source);
      clear.set_cleared(true);
      clear.set_reason(v1::CHANGE_REASON_PRESET);
      *clear.mutable_origin() = req.origin();
      commit_change(self, index, std::move(clear));
    }
    v1::ParamChanged set;
    set.set_layer(v1::LAYER_COMMITTED);
    *set.mutable_value() = to_value(p, to_number(p, pp.value()), pp.value().string_value());
    set.set_persist((req.persist() || p.persist) && st.store);
    set.set_reason(v1::CHANGE_REASON_PRESET);
    *set.mutable_origin() = req.origin();
    commit_change(self, index, std::move(set));
    ++applied;
  }
  return applied;
}

/// A graph apply kept this node: new layers (built by the host from the state this node gave
/// at begin_load) and a new kernel binding.
void rebind(self_ptr self, caf::actor device, uint32_t slot, v1::NodeState next) {
  auto& st = self->state;
  st.info = node_registry::builtin().find(next.type());
  st.binding.device = caf::actor_cast<device_actor>(device);
  st.binding.slot = slot;
  std::erase_if(st.timers, [&](const overlay_timer& t) {
    return t.param >= next.params_size() || !find_overlay(next.params(t.param), t.source);
  });
  // Bypass is session state of the node, not of a graph file: it survives the apply.
  const bool bypassed = st.node.bypassed();
  st.node = std::move(next);
  st.node.set_bypassed(bypassed);
  for (int i = 0; i < st.node.params_size(); ++i)
    push_kernel(self, i);
  if (bypassed && st.binding.device) {
    v1::KernelParam kp;
    kp.set_slot(st.binding.slot);
    kp.set_index(bypass_param_index);
    kp.set_value(1);
    self->send(st.binding.device, std::move(kp));
  }
  schedule_sweep(self);
}

void settle_expired(self_ptr self) {
  auto& st = self->state;
  const auto at = now(self);
  if (at >= st.sweep_at)
    st.sweep_at = clock_type::time_point::max();
  if (st.loading)
    return;  // a load is building on the current layers; end_load sweeps again
  std::vector<overlay_timer> due;
  for (const auto& t : st.timers)
    if (t.last + t.settle <= at)
      due.push_back(t);
  for (const auto& t : due)
    settle_overlay(self, t.param, t.source, v1::Origin{});
  schedule_sweep(self);
}

} // namespace

v1::NodeState initial_node_state(const node_info& info, const v1::NodeSpec& spec) {
  v1::NodeState st;
  st.set_id(spec.id());
  st.set_type(spec.type());
  st.set_device(spec.device());
  st.set_state(v1::NodeStatus::STATE_RUNNING);
  const auto values = to_param_values(info, spec);
  for (size_t i = 0; i < info.params.size(); ++i) {
    auto* p = st.add_params();
    p->set_name(info.params[i].name);
    *p->mutable_base() = to_value(info.params[i], values.numbers[i], values.strings[i]);
    *p->mutable_value() = p->base();
  }
  return st;
}

node_actor spawn_node(caf::actor_system& sys, const node_info& info, v1::NodeState state,
                      kernel_binding binding, hub_actor hub, store_actor store,
                      node_options options) {
  auto fn = [](self_ptr self, const node_info* info, v1::NodeState node, kernel_binding binding,
               hub_actor hub, store_actor store,
               node_options options) -> node_actor::behavior_type {
    auto& st = self->state;
    st.info = info;
    st.node = std::move(node);
    st.binding = std::move(binding);
    st.hub = std::move(hub);
    st.store = std::move(store);
    st.options = options;
    // Overlays inherited from a previous life settle like fresh ones.
    for (int i = 0; i < st.node.params_size(); ++i)
      for (const auto& ov : st.node.params(i).overlays())
        st.timers.push_back({i, ov.source(), now(self), options.default_settle});
    schedule_sweep(self);
    // Removed by a graph apply: held intents learn why instead of a broken promise.
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      for (auto& h : self->state.held)
        h.rp.deliver(status_reply<v1::SetParamReply>(code_not_found, "node",
                                                     "node: '" + self->state.node.id() +
                                                       "' was removed by a graph apply"));
      self->state.held.clear();
      self->quit(msg.reason);
    });
    return {
      [self](const v1::SetParamRequest& req) { return take_intent(self, req, apply_set); },
      [self](const v1::SettleRequest& req) { return take_intent(self, req, apply_settle); },
      [self](const v1::TriggerRequest& req) { return trigger(self, req); },
      [self](const v1::SetParamsRequest& req) { return apply_set_params(self, req); },
      [self](const v1::BypassRequest& req) { return apply_bypass(self, req); },
      [self](const v1::GetNodeRequest&) {
        v1::GetNodeReply reply;
        reply.mutable_status()->set_code(code_ok);
        *reply.mutable_node() = self->state.node;
        *reply.mutable_type_info() = to_descriptor(*self->state.info);
        return reply;
      },
      [self](sg::begin_load_atom) {
        self->state.loading = true;
        return self->state.node;
      },
      [self](sg::end_load_atom) { release_held(self); },
      [self](const v1::PresetNode& preset, const v1::LoadPresetRequest& req) {
        return apply_preset(self, preset, req);
      },
      [self](sg::rebind_atom, caf::actor device, uint32_t slot, v1::NodeState next) {
        rebind(self, std::move(device), slot, std::move(next));
      },
      [self](caf::tick_atom) { settle_expired(self); },
    };
  };
  return sys.spawn(fn, &info, std::move(state), std::move(binding), std::move(hub),
                   std::move(store), options);
}

} // namespace sg
