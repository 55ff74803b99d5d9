#pragma once

/// video.player — plays the video of a media file (GStreamer `uridecodebin`), optionally
/// looping.
///
/// Ports:      out (video)
/// Parameters: path    string  required (a file path or a URI)  structural
///             loop    bool    default true  live: at the end, start again
///             width   int     0..7680 px default 0 (the device's)  structural
///             height  int     0..7680 px default 0 (the device's)  structural
/// Elements:   uridecodebin ! videoconvert ! videoscale ! videorate ! capsfilter
/// Looping:    the end of stream is held back at the node's output; the device actor then
///             seeks the decoder back to the start and offsets the output by the running time
///             played so far, so timestamps keep growing and the compositor sees no gap.
/// Errors:     a missing file fails the graph apply naming the node and the path.
/// Threads:    built and re-seeked on the device actor's thread; decoding on GStreamer's.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum player_param : int { pl_path, pl_loop, pl_width, pl_height };

node_info player_info();
std::unique_ptr<element> make_player_element();

} // namespace sg::video
