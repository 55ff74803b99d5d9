// The loader's nodes: reading `nodes` (pass 1), then each node's id, type and parameters judged
// against the registry's descriptors (pass 2).

#include "graph/load_context.hpp"
#include "graph/params.hpp"

namespace sg::graph_load {

namespace {

const names node_keys = {"id", "type", "params", "device", "host"};

names type_names(const node_registry& reg) {
  names types;
  for (const auto& t : reg.all())
    types.push_back(t.type);
  return types;
}

// ---------------------------------------------------------------------------------------------
// Pass 1

void node_field(context& c, v1::NodeSpec& n, node_source& s, const entry& f,
                const std::string& of) {
  const std::string what = q(f.key) + of;
  if (f.key == "params") {
    if (f.value.IsMap())
      s.params = entries(c, f.value, "in the params" + of, nullptr);
    else if (!f.value.IsNull())
      c.report.error(at(f.value), "expected a mapping of parameter name to value for " + what);
    return;
  }
  s.device_given = s.device_given || f.key == "device";
  const auto v = string_field(c, f, what);
  if (!v)
    return;
  const pos p = at(f.value);
  if (f.key == "id" && !is_identifier(*v)) {
    c.report.error(p, "invalid node id " + q(*v) + ": expected " + identifier_rule);
  } else if (f.key == "id") {
    n.set_id(*v);
    s.id = p;
  } else if (f.key == "type") {
    n.set_type(*v);
    s.type = p;
  } else if (f.key == "device") {
    n.set_device(*v);
    s.device = p;
  } else if (f.key == "host") {
    n.set_host(*v);
    s.host = p;
  }
}

void node(context& c, const YAML::Node& item) {
  v1::NodeSpec n;
  node_source s;
  s.item = s.id = s.type = s.device = s.host = at(item);
  // Messages name the node even when `id` comes after the key they are about.
  const YAML::Node id = item["id"];
  const std::string name = id && id.IsScalar() ? q(id.Scalar()) : "";
  const std::string of = name.empty() ? "" : " of node " + name;
  bool has_id = false, has_type = false;
  for (const auto& f :
       entries(c, item, name.empty() ? "in this node" : "in node " + name, &node_keys)) {
    has_id = has_id || f.key == "id";
    has_type = has_type || f.key == "type";
    node_field(c, n, s, f, of);
  }
  if (!has_id)
    c.report.error(s.item, "node has no 'id': expected 'id: <name>' (" +
                             std::string(identifier_rule) + ")");
  if (!has_type)
    c.report.error(s.item, "node " + (n.id().empty() ? std::string() : q(n.id()) + " ") +
                             "has no 'type': expected one of " + join(type_names(c.reg)));
  *c.spec.add_nodes() = std::move(n);
  c.node_src.push_back(std::move(s));
}

// ---------------------------------------------------------------------------------------------
// Parameter values

/// A parameter value guided by the declared type: string parameters take any scalar's text,
/// enumerations take names; everything else is typed by YAML and judged by check_value.
v1::Value param_value(const param_info& p, const YAML::Node& n) {
  v1::Value v;
  if (p.type == param_type::string && n.IsSequence()) {  // a list: its items joined
    std::string joined;
    for (const auto& item : n)
      joined += (joined.empty() ? "" : p.list_separator) + item.Scalar();
    v.set_string_value(joined);
    return v;
  }
  if (p.type == param_type::string) {
    v.set_string_value(n.Scalar());
    return v;
  }
  v = typed_scalar(n);
  // Enumerations are named by their text, whatever YAML types it as (`bits: 16`).
  if (p.type == param_type::enumeration && n.IsScalar() && v.kind_case() != v1::Value::kBoolValue)
    v.set_enum_value(n.Scalar());
  return v;
}

/// The accepted value in the declared type's own form (440 for a double becomes 440.0), so
/// consumers of the spec never see an int where a double is declared.
v1::Value normalized(const param_info& p, const v1::Value& v) {
  const bool text = v.kind_case() == v1::Value::kStringValue;
  return to_value(p, to_number(p, v), text ? v.string_value() : std::string{});
}

/// What a parameter of `p`'s type looks like, for messages about absent or shapeless values.
std::string expected_form(const param_info& p) {
  switch (p.type) {
    case param_type::real: return "a number";
    case param_type::integer: return "an integer";
    case param_type::boolean: return "true or false";
    case param_type::string: return p.list_separator.empty() ? "a string" : "a string or a list";
    case param_type::enumeration: return "one of " + join(p.choices);
  }
  return "a value";
}

std::string describe(const v1::Value& v) {
  if (v.kind_case() == v1::Value::kStringValue)
    return "the string \"" + v.string_value() + "\"";
  return q(to_text(v));
}

// ---------------------------------------------------------------------------------------------
// Pass 2

void check_id(context& c, size_t i) {
  const auto& id = c.spec.nodes(static_cast<int>(i)).id();
  if (id.empty())
    return;
  auto [first, fresh] = c.ids.emplace(id, i);
  if (!fresh)
    c.report.error(c.node_src[i].id, "duplicate node id " + q(id) + ": already declared at line " +
                                       std::to_string(c.node_src[first->second].id.line));
}

void check_type(context& c, size_t i) {
  const auto& type = c.spec.nodes(static_cast<int>(i)).type();
  if (type.empty())
    return;
  c.nodes[i].info = c.reg.find(type);
  if (c.nodes[i].info)
    return;
  c.report.error(c.node_src[i].type,
                 "unknown node type " + q(type) + ": expected one of " + join(type_names(c.reg)));
}

/// Types one parameter, judges it with check_value and stores it when accepted.
bool check_param(context& c, size_t i, const entry& e) {
  const node_info& info = *c.nodes[i].info;
  const std::string what = "parameter " + q(e.key) + " of " + label(c, i);
  const int idx = info.param_index(e.key);
  if (idx < 0) {
    names known;
    for (const auto& p : info.params)
      known.push_back(p.name);
    c.report.error(at(e.key_node), "unknown " + what + ": expected one of " + join(known));
    return false;
  }
  const param_info& p = info.params[static_cast<size_t>(idx)];
  if (e.value.IsNull()) {
    c.report.error(at(e.key_node), "missing value for " + what + ": expected " + expected_form(p));
    return false;
  }
  if (!p.list_separator.empty() && e.value.IsSequence()) {
    for (const auto& item : e.value)
      if (!item.IsScalar()) {
        c.report.error(at(item), what + ": expected a list of single values, not a nested list "
                                        "or mapping");
        return false;
      }
  } else if (!e.value.IsScalar()) {
    c.report.error(at(e.value),
                   what + ": expected " + expected_form(p) + ", not a list or mapping");
    return false;
  }
  const v1::Value v = param_value(p, e.value);
  if (auto accepted = check_value(p, v); !accepted) {
    c.report.error(at(e.value), what + ": " + accepted.error() + ", got " + describe(v));
    return false;
  }
  (*c.spec.mutable_nodes(static_cast<int>(i))->mutable_params())[e.key] = normalized(p, v);
  return true;
}

void check_params(context& c, size_t i) {
  auto& st = c.nodes[i];
  if (!st.info)
    return;
  st.ports_known = true;
  for (const auto& e : c.node_src[i].params) {
    if (check_param(c, i, e))
      continue;
    for (const auto& p : st.info->ports)
      st.ports_known = st.ports_known && p.repeat_param != e.key;
  }
  if (st.ports_known)
    st.ports =
      resolve_ports(*st.info, to_param_values(*st.info, c.spec.nodes(static_cast<int>(i))));
}

} // namespace

void read_nodes(context& c, const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsSequence()) {
    c.report.error(at(e.value), "expected a list of nodes for 'nodes' (- id: ..., type: ...)");
    return;
  }
  for (const auto& item : e.value) {
    if (item.IsMap())
      node(c, item);
    else
      c.report.error(at(item), "expected a node as a mapping with 'id' and 'type'");
  }
}

std::string label(const context& c, size_t i) {
  const auto& n = c.spec.nodes(static_cast<int>(i));
  return "node " + q(n.id()) + (c.nodes[i].info ? " (" + n.type() + ")" : "");
}

void check_nodes(context& c) {
  c.nodes.resize(static_cast<size_t>(c.spec.nodes_size()));
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    check_id(c, i);
    check_type(c, i);
    check_params(c, i);
    check_placement(c, i);
  }
}

} // namespace sg::graph_load
