#include "nodes/video/overlay/overlay.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info overlay_info() {
  using namespace describe;
  node_info info;
  info.type = "video.overlay";
  info.summary = "Text over its input (textoverlay)";
  info.ports = {video_in("in"), video_out()};
  info.params = {
    text("text", "", "Text to draw").applied_live(),
    text("font", "Sans 24", "Pango font description"),
    choice("halign", {"left", "center", "right"}, 0, "Horizontal alignment"),
    choice("valign", {"top", "center", "bottom"}, 0, "Vertical alignment"),
    integer("xpad", 0, 4000, 25, "px", "Horizontal padding"),
    integer("ypad", 0, 4000, 25, "px", "Vertical padding"),
    integer("color", 0, 4294967295.0, 4294967295.0, "ARGB", "Text colour"),
    boolean("shaded", false, "Dark box behind the text"),
  };
  return info;
}

} // namespace sg::video
