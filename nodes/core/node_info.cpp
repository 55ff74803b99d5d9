#include "nodes/core/node_info.hpp"

#include <cmath>

#include "nodes/core/kernel.hpp"

namespace sg {

int node_info::param_index(std::string_view name) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == name)
      return static_cast<int>(i);
  return -1;
}

param_values node_info::defaults() const {
  param_values v;
  for (const auto& p : params) {
    v.numbers.push_back(p.def);
    v.strings.push_back(p.def_string);
  }
  return v;
}

std::vector<resolved_port> resolve_ports(const node_info& info, const param_values& values) {
  std::vector<resolved_port> out;
  for (const auto& p : info.ports) {
    if (p.repeat_param.empty()) {
      out.push_back({p.name, p.dir, p.kind, p.channels_of ? p.channels_of(values) : p.channels});
      continue;
    }
    int idx = info.param_index(p.repeat_param);
    auto n = idx >= 0 && static_cast<size_t>(idx) < values.numbers.size()
               ? static_cast<int>(std::lround(values.numbers[idx]))
               : 0;
    for (int i = 1; i <= n; ++i)
      out.push_back({p.name + std::to_string(i), p.dir, p.kind, p.channels});
  }
  return out;
}

void node_registry::add(node_info info) {
  types_.push_back(std::move(info));
}

const node_info* node_registry::find(std::string_view type) const {
  for (const auto& t : types_)
    if (t.type == type)
      return &t;
  return nullptr;
}

} // namespace sg
