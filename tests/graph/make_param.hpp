#pragma once

/// Builds parameter declarations for test node types field by field, which reads better than
/// a long aggregate initializer and keeps -Wmissing-field-initializers quiet.

#include <string>
#include <vector>

#include "nodes/core/node_info.hpp"

namespace sg::test {

inline param_info make_param(std::string name, param_type type, double min = 0, double max = 1,
                             double def = 0, std::string unit = {},
                             std::vector<std::string> choices = {}) {
  param_info p;
  p.name = std::move(name);
  p.type = type;
  p.min = min;
  p.max = max;
  p.def = def;
  p.unit = std::move(unit);
  p.choices = std::move(choices);
  return p;
}

} // namespace sg::test
