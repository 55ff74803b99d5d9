#pragma once

/// Where a compositor layer lands: the box its parameters ask for and, after the fit mode,
/// the rectangle the picture covers and what is cut off the source. Pure arithmetic, shared
/// by the compositor element, the VideoLayout event and the tests.

namespace sg::video {

enum fit_mode : int { fit_stretch = 0, fit_contain = 1, fit_cover = 2 };

struct layer_rect {
  int x = 0, y = 0, width = 0, height = 0;
  bool operator==(const layer_rect&) const = default;
};

/// crop: pixels cut from each edge of the source (cover only).
struct layer_crop {
  int left = 0, top = 0, right = 0, bottom = 0;
  bool operator==(const layer_crop&) const = default;
};

struct layer_geometry {
  layer_rect box;   // x, y, width, height as asked (0 sizes: the output's)
  layer_rect rect;  // where the picture lands
  layer_crop crop;
};

/// `src_w`/`src_h` 0: the source size is not known yet; the picture fills the box.
layer_geometry resolve_layer(int x, int y, int width, int height, fit_mode fit, int out_w,
                             int out_h, int src_w, int src_h);

} // namespace sg::video
