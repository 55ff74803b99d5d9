#include "nodes/video/camera/camera.hpp"
#include "nodes/video/compositor/compositor.hpp"
#include "nodes/video/convert/convert.hpp"
#include "nodes/video/core/video_params.hpp"
#include "nodes/video/framesrc/framesrc.hpp"
#include "nodes/video/gst/gst.hpp"
#include "nodes/video/image/image.hpp"
#include "nodes/video/output/output.hpp"
#include "nodes/video/overlay/overlay.hpp"
#include "nodes/video/player/player.hpp"
#include "nodes/video/testsrc/testsrc.hpp"

namespace sg::video {

void add_video_nodes(node_registry& r) {
  r.add(testsrc_info());
  r.add(camera_info());
  r.add(player_info());
  r.add(image_info());
  r.add(compositor_info());
  r.add(overlay_info());
  r.add(convert_info());
  r.add(gst_info());
  r.add(output_info());
  r.add(framesrc_info());
}

} // namespace sg::video
