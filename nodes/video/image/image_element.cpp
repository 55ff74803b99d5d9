#include <filesystem>

#include "nodes/video/core/element.hpp"
#include "nodes/video/image/image.hpp"

namespace sg::video {

namespace {

class image_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    const std::string& path = ctx.values.strings[im_path];
    if (path.empty())
      return unexpected("no file given (parameter path)");
    if (!std::filesystem::is_regular_file(path))
      return unexpected("no such file '" + path + "' (parameter path)");
    make_bin(ctx.id);
    auto src = add("filesrc", "file");
    auto decode = src ? add("decodebin", "decode") : src;
    auto freeze = decode ? add("imagefreeze", "freeze") : decode;
    if (!freeze)
      return unexpected(freeze.error());
    freeze_ = *freeze;
    g_object_set(*src, "location", path.c_str(), nullptr);
    gst_element_link(*src, *decode);
    const auto& v = ctx.values.numbers;
    const int w = v[im_width] > 0 ? static_cast<int>(v[im_width]) : ctx.width;
    const int h = v[im_height] > 0 ? static_cast<int>(v[im_height]) : ctx.height;
    auto chain = format_chain(w, h, ctx.fps);
    if (!chain)
      return unexpected(chain.error());
    gst_element_link(freeze_, chain->head);
    g_signal_connect(*decode, "pad-added", G_CALLBACK(on_pad_added), this);
    return ghost(chain->tail, "src", "out");
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
