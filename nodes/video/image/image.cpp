#include "nodes/video/image/image.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info image_info() {
  using namespace describe;
  node_info info;
  info.type = "video.image";
  info.summary = "A still image as video (PNG, JPEG)";
  info.ports = {video_out()};
  info.params = {
    text("path", "", "Image file path"),
    size("width", "Picture width (0: the device's)"),
    size("height", "Picture height (0: the device's)"),
  };
  return info;
}

} // namespace sg::video
