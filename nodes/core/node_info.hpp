#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg {

class kernel;
struct param_values;

enum class media_kind : uint8_t { audio, video, control };
enum class port_dir : uint8_t { in, out };

/// A port as a node type declares it.
struct port_info {
  std::string name;
  port_dir dir = port_dir::in;
  media_kind kind = media_kind::audio;
  /// Channel count; 0 means "follows the connected input".
  uint32_t channels = 0;
  /// When set, the port is a family `name1..nameN`, N being this integer parameter's value.
  std::string repeat_param;
  /// When set, the channel count follows the node's parameters (audio.input: one channel per
  /// listed device channel); 0 from it means "follows the connected input".
  std::function<uint32_t(const param_values&)> channels_of;
};

enum class param_type : uint8_t { real, integer, boolean, string, enumeration };

/// A parameter as a node type declares it. Numbers, booleans (0/1) and enumerations (choice
/// index) reach kernels as doubles; strings are configuration only.
struct param_info {
  std::string name;
  param_type type = param_type::real;
  double min = 0;
  double max = 1;
  double def = 0;
  std::string unit;
  std::string summary;
  std::vector<std::string> choices;  // enumeration only
  std::string def_string;            // string only
  bool live = true;                  // false: takes effect only when the graph is rebuilt
  bool persist = false;              // policy: every committed value is stored, asked or not
  /// Text only: the graph file may give a list, stored joined by this separator (empty: a
  /// plain string).
  std::string list_separator;
  /// Text only: judges a value beyond its type (a channel list's syntax); empty accepts all.
  std::function<std::string(const std::string&)> check_text;  // "" = accepted, else why not

  /// A change takes effect only when the graph is rebuilt (see nodes/core/describe.hpp).
  param_info on_rebuild() && {
    live = false;
    return std::move(*this);
  }
  /// A change reaches the running node (for text, which is configuration by default).
  param_info applied_live() && {
    live = true;
    return std::move(*this);
  }
};

/// Configuration values of one node, indexed like `node_info::params`.
struct param_values {
  std::vector<double> numbers;
  std::vector<std::string> strings;
};

/// Everything the system knows about a node type: the single source for validation, the
/// catalog (`studiograph nodes`), the gRPC descriptors and kernel construction.
struct node_info {
  std::string type;
  std::string summary;
  std::vector<port_info> ports;
  std::vector<param_info> params;
  bool needs_device = false;
  /// The kind of device `device:` names; empty: audio, or video for nodes with video ports.
  std::string device_kind;
  /// Device-bound audio nodes: the text parameter listing the device channels the node uses
  /// (nodes/core/channel_list.hpp), whether those are the device's inputs (audio.input) or
  /// outputs (audio.output), and the parameter saying what their device ports connect to.
  std::string device_channels_param;
  bool device_inputs = false;
  std::string connect_param;
  /// Accepts notes and triggers (kernel_event); gRPC Trigger and controllers may target it.
  bool accepts_events = false;
  /// Keeps audio history (delay lines, reverb tails, envelopes): an xrun disturbs it.
  bool keeps_history = false;
  std::function<std::unique_ptr<kernel>()> make;

  /// Index of parameter `name`, or -1.
  int param_index(std::string_view name) const;
  /// Default values for every parameter.
  param_values defaults() const;
};

/// A port after repeat families are expanded for concrete parameter values.
struct resolved_port {
  std::string name;
  port_dir dir;
  media_kind kind;
  uint32_t channels;
};

/// Expands port families (`in` with repeat_param `inputs` = 3 gives in1, in2, in3).
std::vector<resolved_port> resolve_ports(const node_info& info, const param_values& values);

/// The built-in node types.
class node_registry {
public:
  /// The process-wide registry holding every built-in node type.
  static const node_registry& builtin();

  void add(node_info info);
  const node_info* find(std::string_view type) const;
  const std::vector<node_info>& all() const { return types_; }

private:
  std::vector<node_info> types_;
};

} // namespace sg
