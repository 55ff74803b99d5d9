// The loader's edges: reading `edges` in either form (pass 1), then each end resolved to a port
// of the right direction and both ends of the same media kind (pass 2).

#include <algorithm>
#include <cmath>

#include "graph/load_context.hpp"
#include "graph/params.hpp"

namespace sg::graph_load {

namespace {

const names edge_keys = {"from", "to"};

struct endpoint {
  std::string node, port;
};

/// "node.port" → endpoint, or nullopt when it is not of that form.
std::optional<endpoint> parse_endpoint(std::string_view text) {
  text = trim(text);
  auto dot = text.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  endpoint e{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
  if (!is_identifier(e.node) || !is_identifier(e.port))
    return std::nullopt;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Pass 1

void add_edge(context& c, const endpoint& from, const endpoint& to, edge_source s) {
  auto& e = *c.spec.add_edges();
  e.set_from_node(from.node);
  e.set_from_port(from.port);
  e.set_to_node(to.node);
  e.set_to_port(to.port);
  c.edge_src.push_back(s);
}

/// `- node.port -> node.port`
void edge_text(context& c, const YAML::Node& item) {
  const std::string& text = item.Scalar();
  const auto arrow = text.find("->");
  const std::string expected = "expected 'node.port -> node.port'";
  if (arrow == std::string::npos || text.find("->", arrow + 2) != std::string::npos) {
    c.report.error(at(item), "malformed edge " + q(text) + ": " + expected);
    return;
  }
  auto from = parse_endpoint(std::string_view(text).substr(0, arrow));
  auto to = parse_endpoint(std::string_view(text).substr(arrow + 2));
  if (!from || !to) {
    const auto side =
      from ? std::string_view(text).substr(arrow + 2) : std::string_view(text).substr(0, arrow);
    const auto bad = trim(side);
    c.report.error(at(item), "malformed edge " + q(text) + ": " + q(bad) + " is not 'node.port' (" +
                               expected + ")");
    return;
  }
  add_edge(c, *from, *to, {at(item), at(item), at(item)});
}

/// `- {from: node.port, to: node.port}`
void edge_map(context& c, const YAML::Node& item) {
  edge_source s{at(item), at(item), at(item)};
  std::optional<endpoint> from, to;
  for (const auto& f : entries(c, item, "in edge", &edge_keys)) {
    auto text = string_field(c, f, q(f.key) + " of edge");
    if (!text)
      return;
    auto ep = parse_endpoint(*text);
    if (!ep) {
      c.report.error(at(f.value), "malformed edge endpoint " + q(*text) + ": expected 'node.port'");
      return;
    }
    (f.key == "from" ? from : to) = ep;
    (f.key == "from" ? s.from : s.to) = at(f.value);
  }
  if (!from || !to) {
    c.report.error(s.item, std::string("edge has no '") + (from ? "to" : "from") +
                             "': expected {from: node.port, to: node.port}");
    return;
  }
  add_edge(c, *from, *to, s);
}

// ---------------------------------------------------------------------------------------------
// Pass 2

/// A resolved edge end: node index and port.
struct port_ref {
  size_t node;
  const resolved_port* port;
};

bool is_duplicate(context& c, size_t e, std::map<std::string, size_t>& seen) {
  const auto& ed = c.spec.edges(static_cast<int>(e));
  const std::string text =
    ed.from_node() + "." + ed.from_port() + " -> " + ed.to_node() + "." + ed.to_port();
  auto [first, fresh] = seen.emplace(text, e);
  if (!fresh)
    c.report.error(c.edge_src[e].item, "duplicate edge " + text + " (first at line " +
                                         std::to_string(c.edge_src[first->second].item.line) + ")");
  return !fresh;
}

/// "node 'mix' (audio.mixer) has no port 'in4': expected one of in1, in2, in3, out", with a
/// hint when the name belongs to a port family whose size comes from a parameter.
std::string unknown_port(const context& c, size_t node, const std::string& port) {
  const auto& st = c.nodes[node];
  names ports;
  for (const auto& rp : st.ports)
    ports.push_back(rp.name);
  std::string msg = label(c, node) + " has no port " + q(port) + ": expected one of " + join(ports);
  for (const auto& p : st.info->ports) {
    const auto suffix = std::string_view(port).substr(std::min(port.size(), p.name.size()));
    if (p.repeat_param.empty() || !port.starts_with(p.name) || suffix.empty() ||
        suffix.find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    const int idx = st.info->param_index(p.repeat_param);
    const auto values = to_param_values(*st.info, c.spec.nodes(static_cast<int>(node)));
    const long n = idx < 0 ? 0 : std::lround(values.numbers[static_cast<size_t>(idx)]);
    msg += " (" + p.repeat_param + " = " + std::to_string(n) + " gives " + p.name + "1.." + p.name +
           std::to_string(n) + ")";
  }
  return msg;
}

std::optional<port_ref> resolve_end(context& c, size_t e, bool from_side) {
  const auto& ed = c.spec.edges(static_cast<int>(e));
  const std::string& id = from_side ? ed.from_node() : ed.to_node();
  const std::string& port = from_side ? ed.from_port() : ed.to_port();
  const pos p = from_side ? c.edge_src[e].from : c.edge_src[e].to;
  auto it = c.ids.find(id);
  if (it == c.ids.end()) {
    names ids;
    for (const auto& n : c.spec.nodes())
      if (!n.id().empty())
        ids.push_back(n.id());
    c.report.error(p, "dangling edge: no node " + q(id) + ": expected one of " + join(ids));
    return std::nullopt;
  }
  const auto& st = c.nodes[it->second];
  if (!st.ports_known)
    return std::nullopt;
  for (const auto& rp : st.ports) {
    if (rp.name != port)
      continue;
    const port_dir want = from_side ? port_dir::out : port_dir::in;
    if (rp.dir == want)
      return port_ref{it->second, &rp};
    names others;
    for (const auto& o : st.ports)
      if (o.dir == want)
        others.push_back(o.name);
    c.report.error(p, id + "." + port + " is an " + (from_side ? "input" : "output") + ": the " +
                        (from_side ? "left side of an edge must be an output"
                                   : "right side of an edge must be an input") +
                        " (" + id + " has " + (from_side ? "outputs: " : "inputs: ") +
                        join(others) + ")");
    return std::nullopt;
  }
  c.report.error(p, unknown_port(c, it->second, port));
  return std::nullopt;
}

} // namespace

void read_edges(context& c, const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsSequence()) {
    c.report.error(at(e.value), "expected a list of edges for 'edges' (- node.port -> node.port)");
    return;
  }
  for (const auto& item : e.value) {
    if (item.IsScalar())
      edge_text(c, item);
    else if (item.IsMap())
      edge_map(c, item);
    else
      c.report.error(at(item), "expected an edge 'node.port -> node.port' or "
                               "{from: node.port, to: node.port}");
  }
}

void check_edges(context& c) {
  std::map<std::string, size_t> seen;
  for (size_t e = 0; e < static_cast<size_t>(c.spec.edges_size()); ++e) {
    if (is_duplicate(c, e, seen))
      continue;
    auto from = resolve_end(c, e, true);
    auto to = resolve_end(c, e, false);
    if (!from || !to)
      continue;
    if (from->port->kind != to->port->kind) {
      auto kind = [](media_kind k) {
        return k == media_kind::audio ? "audio" : k == media_kind::video ? "video" : "control";
      };
      const auto& ed = c.spec.edges(static_cast<int>(e));
      c.report.error(c.edge_src[e].item,
                     "media kind mismatch: " + ed.from_node() + "." + ed.from_port() + " is " +
                       kind(from->port->kind) + " but " + ed.to_node() + "." + ed.to_port() +
                       " is " + kind(to->port->kind) + ": expected ports of the same kind");
      continue;
    }
    if (from->port->kind == media_kind::audio)
      c.links.push_back({from->node, to->node, e});
  }
}

} // namespace sg::graph_load
