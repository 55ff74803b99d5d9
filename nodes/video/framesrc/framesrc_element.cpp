#include <gst/app/gstappsrc.h>

#include <cstring>

#include "nodes/video/core/element.hpp"
#include "nodes/video/framesrc/framesrc.hpp"

namespace sg::video {

namespace {

class framesrc_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    width_ = static_cast<int>(ctx.values.numbers[fs_width]);
    height_ = static_cast<int>(ctx.values.numbers[fs_height]);
    fps_ = ctx.fps;
    make_bin(ctx.id);
    auto src = add("appsrc", "frames");
    auto conv = src ? add("videoconvert", "convert") : src;
    if (!conv)
      return unexpected(conv.error());
    src_ = *src;
    GstCaps* caps = raw_caps(width_, height_, ctx.fps, "RGBA");
    g_object_set(src_, "caps", caps, "is-live", TRUE, "format", GST_FORMAT_TIME,
                 "do-timestamp", TRUE, "max-buffers", static_cast<guint64>(4), "leaky-type", 2,
                 nullptr);
    gst_caps_unref(caps);
    gst_element_link(src_, *conv);
    return ghost(*conv, "src", "out");
  }

  expected<void> push(const std::string& data, int width, int height, int stride) {
    if (width != width_ || height != height_)
      return unexpected("frame is " + std::to_string(width) + "x" + std::to_string(height) +
                        ", expected " + std::to_string(width_) + "x" + std::to_string(height_));
    const size_t row = static_cast<size_t>(width) * 4;
    if (stride < static_cast<int>(row) || data.size() < static_cast<size_t>(stride) * height)
      return unexpected("frame data is shorter than its size says");
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, row * height, nullptr);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    for (int y = 0; y < height; ++y)
      std::memcpy(map.data + y * row, data.data() + static_cast<size_t>(y) * stride, row);
    gst_buffer_unmap(buf, &map);
    GST_BUFFER_DURATION(buf) = gst_util_uint64_scale_int(GST_SECOND, 1, fps_);
    gst_app_src_push_buffer(GST_APP_SRC(src_), buf);
    return {};
  }

private:
  GstElement* src_ = nullptr;
  int width_ = 0, height_ = 0, fps_ = 30;
};

} // namespace

std::unique_ptr<element> make_framesrc_element() {
  return std::make_unique<framesrc_element>();
}

expected<void> push_frame(element& e, const std::string& data, int width, int height, int stride) {
  auto* f = dynamic_cast<framesrc_element*>(&e);
  if (!f)
    return unexpected("not a video.framesrc node");
  return f->push(data, width, height, stride);
}

} // namespace sg::video
