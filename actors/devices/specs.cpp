#include "actors/devices/specs.hpp"

#include "graph/params.hpp"

namespace sg {

device_spec to_device_spec(const v1::DeviceSpec& d) {
  device_spec out;
  out.name = d.name();
  out.kind = d.kind();
  out.backend = d.backend();
  out.sample_rate = d.sample_rate();
  out.block = d.block();
  out.channels = d.channels();
  out.inputs = d.inputs();
  out.options.insert(d.options().begin(), d.options().end());
  return out;
}

v1::DeviceSpec to_proto(const device_spec& d) {
  v1::DeviceSpec out;
  out.set_name(d.name);
  out.set_kind(d.kind);
  out.set_backend(d.backend);
  out.set_sample_rate(d.sample_rate);
  out.set_block(d.block);
  out.set_channels(d.channels);
  out.set_inputs(d.inputs);
  out.mutable_options()->insert(d.options.begin(), d.options.end());
  return out;
}

node_spec to_node_spec(const v1::NodeSpec& n) {
  node_spec out;
  out.id = n.id();
  out.type = n.type();
  out.device = n.device();
  out.info = node_registry::builtin().find(n.type());
  if (out.info)
    out.values = to_param_values(*out.info, n);
  return out;
}

v1::NodeSpec to_proto(const node_spec& n) {
  v1::NodeSpec out;
  out.set_id(n.id);
  out.set_type(n.type);
  out.set_device(n.device);
  if (n.info)
    for (size_t i = 0; i < n.info->params.size() && i < n.values.numbers.size(); ++i) {
      const auto& p = n.info->params[i];
      (*out.mutable_params())[p.name] = to_value(p, n.values.numbers[i], n.values.strings[i]);
    }
  return out;
}

graph_spec to_graph_spec(const v1::GraphSpec& g) {
  graph_spec out;
  for (const auto& d : g.devices())
    out.devices.push_back(to_device_spec(d));
  for (const auto& n : g.nodes())
    out.nodes.push_back(to_node_spec(n));
  for (const auto& e : g.edges())
    out.edges.push_back({e.from_node(), e.from_port(), e.to_node(), e.to_port()});
  return out;
}

v1::DomainPlan to_proto(const audio_domain& domain) {
  v1::DomainPlan p;
  *p.mutable_device() = to_proto(domain.device);
  for (const auto& n : domain.nodes)
    *p.add_nodes() = to_proto(n);
  for (const auto& e : domain.edges) {
    auto* de = p.add_edges();
    de->set_from_node(e.from_node);
    de->set_from_port(e.from_port);
    de->set_to_node(e.to_node);
    de->set_to_port(e.to_port);
  }
  return p;
}

audio_domain from_proto(const v1::DomainPlan& p) {
  audio_domain d;
  d.device = to_device_spec(p.device());
  for (const auto& n : p.nodes())
    d.nodes.push_back(to_node_spec(n));
  for (const auto& e : p.edges())
    d.edges.push_back({e.from_node(), e.from_port(), e.to_node(), e.to_port()});
  return d;
}

}  // namespace sg
