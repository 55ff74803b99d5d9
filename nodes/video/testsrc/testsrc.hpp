#pragma once

/// video.testsrc — a generated test picture (GStreamer `videotestsrc`).
///
/// Ports:      out (video)
/// Parameters: pattern  enum    smpte|snow|black|white|red|green|blue|checkers|circular|ball|
///                               solid|gradient|colors      default smpte  live
///             color    int     0..4294967295 (0xAARRGGBB) default 0xFFFFFFFF  live (solid)
///             width    int     0..7680 px   default 0 (the device's)  structural
///             height   int     0..7680 px   default 0 (the device's)  structural
///             live     bool    default true: frames at the device rate on the pipeline clock;
///                              false: as fast as downstream takes them (benchmarks) structural
///             frames   int     0..10^9      default 0 (endless); then end of stream  structural
/// Elements:   videotestsrc ! capsfilter (width, height, the device's fps)
/// Threads:    built on the device actor's thread; frames on GStreamer's streaming thread;
///             live changes from the device actor's thread.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum testsrc_param : int { tp_pattern, tp_color, tp_width, tp_height, tp_live, tp_frames };

node_info testsrc_info();
std::unique_ptr<element> make_testsrc_element();

} // namespace sg::video
