#include "hardware/device_ports.hpp"

#include <algorithm>
#include <regex>


namespace sg {

std::vector<std::string> connect_items(const std::string& joined) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= joined.size()) {
    const size_t end = std::min(joined.find('\n', start), joined.size());
    std::string item = joined.substr(start, end - start);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\r'))
      item.pop_back();
    item.erase(0, std::min(item.find_first_not_of(' '), item.size()));
    if (!item.empty())
      out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> match_ports(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& available,
                                     const std::vector<std::string>& physical) {
  std::vector<std::string> out;
  auto add = [&](const std::string& name) {
    if (std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  };
  for (const auto& p : patterns) {
    if (p == physical_ports) {
      for (const auto& name : physical)
        add(name);
      continue;
    }
    if (std::find(available.begin(), available.end(), p) != available.end()) {
      add(p);
      continue;
    }
    std::regex re;
    try {
      re = std::regex(p, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      continue;  // not a pattern: it names a port that is not there
    }
    for (const auto& name : available)
      if (std::regex_match(name, re))
        add(name);
  }
  return out;
}

std::vector<std::pair<uint32_t, std::string>> group_connections(
  const port_group& group, const std::vector<std::string>& matched) {
  std::vector<std::pair<uint32_t, std::string>> out;
  if (group.channels.empty())
    return out;
  if (group.channels.size() == 1) {
    for (const auto& m : matched)
      out.emplace_back(group.channels[0], m);
    return out;
  }
  for (size_t i = 0; i < matched.size() && i < group.channels.size(); ++i)
    out.emplace_back(group.channels[i], matched[i]);
  return out;
}

} // namespace sg
