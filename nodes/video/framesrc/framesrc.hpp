#pragma once

/// video.framesrc — frames that arrive as VideoFrame messages (from another domain or host)
/// played into this device's pipeline (GStreamer `appsrc`). The other half of a video
/// device with `sink: app`, whose frames leave as VideoFrame events.
///
/// Ports:      out (video)
/// Parameters: width   int  16..7680 px  default 320  structural (frames of another size are refused)
///             height  int  16..7680 px  default 240  structural
/// Format:     RGBA; the frame's timestamp is replaced by the pipeline's running time when it
///             is pushed (a live source), so frames from another clock play at once.
/// Elements:   appsrc (is-live, format time) ! videoconvert
/// Threads:    frames are pushed from the device actor's thread; appsrc's queue (at most
///             4 frames, older ones dropped) hands them to the streaming thread.

#include <cstdint>
#include <memory>
#include <string>

#include "nodes/core/expected.hpp"
#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum framesrc_param : int { fs_width, fs_height };

node_info framesrc_info();
std::unique_ptr<element> make_framesrc_element();

/// thread: device actor. Copies one RGBA frame into the node's appsrc; fails when `e` is not
/// a framesrc or the frame does not match its size.
expected<void> push_frame(element& e, const std::string& data, int width, int height, int stride);

} // namespace sg::video
