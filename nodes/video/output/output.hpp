#pragma once

/// video.output — the picture a video device shows, records or sends (`device:` in the graph).
///
/// Ports:      in (video)
/// Parameters: none
/// The device's `sink` decides where the picture goes (hardware/video_pipeline.cpp):
///   window  autovideosink (only when a display exists: DISPLAY or WAYLAND_DISPLAY)
///   file    VP8 (vp8enc) or MJPEG (jpegenc) in Matroska (matroskamux) at `path`
///   rtp     VP8 (rtpvp8pay, payload 96) or JPEG (rtpjpegpay, payload 26) to udp `host`:`port`
///   null    fakesink (clocked; nothing kept)
///   app     appsink: every frame becomes a VideoFrame event (RGBA) on the hub
/// In front of every sink: videoconvert ! videoscale ! videorate ! capsfilter (the device's
/// width, height and fps), so any input is shown at the device's format.
/// One video.output per video device.

#include "nodes/core/node_info.hpp"

namespace sg::video {

node_info output_info();

} // namespace sg::video
