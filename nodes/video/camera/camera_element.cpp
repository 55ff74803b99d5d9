#include <filesystem>

#include "nodes/video/camera/camera.hpp"
#include "nodes/video/core/element.hpp"

namespace sg::video {

namespace {

class camera_element final : public element {
public:
  bool build(const build_context& ctx, std::string& error) override {
    const std::string& path = ctx.values.strings[cam_device];
    if (!std::filesystem::exists(path)) {
      error = "no camera at '" + path + "' (parameter device)";
      return false;
    }
    make_bin(ctx.id);
    GstElement* src = add("v4l2src", "src", error);
    if (!src)
      return false;
    g_object_set(src, "device", path.c_str(), nullptr);
    const auto& v = ctx.values.numbers;
    const int w = v[cam_width] > 0 ? static_cast<int>(v[cam_width]) : ctx.width;
    const int h = v[cam_height] > 0 ? static_cast<int>(v[cam_height]) : ctx.height;
    GstElement *head = nullptr, *tail = nullptr;
    if (!format_chain(w, h, ctx.fps, head, tail, error))
      return false;
    gst_element_link(src, head);
    return ghost(tail, "src", "out", error);
  }
};

} // namespace

std::unique_ptr<element> make_camera_element() {
  return std::make_unique<camera_element>();
}

} // namespace sg::video
