#include "nodes/video/gst/gst.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info gst_info() {
  using namespace describe;
  node_info info;
  info.type = "video.gst";
  info.summary = "Any GStreamer fragment (gst-launch syntax); element properties as parameters";
  info.ports = {video_in("in"), video_out()};
  info.params = {text("pipeline", "identity", "gst-launch-1.0 fragment")};
  for (int i = 1; i <= gst_slots; ++i)
    info.params.push_back(
      text("property" + std::to_string(i), "", "Element property as element.property"));
  for (int i = 1; i <= gst_slots; ++i)
    info.params.push_back(real("value" + std::to_string(i), -1e12, 1e12, 0, "",
                               "Value of property" + std::to_string(i)));
  return info;
}

} // namespace sg::video
