#pragma once

/// Small builders for video node descriptors: every video port is `video` with no channel
/// count, and most parameters are pixel sizes, positions or choices.

#include "nodes/core/node_info.hpp"

namespace sg::video {

inline port_info video_in(std::string name, std::string repeat = {}) {
  return {std::move(name), port_dir::in, media_kind::video, 0, std::move(repeat)};
}

inline port_info video_out(std::string name = "out") {
  return {std::move(name), port_dir::out, media_kind::video, 0, {}};
}

inline param_info real(std::string name, double min, double max, double def, std::string unit,
                       std::string summary, bool live = true) {
  param_info p{std::move(name), param_type::real, min, max, def, std::move(unit),
               std::move(summary)};
  p.live = live;
  return p;
}

inline param_info integer(std::string name, double min, double max, double def,
                          std::string unit, std::string summary, bool live = true) {
  param_info p = real(std::move(name), min, max, def, std::move(unit), std::move(summary), live);
  p.type = param_type::integer;
  return p;
}

inline param_info boolean(std::string name, bool def, std::string summary, bool live = true) {
  param_info p{std::move(name), param_type::boolean, 0, 1, def ? 1.0 : 0.0, {},
               std::move(summary)};
  p.live = live;
  return p;
}

inline param_info choice(std::string name, std::vector<std::string> choices, int def,
                         std::string summary, bool live = true) {
  param_info p{std::move(name), param_type::enumeration, 0,
               static_cast<double>(choices.size() - 1), static_cast<double>(def), {},
               std::move(summary)};
  p.choices = std::move(choices);
  p.live = live;
  return p;
}

inline param_info text(std::string name, std::string def, std::string summary,
                       bool live = false) {
  param_info p{std::move(name), param_type::string, 0, 0, 0, {}, std::move(summary)};
  p.def_string = std::move(def);
  p.live = live;
  return p;
}

/// A pixel size where 0 means "the video device's size".
inline param_info size(std::string name, std::string summary) {
  return integer(std::move(name), 0, 7680, 0, "px", std::move(summary), false);
}

/// Registers every video node type (called by node_registry::builtin()).
void add_video_nodes(node_registry& r);

} // namespace sg::video
