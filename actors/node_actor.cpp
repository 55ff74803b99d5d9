#include "actors/node_actor.hpp"

#include "graph/params.hpp"

namespace sg {

namespace {

struct node_state {
  const node_info* info = nullptr;
  v1::NodeState node;
  kernel_binding binding;
  hub_actor hub;
  static inline const char* name = "node";
};

v1::SetParamReply reject(status_code code, std::string message, std::string field) {
  v1::SetParamReply reply;
  *reply.mutable_status() = make_status(code, std::move(message), std::move(field));
  return reply;
}

// Validates and applies one intent; the caller broadcasts what was applied.
v1::SetParamReply apply_intent(node_state& st, const v1::SetParamRequest& req) {
  const int index = st.info->param_index(req.param());
  if (index < 0)
    return reject(code_invalid_argument,
                  "param: node '" + st.node.id() + "' (" + st.info->type +
                    ") has no parameter '" + req.param() + "'",
                  "param");
  const auto& p = st.info->params[index];
  if (req.value().kind_case() == v1::Value::KIND_NOT_SET)
    return reject(code_invalid_argument, "value: no value given", "value");
  if (auto why = check_value(p, req.value()))
    return reject(code_invalid_argument, "value: " + req.param() + ": " + *why, "value");
  if (!p.live)
    return reject(code_failed_precondition,
                  "param: '" + p.name + "' is structural; change it in the graph file", "param");
  // Normalise (an int sent for a double parameter is stored as a double).
  const double number = to_number(p, req.value());
  v1::Value value = to_value(p, number, req.value().string_value());
  for (auto& ps : *st.node.mutable_params())
    if (ps.name() == p.name)
      *ps.mutable_value() = value;
  st.node.set_node_rev(st.node.node_rev() + 1);
  v1::SetParamReply reply;
  reply.mutable_status()->set_code(code_ok);
  auto* applied = reply.mutable_applied();
  applied->set_node(st.node.id());
  applied->set_param(p.name);
  *applied->mutable_value() = std::move(value);
  applied->set_node_rev(st.node.node_rev());
  *applied->mutable_origin() = req.origin();
  return reply;
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
    *p->mutable_value() = to_value(info.params[i], values.numbers[i], values.strings[i]);
  }
  return st;
}

node_actor spawn_node(caf::actor_system& sys, const node_info& info, v1::NodeState state,
                      kernel_binding binding, hub_actor hub) {
  using self_ptr = node_actor::stateful_pointer<node_state>;
  auto fn = [](self_ptr self, const node_info* info, v1::NodeState node, kernel_binding binding,
               hub_actor hub) -> node_actor::behavior_type {
    self->state.info = info;
    self->state.node = std::move(node);
    self->state.binding = std::move(binding);
    self->state.hub = std::move(hub);
    return {
      [self](const v1::SetParamRequest& req) {
        auto& st = self->state;
        auto reply = apply_intent(st, req);
        if (reply.status().code() != code_ok)
          return reply;
        const auto& applied = reply.applied();
        const auto& p = st.info->params[st.info->param_index(applied.param())];
        if (st.binding.device && p.type != param_type::string) {
          v1::KernelParam kp;
          kp.set_slot(st.binding.slot);
          kp.set_index(static_cast<uint32_t>(st.info->param_index(applied.param())));
          kp.set_value(to_number(p, applied.value()));
          self->send(st.binding.device, std::move(kp));
        }
        v1::Event ev;
        ev.set_node_id(st.node.id());
        *ev.mutable_param_changed() = applied;
        self->send(st.hub, std::move(ev));
        return reply;
      },
      [self](const v1::GetNodeRequest&) {
        v1::GetNodeReply reply;
        reply.mutable_status()->set_code(code_ok);
        *reply.mutable_node() = self->state.node;
        *reply.mutable_type_info() = to_descriptor(*self->state.info);
        return reply;
      },
    };
  };
  return sys.spawn(fn, &info, std::move(state), std::move(binding), std::move(hub));
}

} // namespace sg
