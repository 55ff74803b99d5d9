#include "nodes/video/player/player.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info player_info() {
  using namespace describe;
  node_info info;
  info.type = "video.player";
  info.summary = "Plays a media file's video (uridecodebin), looping";
  info.ports = {video_out()};
  info.params = {
    text("path", "", "Media file path or URI"),
    boolean("loop", true, "Start again at the end"),
    size("width", "Picture width (0: the device's)"),
    size("height", "Picture height (0: the device's)"),
  };
  return info;
}

} // namespace sg::video
