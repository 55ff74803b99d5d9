/// The nodes: list them and their types, bypass one, send one a trigger or a note.

#include <algorithm>
#include <iostream>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "graph/params.hpp"

namespace sg::sgctl {

int cmd_nodes(const global_options& g) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::ListNodesReply reply;
  if (auto s = stub->ListNodes(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  table rows{{"ID", "TYPE", "DEVICE", "REV", "STATE"}};
  for (const auto& n : reply.nodes())
    rows.push_back({n.id(), n.type(), or_dash(n.device()), std::to_string(n.node_rev()),
                    lower_state(v1::NodeStatus_State_Name(n.state()))});
  print_table(rows);
  return exit_ok;
}

int cmd_types(const global_options& g) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::ListNodeTypesReply reply;
  if (auto s = stub->ListNodeTypes(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  bool first = true;
  for (const auto& t : reply.types()) {
    std::cout << (first ? "" : "\n") << t.type() << " — " << t.summary() << '\n';
    first = false;
    if (t.params().empty())
      continue;
    table rows{{"  PARAM", "TYPE", "RANGE", "DEFAULT", "UNIT"}};
    for (const auto& p : t.params())
      rows.push_back({"  " + p.name(), type_text(p.type()), range_text(p),
                      or_dash(sg::to_text(p.default_value())), or_dash(p.unit())});
    print_table(rows);
  }
  return exit_ok;
}

int cmd_bypass(const global_options& g, const std::string& node, const std::string& state) {
  bool on = true;
  if (state == "off" || state == "false")
    on = false;
  else if (state != "on" && state != "true") {
    std::cerr << "sgctl: bypass: expected on or off, got '" << state << "'\n";
    return exit_usage;
  }
  v1::BypassRequest req;
  req.set_node(node);
  req.set_bypass(on);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  v1::BypassReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->Bypass(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << node << ": bypass " << (reply.applied().bypassed() ? "on" : "off")
              << " node_rev=" << reply.applied().node_rev() << '\n';
  return exit_ok;
}

int cmd_trigger(const global_options& g, const std::string& node, const trigger_args& t) {
  v1::TriggerRequest req;
  req.set_node(node);
  std::string kind = t.kind;
  std::transform(kind.begin(), kind.end(), kind.begin(), ::toupper);
  v1::TriggerRequest::Kind k{};
  if (!v1::TriggerRequest::Kind_Parse("KIND_" + kind, &k) ||
      k == v1::TriggerRequest::KIND_UNSPECIFIED) {
    std::cerr << "sgctl: trigger: unknown kind '" << t.kind
              << "' (trigger, note_on, note_off, stop)\n";
    return exit_usage;
  }
  req.set_kind(k);
  req.set_note(t.note);
  req.set_velocity(t.velocity);
  req.set_delay_ms(t.delay_ms);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  v1::TriggerReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->Trigger(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << node << ": " << t.kind
              << (k == v1::TriggerRequest::KIND_NOTE_ON || k == v1::TriggerRequest::KIND_NOTE_OFF
                    ? " note=" + std::to_string(t.note)
                    : std::string())
              << '\n';
  return exit_ok;
}

} // namespace sg::sgctl
