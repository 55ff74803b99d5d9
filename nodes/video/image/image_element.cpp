#include <filesystem>

#include "nodes/video/core/element.hpp"
#include "nodes/video/image/image.hpp"

namespace sg::video {

namespace {

class image_element final : public element {
public:
  bool build(const build_context& ctx, std::string& error) override {
    const std::string& path = ctx.values.strings[im_path];
    if (path.empty() || !std::filesystem::is_regular_file(path)) {
      error = path.empty() ? "no file given (parameter path)"
                           : "no such file '" + path + "' (parameter path)";
      return false;
    }
    make_bin(ctx.id);
    GstElement* src = add("filesrc", "file", error);
    GstElement* decode = src ? add("decodebin", "decode", error) : nullptr;
    freeze_ = decode ? add("imagefreeze", "freeze", error) : nullptr;
    if (!freeze_)
      return false;
    g_object_set(src, "location", path.c_str(), nullptr);
    gst_element_link(src, decode);
    const auto& v = ctx.values.numbers;
    const int w = v[im_width] > 0 ? static_cast<int>(v[im_width]) : ctx.width;
    const int h = v[im_height] > 0 ? static_cast<int>(v[im_height]) : ctx.height;
    GstElement *head = nullptr, *tail = nullptr;
    if (!format_chain(w, h, ctx.fps, head, tail, error))
      return false;
    gst_element_link(freeze_, head);
    g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), this);
    return ghost(tail, "src", "out", error);
  }

private:
  /// thread: streaming (decodebin). Links the decoded picture to imagefreeze.
  static void on_pad_added(GstElement*, GstPad* pad, gpointer data) {
    auto* self = static_cast<image_element*>(data);
    GstPad* sink = gst_element_get_static_pad(self->freeze_, "sink");
    if (!gst_pad_is_linked(sink))
      gst_pad_link(pad, sink);
    gst_object_unref(sink);
  }

  GstElement* freeze_ = nullptr;
};

} // namespace

std::unique_ptr<element> make_image_element() {
  return std::make_unique<image_element>();
}

} // namespace sg::video
