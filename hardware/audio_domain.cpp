#include "hardware/audio_domain.hpp"

#include "nodes/core/channel_list.hpp"

#include <algorithm>
#include <map>
#include <numeric>

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

/// The highest device channel node `n` lists (audio.input, audio.output), 1-based; 0 if none.
uint32_t highest_listed(const node_spec& n) {
  if (!n.info || n.info->device_channels_param.empty())
    return 0;
  const int idx = n.info->param_index(n.info->device_channels_param);
  return idx < 0 ? 0 : highest_channel(n.values.strings[static_cast<size_t>(idx)]);
}

/// Grows the device's input and output counts to the channels its nodes list (the loader
/// already did for graphs it read, and refused channels beyond counts a file sets).
void fit_channels(audio_domain& d) {
  for (const auto& n : d.nodes) {
    const uint32_t highest = highest_listed(n);
    uint32_t& count = n.info && n.info->device_inputs ? d.device.inputs : d.device.channels;
    count = std::max(count, highest);
  }
}

} // namespace

std::vector<audio_domain> split_domains(const graph_spec& spec) {
  std::vector<audio_domain> domains;
  std::map<std::string, size_t> device_index;
  for (const auto& d : spec.devices)
    if (d.kind == "audio") {
      device_index[d.name] = domains.size();
      domains.push_back({d, {}, {}});
    }
  if (domains.empty())
    return domains;
  std::map<std::string, size_t> node_index;
  for (size_t i = 0; i < spec.nodes.size(); ++i)
    node_index[spec.nodes[i].id] = i;
  union_find uf(spec.nodes.size());
  for (const auto& e : spec.edges)
    uf.join(node_index.at(e.from_node), node_index.at(e.to_node));
  // Each component takes the device of a bound node in it, else the first device.
  std::map<size_t, size_t> component_domain;
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    auto it = device_index.find(spec.nodes[i].device);
    if (it != device_index.end())
      component_domain[uf.find(i)] = it->second;
  }
  std::vector<std::pair<size_t, uint32_t>> placed(spec.nodes.size(), {SIZE_MAX, 0});
  for (size_t i = 0; i < spec.nodes.size(); ++i) {
    const node_info* info = spec.nodes[i].info;
    if (!info || !has_audio_ports(*info))
      continue;
    auto it = component_domain.find(uf.find(i));
    const size_t d = it != component_domain.end() ? it->second : 0;
    placed[i] = {d, static_cast<uint32_t>(domains[d].nodes.size())};
    domains[d].nodes.push_back(spec.nodes[i]);
  }
  for (const auto& e : spec.edges) {
    auto [df, sf] = placed[node_index.at(e.from_node)];
    auto [dt, st] = placed[node_index.at(e.to_node)];
    if (df == SIZE_MAX || df != dt)
      continue;
    domains[df].edges.push_back({sf, e.from_port, st, e.to_port});
  }
  for (auto& d : domains)
    fit_channels(d);
  return domains;
}

expected<std::unique_ptr<render_plan>> compile_domain_plan(const audio_domain& domain,
                                                           const audio_format& format) {
  std::vector<plan_node_spec> nodes;
  for (const auto& n : domain.nodes)
    nodes.push_back({n.id, n.info, n.values, nullptr});
  return render_plan::compile(std::move(nodes), domain.edges, format, domain.device.channels);
}

namespace {

/// Same type and the same structural (non-live) parameter values: the kernel can stay.
bool same_structure(const node_spec& a, const node_spec& b) {
  if (a.type != b.type || !a.info)
    return false;
  const node_info* info = a.info;
  const auto &va = a.values, &vb = b.values;
  for (size_t i = 0; i < info->params.size(); ++i)
    if (!info->params[i].live && (va.numbers[i] != vb.numbers[i] || va.strings[i] != vb.strings[i]))
      return false;
  return true;
}

} // namespace

expected<std::unique_ptr<render_plan>> recompile_domain_plan(const audio_domain& domain,
                                                             const audio_domain& previous_domain,
                                                             const render_plan& previous,
                                                             const audio_format& format) {
  std::map<std::string, uint32_t> old_slot;
  for (size_t i = 0; i < previous_domain.nodes.size(); ++i)
    old_slot[previous_domain.nodes[i].id] = static_cast<uint32_t>(i);
  std::vector<plan_node_spec> nodes;
  for (const auto& n : domain.nodes) {
    plan_node_spec spec{n.id, n.info, n.values, nullptr};
    auto it = old_slot.find(n.id);
    if (it != old_slot.end() && it->second < previous.size() &&
        same_structure(previous_domain.nodes[it->second], n)) {
      spec.existing = previous.kernel_at(it->second);
      spec.check_layout = true;
      spec.existing_in = previous.in_channels(it->second);
      spec.existing_out = previous.out_channels(it->second);
    }
    nodes.push_back(std::move(spec));
  }
  return render_plan::compile(std::move(nodes), domain.edges, format, domain.device.channels);
}

namespace {

/// The channels `n` lists (its default when the value is empty: every device channel for an
/// output, the first input for an input).
std::vector<uint32_t> node_channels(const node_spec& n, uint32_t device_count) {
  const int idx = n.info->param_index(n.info->device_channels_param);
  const std::string text = idx >= 0 ? n.values.strings[static_cast<size_t>(idx)] : "";
  std::vector<uint32_t> out;
  if (auto list = parse_channel_list(text)) {
    out = *list;
  } else if (!n.info->device_inputs) {
    for (uint32_t c = 0; c < device_count; ++c)
      out.push_back(c);
  } else {
    out.push_back(0);
  }
  std::erase_if(out, [&](uint32_t c) { return c >= device_count; });
  return out;
}

/// Names every channel and collects the groups of the nodes of one direction.
void plan_direction(const audio_domain& domain, bool inputs, std::vector<std::string>& names,
                    std::vector<port_group>& groups) {
  const uint32_t count = inputs ? domain.device.inputs : domain.device.channels;
  names.assign(count, {});
  for (const auto& n : domain.nodes) {
    if (!n.info || n.info->device_channels_param.empty() || n.info->device_inputs != inputs)
      continue;
    port_group g;
    g.node = n.id;
    g.channels = node_channels(n, count);
    const int ci = n.info->param_index(n.info->connect_param);
    if (ci >= 0)
      g.patterns = connect_items(n.values.strings[static_cast<size_t>(ci)]);
    for (size_t j = 0; j < g.channels.size(); ++j)
      if (names[g.channels[j]].empty())
        names[g.channels[j]] = g.channels.size() == 1 ? n.id : n.id + "_" + std::to_string(j + 1);
    groups.push_back(std::move(g));
  }
  for (uint32_t c = 0; c < count; ++c)
    if (names[c].empty())
      names[c] = (inputs ? "in_" : "out_") + std::to_string(c + 1);
}

} // namespace

device_ports plan_device_ports(const audio_domain& domain) {
  device_ports p;
  plan_direction(domain, true, p.input_names, p.input_groups);
  plan_direction(domain, false, p.output_names, p.output_groups);
  return p;
}

} // namespace sg
