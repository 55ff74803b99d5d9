#pragma once

/// video.overlay — text drawn over its input (GStreamer `textoverlay`, Pango).
///
/// Ports:      in (video), out (video)
/// Parameters: text     string  default ""            live (applied from the node's echo)
///             font     string  default "Sans 24"     structural (Pango font description)
///             halign   enum    left|center|right     default left  live
///             valign   enum    top|center|bottom     default top   live
///             xpad     int     0..4000 px            default 25    live
///             ypad     int     0..4000 px            default 25    live
///             color    int     0..4294967295 ARGB    default 0xFFFFFFFF  live
///             shaded   bool    default false (a dark box behind the text)  live
/// Elements:   textoverlay (package gstreamer1.0-x)
/// Threads:    built on the device actor's thread; drawing on the streaming thread; live
///             changes from the device actor's thread.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

enum overlay_param : int { ov_text, ov_font, ov_halign, ov_valign, ov_xpad, ov_ypad, ov_color,
                           ov_shaded };

node_info overlay_info();
std::unique_ptr<element> make_overlay_element();

} // namespace sg::video
