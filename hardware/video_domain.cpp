#include "hardware/video_domain.hpp"

#include <algorithm>
#include <map>
#include <numeric>

namespace sg {

namespace {

bool has_video_ports(const node_info& info) {
  for (const auto& p : info.ports)
    if (p.kind == media_kind::video)
      return true;
  return false;
}

struct components {
  std::vector<size_t> parent;
  explicit components(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t find(size_t x) { return parent[x] == x ? x : parent[x] = find(parent[x]); }
  void join(size_t a, size_t b) { parent[find(a)] = find(b); }
};

/// For every node: the index of the video device whose pipeline runs it, or -1; `fed` gets,
/// per owning device, every device its pipeline feeds (in graph order, the owner first).
std::vector<long> placement(const graph_spec& spec, std::map<std::string, size_t>& node_index,
                            std::map<long, std::vector<long>>* fed = nullptr) {
  std::map<std::string, long> device_index;
  long d = 0;
  for (const auto& dev : spec.devices)
    if (dev.kind == "video")
      device_index[dev.name] = d++;
  for (size_t i = 0; i < spec.nodes.size(); ++i)
    node_index[spec.nodes[i].id] = static_cast<size_t>(i);
  components c(spec.nodes.size());
  for (const auto& e : spec.edges) {
    const node_info* info = spec.nodes[node_index.at(e.from_node)].info;
    if (info && has_video_ports(*info))
      c.join(node_index.at(e.from_node), node_index.at(e.to_node));
  }
  // The owner: the device declared first among those bound in the component.
  std::map<size_t, long> component_device;
  std::map<size_t, std::vector<long>> component_sinks;
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    auto it = device_index.find(spec.nodes[i].device);
    if (it == device_index.end())
      continue;
    auto [owner, fresh] = component_device.emplace(c.find(i), it->second);
    if (!fresh)
      owner->second = std::min(owner->second, it->second);
    auto& sinks = component_sinks[c.find(i)];
    if (std::find(sinks.begin(), sinks.end(), it->second) == sinks.end())
      sinks.push_back(it->second);
  }
  if (fed)
    for (auto& [component, sinks] : component_sinks) {
      std::sort(sinks.begin(), sinks.end());
      (*fed)[component_device.at(component)] = sinks;
    }
  std::vector<long> out(spec.nodes.size(), -1);
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    const auto* info = spec.nodes[i].info;
    auto it = component_device.find(c.find(i));
    if (info && has_video_ports(*info) && it != component_device.end())
      out[i] = it->second;
  }
  return out;
}

} // namespace

std::vector<video_domain> split_video_domains(const graph_spec& spec) {
  std::vector<device_spec> devices;
  for (const auto& dev : spec.devices)
    if (dev.kind == "video")
      devices.push_back(dev);
  std::map<std::string, size_t> node_index;
  std::map<long, std::vector<long>> fed;
  const auto device_of = placement(spec, node_index, &fed);
  // Devices fed by another device's pipeline get no domain of their own.
  std::vector<bool> secondary(devices.size(), false);
  for (const auto& [owner, sinks] : fed)
    for (long d : sinks)
      secondary[d] = d != owner;
  std::vector<long> domain_of(devices.size(), -1);
  std::vector<video_domain> domains;
  for (size_t d = 0; d < devices.size(); ++d) {
    if (secondary[d])
      continue;
    domain_of[d] = static_cast<long>(domains.size());
    video_domain vd{devices[d], {}, {}, {}};
    auto it = fed.find(static_cast<long>(d));
    if (it != fed.end())
      for (long s : it->second)
        vd.sinks.push_back(devices[s]);
    domains.push_back(std::move(vd));
  }
  std::vector<uint32_t> slot(spec.nodes.size(), 0);
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    if (device_of[i] < 0)
      continue;
    auto& d = domains[domain_of[device_of[i]]];
    slot[i] = static_cast<uint32_t>(d.nodes.size());
    d.nodes.push_back(spec.nodes[i]);
  }
  for (const auto& e : spec.edges) {
    const size_t from = node_index.at(e.from_node), to = node_index.at(e.to_node);
    if (device_of[from] < 0 || device_of[from] != device_of[to])
      continue;
    domains[domain_of[device_of[from]]].edges.push_back(
      {slot[from], e.from_port, slot[to], e.to_port});
  }
  return domains;
}

std::vector<std::string> unplaced_video_nodes(const graph_spec& spec) {
  std::map<std::string, size_t> node_index;
  const auto device_of = placement(spec, node_index);
  std::vector<std::string> out;
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    const auto* info = spec.nodes[i].info;
    if (info && has_video_ports(*info) && device_of[i] < 0)
      out.push_back(spec.nodes[i].id);
  }
  return out;
}

} // namespace sg
