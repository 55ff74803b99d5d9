#pragma once

/// Device channel lists as graphs write them: 1-based numbers and ranges, separated by commas
/// or spaces: `1`, `1, 2`, `1-2`, `1-4, 7`. A YAML sequence `[1, 2]` arrives joined as `1, 2`.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nodes/core/expected.hpp"

namespace sg {

/// Most channels a list may name (the highest channel number too).
inline constexpr uint32_t max_device_channels = 64;

/// The listed channels, 0-based, in the order written. Fails with what is wrong: an empty
/// list, a channel outside 1..64, a backwards range, a channel listed twice, anything else.
expected<std::vector<uint32_t>> parse_channel_list(std::string_view text);

/// The highest channel a valid list names (1-based), or 0.
uint32_t highest_channel(std::string_view text);

} // namespace sg
