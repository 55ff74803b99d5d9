// The loader's last checks, over the whole graph of audio edges: no cycles, and one clock (one
// device) per connected part.

#include <algorithm>

#include "graph/load_context.hpp"

namespace sg::graph_load {

namespace {

/// Nodes after `from` on a path from `from` to `to` over `links` (breadth first, so the
/// shortest); empty when there is none or when from == to.
std::vector<size_t> path(const context& c, size_t from, size_t to, const std::vector<link>& links) {
  if (from == to)
    return {};
  std::vector<long> parent(c.nodes.size(), -1);
  std::vector<size_t> queue{from};
  parent[from] = static_cast<long>(from);
  for (size_t q_i = 0; q_i < queue.size() && parent[to] < 0; ++q_i)
    for (const auto& l : links)
      if (l.from == queue[q_i] && parent[l.to] < 0) {
        parent[l.to] = static_cast<long>(l.from);
        queue.push_back(l.to);
      }
  if (parent[to] < 0)
    return {};
  std::vector<size_t> out;
  for (size_t n = to; n != from; n = static_cast<size_t>(parent[n]))
    out.push_back(n);
  std::reverse(out.begin(), out.end());
  return out;
}

} // namespace

/// Edges are added in source order; an edge whose target already reaches its source closes a
/// cycle and is reported there (and left out, so each cycle is reported once).
void check_cycles(const context& c) {
  std::vector<link> acyclic;
  for (const auto& l : c.links) {
    auto back = path(c, l.to, l.from, acyclic);
    if (back.empty() && l.to != l.from) {
      acyclic.push_back(l);
      continue;
    }
    std::string cycle = c.spec.nodes(static_cast<int>(l.from)).id();
    cycle += " -> " + c.spec.nodes(static_cast<int>(l.to)).id();
    for (auto n : back)
      cycle += " -> " + c.spec.nodes(static_cast<int>(n)).id();
    c.report.error(c.edge_src[l.edge].item,
                   "cycle among audio edges: " + cycle +
                     ": expected audio to flow one way within a clock domain");
  }
}

/// Nodes joined by audio edges share one clock, so at most one device may drive them.
/// Components grow edge by edge in source order; the edge that would join two devices is the
/// one reported.
void check_clock_domains(const context& c) {
  std::vector<size_t> root(c.nodes.size());
  std::vector<long> bound_by(c.nodes.size(), -1);  // per root: the node binding its device
  names devices;
  for (const auto& d : c.spec.devices())
    devices.push_back(d.name());
  for (size_t i = 0; i < root.size(); ++i) {
    root[i] = i;
    const auto& n = c.spec.nodes(static_cast<int>(i));
    if (c.nodes[i].info && c.nodes[i].info->needs_device && contains(devices, n.device()))
      bound_by[i] = static_cast<long>(i);
  }
  auto find = [&](size_t x) {
    while (root[x] != x)
      x = root[x] = root[root[x]];
    return x;
  };
  for (const auto& l : c.links) {
    const size_t a = find(l.from), b = find(l.to);
    if (a == b)
      continue;
    if (bound_by[a] >= 0 && bound_by[b] >= 0) {
      const auto& na = c.spec.nodes(static_cast<int>(bound_by[a]));
      const auto& nb = c.spec.nodes(static_cast<int>(bound_by[b]));
      if (na.device() != nb.device()) {
        c.report.error(c.edge_src[l.edge].item,
                       "edge crosses clock domains: it joins nodes played by " + na.id() +
                         " on device " + q(na.device()) + " with nodes played by " + nb.id() +
                         " on device " + q(nb.device()) +
                         ": expected one device per connected audio graph (cross-domain "
                         "bridges come later)");
        continue;
      }
    }
    root[b] = a;
    if (bound_by[a] < 0)
      bound_by[a] = bound_by[b];
  }
}

} // namespace sg::graph_load
