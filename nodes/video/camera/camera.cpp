#include "nodes/video/camera/camera.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info camera_info() {
  using namespace describe;
  node_info info;
  info.type = "video.camera";
  info.summary = "V4L2 camera (v4l2src)";
  info.ports = {video_out()};
  info.params = {
    text("device", "/dev/video0", "V4L2 device path"),
    size("width", "Picture width (0: the device's)"),
    size("height", "Picture height (0: the device's)"),
  };
  return info;
}

} // namespace sg::video
