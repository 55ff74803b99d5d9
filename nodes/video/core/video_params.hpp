#pragma once

/// Video-specific builders on top of nodes/core/describe.hpp: every video port is `video` with
/// no channel count, and many parameters are pixel sizes where 0 means the device's.

#include <string>
#include <utility>

#include "nodes/core/describe.hpp"

namespace sg::video {

/// A video input; `repeat` names the integer parameter that makes it a family.
inline port_info video_in(std::string name, std::string repeat = {}) {
  return describe::input(std::move(name), media_kind::video, 0, std::move(repeat));
}

/// A video output.
inline port_info video_out(std::string name = "out") {
  return describe::output(std::move(name), media_kind::video);
}

/// A pixel size where 0 means "the video device's size"; it takes effect on a rebuild.
inline param_info size(std::string name, std::string summary) {
  return describe::integer(std::move(name), 0, 7680, 0, "px", std::move(summary)).on_rebuild();
}

/// Registers every video node type (called by node_registry::builtin()).
void add_video_nodes(node_registry& r);

} // namespace sg::video
