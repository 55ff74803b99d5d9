#include "nodes/video/compositor/compositor.hpp"

#include "nodes/core/describe.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg::video {

node_info compositor_info() {
  using namespace describe;
  node_info info;
  info.type = "video.compositor";
  info.summary = "Layers its inputs into one picture (position, size, alpha, z-order, fit)";
  info.ports = {video_in("in", "inputs"), video_out()};
  info.params = {
    integer("inputs", 1, max_layers, 2, "", "Number of inputs (in1..inN)").on_rebuild(),
    size("width", "Output width (0: the device's)"),
    size("height", "Output height (0: the device's)"),
    choice("background", {"black", "white", "transparent", "checker"}, 0,
           "What shows where no layer covers"),
    choice("format", {"I420", "AYUV", "BGRA", "RGBA"}, 0, "Pixel format layers are blended in")
      .on_rebuild(),
  };
  for (int i = 1; i <= max_layers; ++i) {
    const std::string n = std::to_string(i);
    info.params.push_back(integer("x" + n, -7680, 7680, 0, "px", "Layer " + n + " left"));
    info.params.push_back(integer("y" + n, -7680, 7680, 0, "px", "Layer " + n + " top"));
    info.params.push_back(
      integer("width" + n, 0, 7680, 0, "px", "Layer " + n + " width (0: the output's)"));
    info.params.push_back(
      integer("height" + n, 0, 7680, 0, "px", "Layer " + n + " height (0: the output's)"));
    info.params.push_back(real("alpha" + n, 0, 1, 1, "", "Layer " + n + " opacity"));
    info.params.push_back(
      integer("zorder" + n, 0, 1000, i, "", "Layer " + n + " stacking (higher on top)"));
    info.params.push_back(boolean("visible" + n, true, "Layer " + n + " shown"));
    info.params.push_back(choice("fit" + n, {"stretch", "contain", "cover"}, fit_stretch,
                                 "How layer " + n + " fits its box"));
  }
  return info;
}

} // namespace sg::video
