#pragma once

/// What the drivers and domain compilation need to know of a graph, in plain C++: devices with
/// their settings, nodes with every parameter value resolved, and the edges. The control plane
/// converts its protobuf graph into these (actors/devices/specs.hpp); nothing here knows
/// protobuf, CAF or YAML.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nodes/core/node_info.hpp"

namespace sg {

/// A device as the graph declares it.
struct device_spec {
  std::string name;
  std::string kind;     // audio | midi | video
  std::string backend;  // audio: auto | jack | alsa | pulse | null; midi: jack | alsa
  uint32_t sample_rate = 0;
  uint32_t block = 0;
  uint32_t channels = 0;  // output channels
  uint32_t inputs = 0;    // input channels (0: playback only)
  /// Backend-specific settings (a device name, a WAV path, a video sink and its size...).
  std::map<std::string, std::string> options;

  /// options[key], or `fallback` when the graph does not set it.
  const std::string& option(const std::string& key, const std::string& fallback) const {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }
  /// options[key] as an integer, or `fallback`.
  int int_option(const std::string& key, int fallback) const;
};

/// A node with its type resolved and every parameter set (the graph's values over the type's
/// defaults), indexed like `info->params`.
struct node_spec {
  std::string id;
  std::string type;
  std::string device;  // the device it is bound to, if any
  const node_info* info = nullptr;
  param_values values;
};

struct edge_spec {
  std::string from_node, from_port, to_node, to_port;
};

/// A whole graph, ready for domain compilation.
struct graph_spec {
  std::vector<device_spec> devices;
  std::vector<node_spec> nodes;
  std::vector<edge_spec> edges;
};

}  // namespace sg
