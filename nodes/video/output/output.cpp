#include "nodes/video/output/output.hpp"

#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info output_info() {
  node_info info;
  info.type = "video.output";
  info.summary = "Shows, records or sends its input through a video device (its sink)";
  info.ports = {video_in("in")};
  info.needs_device = true;
  return info;
}

} // namespace sg::video
