#pragma once

/// video.gst — any GStreamer fragment as a node, written like a gst-launch-1.0 line
/// (`videobalance name=b saturation=0 ! videoflip method=clockwise`).
///
/// Ports:      in (video; the fragment's unlinked sink pad, if it has one)
///             out (video; the fragment's unlinked source pad)
/// Parameters: pipeline     string  the fragment                        structural
///             property1..4 string  "element.property" (element by its name=) structural
///             value1..4    double  -1e12..1e12, the value of propertyN  live
///                 Integers, booleans (0/1) and enums (their number) are converted to the
///                 property's type and checked against its range when the graph is applied
///                 (an error names the node, element and property) and on every live change
///                 (a value out of range is refused: the picture does not change and a
///                 VideoBusMessage KIND_REFUSED says why). A property that GStreamer marks as
///                 not changeable while playing is refused as a live change.
/// Elements:   gst_parse_bin_from_description of `pipeline`, inside a bin named after the node.
/// Errors:     a fragment that does not parse or names a missing element, an unknown element
///             or property in propertyN: the graph apply fails naming the node.
/// Threads:    built on the device actor's thread; live values set from it.

#include <memory>

#include "nodes/core/node_info.hpp"

namespace sg::video {

class element;

constexpr int gst_slots = 4;
enum gst_param : int { gp_pipeline, gp_first_property };
inline int gst_property_index(int slot) { return gp_first_property + slot - 1; }
inline int gst_value_index(int slot) { return gp_first_property + gst_slots + slot - 1; }

node_info gst_info();
std::unique_ptr<element> make_gst_element();

} // namespace sg::video
