#pragma once

/// video.camera — a V4L2 camera (GStreamer `v4l2src`).
///
/// Ports:      out (video)
/// Parameters: device  string  default /dev/video0  structural
///             width   int     0..7680 px  default 0 (the device's)  structural
///             height  int     0..7680 px  default 0 (the device's)  structural
/// Elements:   v4l2src ! videoconvert ! videoscale ! videorate ! capsfilter
/// Errors:     a missing camera fails the graph apply naming the node and the device path.
/// Threads:    built on the device actor's thread; frames on v4l2src's streaming thread.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum camera_param : int { cam_device, cam_width, cam_height };

node_info camera_info();
std::unique_ptr<element> make_camera_element();

} // namespace sg::video
