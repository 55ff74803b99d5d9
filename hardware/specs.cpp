#include "hardware/specs.hpp"

#include <cstdlib>

namespace sg {

int device_spec::int_option(const std::string& key, int fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : std::atoi(it->second.c_str());
}

}  // namespace sg
