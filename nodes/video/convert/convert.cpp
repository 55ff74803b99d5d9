#include "nodes/video/convert/convert.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info convert_info() {
  using namespace describe;
  node_info info;
  info.type = "video.convert";
  info.summary = "Scale, convert, change rate, flip or rotate";
  info.ports = {video_in("in"), video_out()};
  info.params = {
    size("width", "Output width (0: the device's)"),
    size("height", "Output height (0: the device's)"),
    integer("fps", 0, 240, 0, "fps", "Output frame rate (0: the device's)").on_rebuild(),
    choice("flip",
           {"none", "clockwise", "rotate-180", "counterclockwise", "horizontal", "vertical"}, 0,
           "Flip or rotate"),
  };
  return info;
}

} // namespace sg::video
