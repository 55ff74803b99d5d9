#include "nodes/video/compositor/layout.hpp"

#include <algorithm>
#include <cmath>

namespace sg::video {

layer_geometry resolve_layer(int x, int y, int width, int height, fit_mode fit, int out_w,
                             int out_h, int src_w, int src_h) {
  layer_geometry g;
  g.box = {x, y, width > 0 ? width : out_w, height > 0 ? height : out_h};
  g.rect = g.box;
  if (fit == fit_stretch || src_w <= 0 || src_h <= 0 || g.box.width <= 0 || g.box.height <= 0)
    return g;
  const double sx = static_cast<double>(g.box.width) / src_w;
  const double sy = static_cast<double>(g.box.height) / src_h;
  if (fit == fit_contain) {
    const double s = std::min(sx, sy);
    const int w = static_cast<int>(std::lround(src_w * s));
    const int h = static_cast<int>(std::lround(src_h * s));
    g.rect = {x + (g.box.width - w) / 2, y + (g.box.height - h) / 2, w, h};
    return g;
  }
  // cover: scale so the box is filled, cut what overflows, centred.
  const double s = std::max(sx, sy);
  const int keep_w = std::clamp(static_cast<int>(std::lround(g.box.width / s)), 1, src_w);
  const int keep_h = std::clamp(static_cast<int>(std::lround(g.box.height / s)), 1, src_h);
  g.crop.left = (src_w - keep_w) / 2;
  g.crop.right = src_w - keep_w - g.crop.left;
  g.crop.top = (src_h - keep_h) / 2;
  g.crop.bottom = src_h - keep_h - g.crop.top;
  return g;
}

} // namespace sg::video
