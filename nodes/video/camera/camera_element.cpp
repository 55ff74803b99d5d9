#include <filesystem>

#include "nodes/video/camera/camera.hpp"
#include "nodes/video/core/element.hpp"

namespace sg::video {

namespace {

class camera_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    const std::string& path = ctx.values.strings[cam_device];
    if (!std::filesystem::exists(path))
      return unexpected("no camera at '" + path + "' (parameter device)");
    make_bin(ctx.id);
    auto src = add("v4l2src", "src");
    if (!src)
      return unexpected(src.error());
    g_object_set(*src, "device", path.c_str(), nullptr);
    const auto& v = ctx.values.numbers;
    const int w = v[cam_width] > 0 ? static_cast<int>(v[cam_width]) : ctx.width;
    const int h = v[cam_height] > 0 ? static_cast<int>(v[cam_height]) : ctx.height;
    auto chain = format_chain(w, h, ctx.fps);
    if (!chain)
      return unexpected(chain.error());
    gst_element_link(*src, chain->head);
    return ghost(chain->tail, "src", "out");
  }
};

} // namespace

std::unique_ptr<element> make_camera_element() {
  return std::make_unique<camera_element>();
}

} // namespace sg::video
