#pragma once

/// video.image — a still image (PNG, JPEG...) shown as a video stream.
///
/// Ports:      out (video)
/// Parameters: path    string  required  structural
///             width   int     0..7680 px default 0 (the device's)  structural
///             height  int     0..7680 px default 0 (the device's)  structural
/// Elements:   filesrc ! decodebin ! imagefreeze ! videoconvert ! videoscale ! videorate !
///             capsfilter
/// Errors:     a missing file fails the graph apply naming the node and the path.
/// Threads:    built on the device actor's thread; frames on imagefreeze's streaming thread.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum image_param : int { im_path, im_width, im_height };

node_info image_info();
std::unique_ptr<element> make_image_element();

} // namespace sg::video
