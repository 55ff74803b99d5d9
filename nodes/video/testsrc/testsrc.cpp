#include "nodes/video/testsrc/testsrc.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info testsrc_info() {
  using namespace describe;
  node_info info;
  info.type = "video.testsrc";
  info.summary = "Generated test picture (videotestsrc)";
  info.ports = {video_out()};
  info.params = {
    choice("pattern",
           {"smpte", "snow", "black", "white", "red", "green", "blue", "checkers", "circular",
            "ball", "solid", "gradient", "colors"},
           0, "Picture pattern"),
    integer("color", 0, 4294967295.0, 4294967295.0, "ARGB", "Colour of the solid pattern"),
    size("width", "Picture width (0: the device's)"),
    size("height", "Picture height (0: the device's)"),
    boolean("live", true, "Paced by the pipeline clock (false: as fast as possible)").on_rebuild(),
    integer("frames", 0, 1e9, 0, "frames", "Frames before end of stream (0: endless)").on_rebuild(),
  };
  return info;
}

} // namespace sg::video
