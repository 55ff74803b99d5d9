#pragma once

/// The one way to declare a node type's parameters and ports, shared by audio, video and control
/// nodes. Each builder returns a finished descriptor; the two modifiers say when a change takes
/// effect:
///
///   info.params = {
///     describe::integer("inputs", 1, 16, 2, "", "Number of inputs (in1..inN)").on_rebuild(),
///     describe::real("level", -120, 24, 0, "dB", "Master level"),
///     describe::choice("curve", {"linear", "log"}, 0, "Response curve"),
///     describe::text("text", "", "Overlay text").applied_live(),
///   };
///
/// Numbers, booleans and choices are live by default (a change reaches the running kernel or
/// element); text is configuration by default (it takes effect when the graph is rebuilt).

#include <string>
#include <utility>
#include <vector>

#include "nodes/core/node_info.hpp"

namespace sg::describe {

/// A real number in [min, max].
inline param_info real(std::string name, double min, double max, double def, std::string unit,
                       std::string summary) {
  param_info p;
  p.name = std::move(name);
  p.type = param_type::real;
  p.min = min;
  p.max = max;
  p.def = def;
  p.unit = std::move(unit);
  p.summary = std::move(summary);
  return p;
}

/// A whole number in [min, max].
inline param_info integer(std::string name, double min, double max, double def, std::string unit,
                          std::string summary) {
  param_info p = real(std::move(name), min, max, def, std::move(unit), std::move(summary));
  p.type = param_type::integer;
  return p;
}

/// true or false (0 or 1 to a kernel).
inline param_info boolean(std::string name, bool def, std::string summary) {
  param_info p = real(std::move(name), 0, 1, def ? 1.0 : 0.0, {}, std::move(summary));
  p.type = param_type::boolean;
  return p;
}

/// One of `choices` (its index to a kernel); `def` is the default's index.
inline param_info choice(std::string name, std::vector<std::string> choices, int def,
                         std::string summary) {
  const double last = choices.empty() ? 0.0 : static_cast<double>(choices.size() - 1);
  param_info p = real(std::move(name), 0, last, def, {}, std::move(summary));
  p.type = param_type::enumeration;
  p.choices = std::move(choices);
  return p;
}

/// Free text; configuration unless marked `applied_live()`.
inline param_info text(std::string name, std::string def, std::string summary) {
  param_info p = real(std::move(name), 0, 0, 0, {}, std::move(summary));
  p.type = param_type::string;
  p.def_string = std::move(def);
  p.live = false;
  return p;
}

/// A list of text items (a YAML sequence in the graph file, or one item), held joined by
/// `separator`; configuration unless marked `applied_live()`.
inline param_info text_list(std::string name, std::string def, std::string separator,
                            std::string summary) {
  param_info p = text(std::move(name), std::move(def), std::move(summary));
  p.list_separator = std::move(separator);
  return p;
}

/// A list of device channels, 1-based: `[1, 2]`, `1-2`, `3` or `1-2, 5` (see
/// nodes/core/channel_list.hpp); configuration: a change rebuilds the node.
param_info channel_list(std::string name, std::string def, std::string summary);

/// An input port; `channels` 0 follows what is connected; `repeat` names the integer
/// parameter that makes it a family `name1..nameN`.
inline port_info input(std::string name, media_kind kind, uint32_t channels = 0,
                       std::string repeat = {}) {
  return {std::move(name), port_dir::in, kind, channels, std::move(repeat)};
}

/// An output port; `channels` 0 follows the connected input.
inline port_info output(std::string name, media_kind kind, uint32_t channels = 0) {
  return {std::move(name), port_dir::out, kind, channels, {}};
}

} // namespace sg::describe
