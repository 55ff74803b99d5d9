#pragma once

/// video.compositor — mixes its inputs as layers into one picture (GStreamer `compositor`).
///
/// Ports:      in1..inN (video; N = inputs), out (video)
/// Parameters: inputs      int   1..8              default 2        structural (sets N)
///             width       int   0..7680 px        default 0 (the device's)  structural
///             height      int   0..7680 px        default 0 (the device's)  structural
///             background  enum  black|white|transparent|checker  default black  live
///             format      enum  I420|AYUV|BGRA|RGBA  default I420  structural: the pixel
///                         format the layers are blended in (transparent backgrounds need one
///                         with alpha); sources are converted to it once, at their input
///             per input i (1..8), all live:
///             x<i>, y<i>            int  -7680..7680 px  default 0   top-left of the layer box
///             width<i>, height<i>   int  0..7680 px      default 0 (the output's size)
///             alpha<i>              double 0..1          default 1
///             zorder<i>             int  0..1000         default i (later inputs on top)
///             visible<i>            bool                 default true
///             fit<i>                enum stretch|contain|cover  default stretch
///                 stretch: the picture fills the box; contain: the whole picture, centred,
///                 letterboxed; cover: the box filled, the overflow cut off (centred).
/// Elements:   per input videoconvert ! capsfilter (format) ! videocrop (cover) !
///             compositor.sink_<i-1>; compositor ! capsfilter (size, rate, format)
/// Events:     VideoLayout (the resolved rectangles) after every change that moved a layer,
///             stamped with that change's origin and node revision (actors/devices/video_device).
/// Threads:    built on the device actor's thread; mixing on the compositor's streaming
///             thread; live changes set pad properties from the device actor's thread (the
///             compositor reads them under the pad's object lock for each output frame, so a
///             change shows on the next frame).

#include <memory>
#include <vector>

#include "nodes/core/node_info.hpp"
#include "nodes/video/compositor/layout.hpp"

namespace sg::video {

class element;

constexpr int max_layers = 8;
enum compositor_param : int { cp_inputs, cp_width, cp_height, cp_background, cp_format,
                              cp_first_layer };
/// Offsets of a layer's parameters from cp_first_layer + (i - 1) * layer_params.
enum layer_param : int { lp_x, lp_y, lp_width, lp_height, lp_alpha, lp_zorder, lp_visible, lp_fit,
                         layer_params };

inline int layer_index(int input, layer_param p) {
  return cp_first_layer + (input - 1) * layer_params + p;
}

struct layer_state {
  int input = 0;
  layer_geometry geometry;
  double alpha = 1;
  int zorder = 0;
  bool visible = true;
  fit_mode fit = fit_stretch;
  int source_width = 0, source_height = 0;
};

struct compositor_layout {
  int width = 0, height = 0;
  std::vector<layer_state> layers;
};

node_info compositor_info();
std::unique_ptr<element> make_compositor_element();
/// The layout a compositor element draws now; empty for other elements.
bool layout_of(const element& e, compositor_layout& out);

} // namespace sg::video
