#pragma once

/// video.convert — scales, converts and re-times its input; flips or rotates it.
///
/// Ports:      in (video), out (video)
/// Parameters: width   int   0..7680 px  default 0 (the device's)  structural
///             height  int   0..7680 px  default 0 (the device's)  structural
///             fps     int   0..240      default 0 (the device's)  structural
///             flip    enum  none|clockwise|rotate-180|counterclockwise|horizontal|vertical
///                           default none  live (a rotation by 90 degrees renegotiates the size)
/// Elements:   videoconvert ! videoscale ! videorate ! capsfilter ! videoflip
/// Threads:    built on the device actor's thread; live flip from the device actor's thread.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum convert_param : int { cv_width, cv_height, cv_fps, cv_flip };

node_info convert_info();
std::unique_ptr<element> make_convert_element();

} // namespace sg::video
