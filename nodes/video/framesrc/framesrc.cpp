#include "nodes/video/framesrc/framesrc.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info framesrc_info() {
  using namespace describe;
  node_info info;
  info.type = "video.framesrc";
  info.summary = "Frames received as VideoFrame messages (appsrc)";
  info.ports = {video_out()};
  info.params = {
    integer("width", 16, 7680, 320, "px", "Frame width").on_rebuild(),
    integer("height", 16, 7680, 240, "px", "Frame height").on_rebuild(),
  };
  return info;
}

} // namespace sg::video
