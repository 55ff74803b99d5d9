#include "graph/export.hpp"

#include <charconv>
#include <map>

#include <yaml-cpp/yaml.h>

#include "graph/params.hpp"

namespace sg {

namespace {

namespace v1 = studiograph::v1;

/// The shortest text that parses back to exactly `x`.
std::string shortest(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(x);
}

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 18)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  return true;
}

/// Strings are always quoted, so "null", "true" or "440" stay strings.
void emit_value(YAML::Emitter& out, const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kDoubleValue: out << shortest(v.double_value()); break;
    case v1::Value::kIntValue: out << v.int_value(); break;
    case v1::Value::kBoolValue: out << (v.bool_value() ? "true" : "false"); break;
    case v1::Value::kStringValue: out << YAML::DoubleQuoted << v.string_value(); break;
    case v1::Value::kEnumValue: out << YAML::DoubleQuoted << v.enum_value(); break;
    default: out << YAML::Null; break;
  }
}

/// Device options are strings in the spec; numeric ones (priority, width, port...) are
/// numbers in the file.
void emit_option(YAML::Emitter& out, const std::string& value) {
  if (all_digits(value))
    out << value;
  else
    out << YAML::DoubleQuoted << value;
}

void emit_device(YAML::Emitter& out, const v1::DeviceSpec& d) {
  out << YAML::Key << d.name() << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "kind" << YAML::Value << d.kind();
  if (d.kind() != "video") {
    out << YAML::Key << "backend" << YAML::Value << YAML::DoubleQuoted << d.backend();
    out << YAML::Key << "sample_rate" << YAML::Value << d.sample_rate();
    out << YAML::Key << "block" << YAML::Value << d.block();
    out << YAML::Key << "channels" << YAML::Value << d.channels();
    if (d.inputs() > 0)
      out << YAML::Key << "inputs" << YAML::Value << d.inputs();
  }
  // Sorted, so an export is stable from one call to the next.
  std::map<std::string, std::string> options(d.options().begin(), d.options().end());
  for (const auto& [key, value] : options) {
    out << YAML::Key << key << YAML::Value;
    emit_option(out, value);
  }
  out << YAML::EndMap;
}

void emit_node(YAML::Emitter& out, const v1::NodeSpec& n) {
  out << YAML::BeginMap;
  out << YAML::Key << "id" << YAML::Value << n.id();
  out << YAML::Key << "type" << YAML::Value << n.type();
  if (!n.device().empty())
    out << YAML::Key << "device" << YAML::Value << n.device();
  if (!n.host().empty())
    out << YAML::Key << "host" << YAML::Value << n.host();
  if (!n.params().empty()) {
    // In the type's parameter order, which is how `sg nodes` and the docs list them.
    const node_info* info = node_registry::builtin().find(n.type());
    std::vector<std::string> order;
    if (info)
      for (const auto& p : info->params)
        if (n.params().count(p.name))
          order.push_back(p.name);
    std::map<std::string, v1::Value> rest(n.params().begin(), n.params().end());
    for (const auto& name : order)
      rest.erase(name);
    for (const auto& [name, value] : rest)
      order.push_back(name);
    out << YAML::Key << "params" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (const auto& name : order) {
      out << YAML::Key << name << YAML::Value;
      emit_value(out, n.params().at(name));
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
}

} // namespace

std::string export_graph_yaml(const v1::GraphSpec& spec, const std::string& comment) {
  YAML::Emitter out;
  if (!comment.empty())
    out << YAML::Comment(comment) << YAML::Newline;
  out << YAML::BeginMap;
  out << YAML::Key << "version" << YAML::Value << spec.version();
  out << YAML::Key << "name" << YAML::Value << spec.name();
  if (!spec.hosts().empty()) {
    std::map<std::string, std::string> hosts(spec.hosts().begin(), spec.hosts().end());
    out << YAML::Key << "hosts" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, address] : hosts)
      out << YAML::Key << name << YAML::Value << YAML::DoubleQuoted << address;
    out << YAML::EndMap;
  }
  if (!spec.devices().empty()) {
    out << YAML::Key << "devices" << YAML::Value << YAML::BeginMap;
    for (const auto& d : spec.devices())
      emit_device(out, d);
    out << YAML::EndMap;
  }
  out << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  for (const auto& n : spec.nodes())
    emit_node(out, n);
  out << YAML::EndSeq;
  if (!spec.edges().empty()) {
    out << YAML::Key << "edges" << YAML::Value << YAML::BeginSeq;
    for (const auto& e : spec.edges())
      out << (e.from_node() + "." + e.from_port() + " -> " + e.to_node() + "." + e.to_port());
    out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

v1::GraphSpec with_session_values(v1::GraphSpec spec, const v1::Snapshot& live) {
  std::map<std::string, const v1::NodeState*> states;
  for (const auto& n : live.nodes())
    states[n.id()] = &n;
  for (auto& n : *spec.mutable_nodes()) {
    auto it = states.find(n.id());
    const node_info* info = node_registry::builtin().find(n.type());
    if (it == states.end() || !info || it->second->type() != n.type())
      continue;
    auto& params = *n.mutable_params();
    for (const auto& ps : it->second->params()) {
      const int index = info->param_index(ps.name());
      if (index < 0)
        continue;
      const auto& p = info->params[index];
      const v1::Value& value = ps.has_committed() ? ps.committed() : ps.base();
      const v1::Value def = to_value(p, p.def, p.def_string);
      if (params.count(ps.name()) || value.SerializeAsString() != def.SerializeAsString())
        params[ps.name()] = value;
    }
  }
  return spec;
}

} // namespace sg
