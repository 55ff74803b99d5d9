#include "nodes/core/channel_list.hpp"

#include <algorithm>
#include <cctype>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

/// Reads a whole number at `i`, advancing past it; false when there is none.
bool read_number(std::string_view text, size_t& i, uint32_t& value) {
  const size_t start = i;
  uint64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && v < 1000000)
    v = v * 10 + static_cast<uint64_t>(text[i++] - '0');
  value = static_cast<uint32_t>(v);
  return i > start;
}

void skip_spaces(std::string_view text, size_t& i) {
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
    ++i;
}

std::string channel_range_text() {
  return "1.." + std::to_string(max_device_channels);
}

} // namespace

expected<std::vector<uint32_t>> parse_channel_list(std::string_view text) {
  std::vector<uint32_t> out;
  size_t i = 0;
  skip_spaces(text, i);
  while (i < text.size()) {
    uint32_t first = 0, last = 0;
    if (!read_number(text, i, first))
      return unexpected("expected channel numbers such as 1, 2 or a range 1-2 at '" +
                        std::string(text.substr(i)) + "'");
    last = first;
    skip_spaces(text, i);
    if (i < text.size() && text[i] == '-') {
      ++i;
      skip_spaces(text, i);
      if (!read_number(text, i, last))
        return unexpected("expected the end of the range after '" + std::to_string(first) + "-'");
    }
    if (first < 1 || last > max_device_channels || first > max_device_channels)
      return unexpected("channel " + std::to_string(first < 1 ? first : last) +
                        " is outside " + channel_range_text());
    if (last < first)
      return unexpected("range " + std::to_string(first) + "-" + std::to_string(last) +
                        " runs backwards");
    for (uint32_t c = first; c <= last; ++c) {
      if (std::find(out.begin(), out.end(), c - 1) != out.end())
        return unexpected("channel " + std::to_string(c) + " is listed twice");
      out.push_back(c - 1);
    }
    skip_spaces(text, i);
    if (i < text.size() && text[i] == ',') {
      ++i;
      skip_spaces(text, i);
    }
  }
  if (out.empty())
    return unexpected("expected at least one channel (" + channel_range_text() + ")");
  return out;
}

uint32_t highest_channel(std::string_view text) {
  const auto list = parse_channel_list(text);
  if (!list)
    return 0;
  return *std::max_element(list->begin(), list->end()) + 1;
}

param_info describe::channel_list(std::string name, std::string def, std::string summary) {
  param_info p = text_list(std::move(name), std::move(def), ", ", std::move(summary));
  p.check_text = [](const std::string& value) -> std::string {
    if (value.empty())
      return {};  // empty: the node's default channels
    auto parsed = parse_channel_list(value);
    return parsed ? std::string{} : parsed.error();
  };
  return p;
}

} // namespace sg
