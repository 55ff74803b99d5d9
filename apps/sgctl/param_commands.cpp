/// A node's parameters: show every layer (`get`), write values (`set`), settle overlays
/// (`settle`). Values are parsed here with the parameter's type, as the server will judge them.

#include <iostream>
#include <optional>
#include <tuple>
#include <utility>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "graph/params.hpp"
#include "nodes/core/expected.hpp"

namespace sg::sgctl {
namespace {

/// The engine's view of a parameter descriptor, so values parse exactly as the server judges
/// them (sg::parse_value).
sg::expected<sg::param_info> to_param_info(const v1::ParamDescriptor& d) {
  if (d.type() == v1::PARAM_TYPE_UNSPECIFIED || !v1::ParamType_IsValid(d.type()))
    return sg::unexpected("parameter type unknown to this sgctl");
  sg::param_info p;
  p.name = d.name();
  p.type = static_cast<sg::param_type>(static_cast<int>(d.type()) - 1);
  p.min = d.min();
  p.max = d.max();
  p.unit = d.unit();
  p.choices.assign(d.choices().begin(), d.choices().end());
  return p;
}

/// "NODE.PARAM" split at the last dot, or the usage message of `command` saying it is not that.
sg::expected<std::pair<std::string, std::string>> split_target(const std::string& command,
                                                               const std::string& target) {
  auto dot = target.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == target.size())
    return sg::unexpected(command + ": expected NODE.PARAM, got '" + target + "'");
  return std::pair{target.substr(0, dot), target.substr(dot + 1)};
}

grpc::Status get_node(const global_options& g, const std::string& node, v1::GetNodeReply& reply) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::GetNodeRequest req;
  req.set_node(node);
  return stub->GetNode(make_context(g).get(), req, &reply);
}

/// One row of `get`: the parameter's layers, then its unit and range.
std::vector<std::string> layer_row(const v1::ParamState& p, const v1::ParamDescriptor* desc) {
  auto text = [](const v1::Value& v) { return or_dash(sg::to_text(v)); };
  std::string overlays;
  for (const auto& o : p.overlays())
    overlays += (overlays.empty() ? "" : ", ") + o.source() + "=" + sg::to_text(o.value());
  std::string committed =
    p.has_committed() ? text(p.committed()) + (p.persisted() ? "*" : "") : "-";
  return {p.name(),
          text(p.value()),
          text(p.base()),
          committed,
          or_dash(overlays),
          desc ? or_dash(desc->unit()) : "-",
          desc ? range_text(*desc) : "-"};
}

/// VALUE parsed with the type of `param` of the node in `node` (as the server will judge it),
/// or why not, worded as the server's INVALID_ARGUMENT; `field` prefixes the field names.
sg::expected<v1::Value> parse_param(const v1::GetNodeReply& node, const std::string& param,
                                    const std::string& text, const std::string& field) {
  const v1::ParamDescriptor* desc = nullptr;
  for (const auto& p : node.type_info().params())
    if (p.name() == param)
      desc = &p;
  if (!desc)
    return sg::unexpected(field + "param: node '" + node.node().id() + "' (" + node.node().type() +
                          ") has no parameter '" + param + "'");
  auto info = to_param_info(*desc);
  if (!info)
    return sg::unexpected(field + "value: " + info.error());
  auto value = sg::parse_value(*info, text);
  if (!value)
    return sg::unexpected(field + "value: " + value.error());
  return *value;
}

/// Reports a value refused before it was sent, as the server would have.
int refuse(const std::string& message) {
  return fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message));
}

/// `set NODE P=V [P=V...]`: every value parsed first, then one SetParams (all or none).
int cmd_set_many(const global_options& g, const std::string& node_id,
                 const std::vector<std::string>& assignments, const set_flags& f) {
  for (const auto& a : assignments)
    if (a.find('=') == std::string::npos || a.front() == '=')
      return usage_error("set: expected NODE.PARAM VALUE or NODE PARAM=VALUE..., got '" + a + "'");
  v1::GetNodeReply node;
  if (auto s = get_node(g, node_id, node); !s.ok())
    return fail(s);
  v1::SetParamsRequest req;
  req.set_node(node_id);
  req.set_persist(f.persist);
  req.set_overlay_source(f.overlay);
  req.set_settle_ms(f.settle_ms);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  for (size_t i = 0; i < assignments.size(); ++i) {
    const auto& a = assignments[i];
    const auto eq = a.find('=');
    auto* entry = req.add_params();
    entry->set_param(a.substr(0, eq));
    const std::string field = "params[" + std::to_string(i) + "].";
    auto value = parse_param(node, entry->param(), a.substr(eq + 1), field);
    if (!value)
      return refuse(value.error());
    *entry->mutable_value() = *value;
  }
  v1::SetParamsReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->SetParams(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  for (const auto& a : reply.applied())
    std::cout << change_line(a) << '\n';
  return exit_ok;
}

} // namespace

int cmd_get(const global_options& g, const std::string& node) {
  v1::GetNodeReply reply;
  if (auto s = get_node(g, node, reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& n = reply.node();
  std::cout << n.id() << " (" << n.type() << ") node_rev=" << n.node_rev()
            << " state=" << lower_state(v1::NodeStatus_State_Name(n.state()))
            << (n.device().empty() ? "" : " device=" + n.device()) << '\n';
  table rows{{"PARAM", "EFFECTIVE", "BASE", "COMMITTED", "OVERLAY", "UNIT", "RANGE"}};
  bool persisted = false;
  for (const auto& p : n.params()) {
    const v1::ParamDescriptor* desc = nullptr;
    for (const auto& d : reply.type_info().params())
      if (d.name() == p.name())
        desc = &d;
    rows.push_back(layer_row(p, desc));
    persisted |= p.has_committed() && p.persisted();
  }
  print_table(rows);
  if (persisted)
    std::cout << "* persisted\n";
  return exit_ok;
}

int cmd_set(const global_options& g, const std::string& target,
            const std::vector<std::string>& values, const set_flags& f) {
  if (target.find('.') == std::string::npos)
    return cmd_set_many(g, target, values, f);
  if (values.size() != 1)
    return usage_error("set: NODE.PARAM takes one VALUE; for several use "
                       "'set NODE PARAM=VALUE PARAM=VALUE...'");
  auto np = split_target("set", target);
  if (!np)
    return usage_error(np.error());
  const auto& [node_id, param] = *np;
  v1::GetNodeReply node;
  if (auto s = get_node(g, node_id, node); !s.ok())
    return fail(s);
  auto value = parse_param(node, param, values.front(), "");
  if (!value)
    return refuse(value.error());

  v1::SetParamReply reply;
  const sg::set_options opts{
    .persist = f.persist, .overlay_source = f.overlay, .settle_ms = f.settle_ms};
  if (auto s = make_client(g)->set(node_id, param, *value, opts, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << change_line(reply.applied()) << '\n';
  return exit_ok;
}

int cmd_settle(const global_options& g, const std::string& target, const std::string& source) {
  std::string node = target, param;
  if (target.find('.') != std::string::npos) {
    auto np = split_target("settle", target);
    if (!np)
      return usage_error(np.error());
    std::tie(node, param) = *np;
  }
  v1::SetParamReply reply;
  if (auto s = make_client(g)->settle(node, param, source, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& a = reply.applied();
  if (param.empty())
    std::cout << node << ": settled " << source << " node_rev=" << a.node_rev() << '\n';
  else
    std::cout << a.node() << '.' << a.param() << " = " << value_text(a)
              << " node_rev=" << a.node_rev() << " settled=" << source << '\n';
  return exit_ok;
}

} // namespace sg::sgctl
