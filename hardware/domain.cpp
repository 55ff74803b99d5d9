#include "hardware/domain.hpp"

#include <map>
#include <numeric>

#include "graph/params.hpp"

namespace sg {

namespace {

struct union_find {
  std::vector<size_t> parent;
  explicit union_find(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t find(size_t x) { return parent[x] == x ? x : parent[x] = find(parent[x]); }
  void join(size_t a, size_t b) { parent[find(a)] = find(b); }
};

bool has_audio_ports(const node_info& info) {
  for (const auto& p : info.ports)
    if (p.kind == media_kind::audio)
      return true;
  return false;
}

} // namespace

std::vector<audio_domain> split_domains(const v1::GraphSpec& spec, const node_registry& reg) {
  std::vector<audio_domain> domains;
  std::map<std::string, size_t> device_index;
  for (const auto& d : spec.devices())
    if (d.kind() == "audio") {
      device_index[d.name()] = domains.size();
      domains.push_back({d, {}, {}});
    }
  if (domains.empty())
    return domains;
  std::map<std::string, size_t> node_index;
  for (int i = 0; i < spec.nodes_size(); ++i)
    node_index[spec.nodes(i).id()] = static_cast<size_t>(i);
  union_find uf(spec.nodes_size());
  for (const auto& e : spec.edges())
    uf.join(node_index.at(e.from_node()), node_index.at(e.to_node()));
  // Each component takes the device of a bound node in it, else the first device.
  std::map<size_t, size_t> component_domain;
  for (int i = 0; i < spec.nodes_size(); ++i) {
    auto it = device_index.find(spec.nodes(i).device());
    if (it != device_index.end())
      component_domain[uf.find(i)] = it->second;
  }
  std::vector<std::pair<size_t, uint32_t>> placed(spec.nodes_size(), {SIZE_MAX, 0});
  for (int i = 0; i < spec.nodes_size(); ++i) {
    const auto* info = reg.find(spec.nodes(i).type());
    if (!info || !has_audio_ports(*info))
      continue;
    auto it = component_domain.find(uf.find(i));
    const size_t d = it != component_domain.end() ? it->second : 0;
    placed[i] = {d, static_cast<uint32_t>(domains[d].nodes.size())};
    domains[d].nodes.push_back(spec.nodes(i));
  }
  for (const auto& e : spec.edges()) {
    auto [df, sf] = placed[node_index.at(e.from_node())];
    auto [dt, st] = placed[node_index.at(e.to_node())];
    if (df == SIZE_MAX || df != dt)
      continue;
    domains[df].edges.push_back({sf, e.from_port(), st, e.to_port()});
  }
  return domains;
}

std::unique_ptr<render_plan> compile_domain_plan(const audio_domain& domain,
                                                 const audio_format& format,
                                                 std::string& error) {
  std::vector<plan_node_spec> nodes;
  for (const auto& n : domain.nodes) {
    const node_info* info = node_registry::builtin().find(n.type());
    nodes.push_back({n.id(), info, to_param_values(*info, n), nullptr});
  }
  return render_plan::compile(std::move(nodes), domain.edges, format,
                              domain.device.channels(), error);
}

} // namespace sg
