#include <cmath>

#include "nodes/video/core/element.hpp"
#include "nodes/video/overlay/overlay.hpp"

namespace sg::video {

namespace {

class overlay_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    make_bin(ctx.id);
    auto text = add("textoverlay", "text");
    if (!text)
      return unexpected(text.error());
    text_ = *text;
    g_object_set(text_, "font-desc", ctx.values.strings[ov_font].c_str(), nullptr);
    for (int i = 0; i < static_cast<int>(ctx.values.numbers.size()); ++i)
      (void)set(i, ctx.values.numbers[i], ctx.values.strings[i]);  // cannot fail
    if (auto in = ghost(text_, "video_sink", "in"); !in)
      return in;
    return ghost(text_, "src", "out");
  }

  expected<void> set(int index, double value, const std::string& s) override {
    static const char* halign[] = {"left", "center", "right"};
    static const char* valign[] = {"top", "center", "bottom"};
    const int n = static_cast<int>(std::lround(value));
    switch (index) {
      case ov_text: g_object_set(text_, "text", s.c_str(), nullptr); break;
      case ov_halign: gst_util_set_object_arg(G_OBJECT(text_), "halignment", halign[n]); break;
      case ov_valign: gst_util_set_object_arg(G_OBJECT(text_), "valignment", valign[n]); break;
      case ov_xpad: g_object_set(text_, "xpad", n, nullptr); break;
      case ov_ypad: g_object_set(text_, "ypad", n, nullptr); break;
      case ov_color:
        g_object_set(text_, "color", static_cast<guint>(std::llround(value)), nullptr);
        break;
      case ov_shaded: g_object_set(text_, "shaded-background", n != 0, nullptr); break;
      default: break;
    }
    return {};
  }

private:
  GstElement* text_ = nullptr;
};

} // namespace

std::unique_ptr<element> make_overlay_element() {
  return std::make_unique<overlay_element>();
}

} // namespace sg::video
