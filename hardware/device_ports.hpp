#pragma once

/// A device's ports as other programs see them (JACK), and what the graph connects them to.
///
/// Names: device channel k takes the name of the first audio.input (inputs) or audio.output
/// (outputs) node listing it: the node's id for a one-channel node, `<id>_<n>` for its n-th
/// channel otherwise; a channel no node lists is `in_<k>` or `out_<k>` (1-based).
///
/// Connections: each node's `connect` list names other programs' ports, each item an exact
/// full port name (`system:capture_1`), the word `physical` (the server's physical ports of the
/// right direction: the sound card; the default), or else a regular expression matched against
/// whole full names (`other-app:out_.*`). An empty list connects nothing. The items' matches,
/// in the server's port order, are paired with the node's channels in order; a one-channel
/// node connects to every match.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>


namespace sg {

/// One node's channels and what they connect to.
struct port_group {
  std::string node;
  std::vector<uint32_t> channels;     // device channels, 0-based, in the node's order
  std::vector<std::string> patterns;  // the node's `connect` items, in order
};

struct device_ports {
  std::vector<std::string> input_names, output_names;  // one per device channel
  std::vector<port_group> input_groups, output_groups;
};

/// The items of a `connect` list (held joined by newlines).
std::vector<std::string> connect_items(const std::string& joined);

/// The `connect` item standing for the physical ports.
inline constexpr const char* physical_ports = "physical";

/// The full names of `available` that `patterns` name, in pattern order then `available`'s
/// order, each once; `physical` stands for `physical`'s names. An item that is not a valid
/// regular expression matches only itself.
std::vector<std::string> match_ports(const std::vector<std::string>& patterns,
                                     const std::vector<std::string>& available,
                                     const std::vector<std::string>& physical = {});

/// (device channel, other port) pairs `group` asks for, given the ports its patterns match.
std::vector<std::pair<uint32_t, std::string>> group_connections(
  const port_group& group, const std::vector<std::string>& matched);

} // namespace sg
