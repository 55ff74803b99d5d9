#include <cmath>

#include "nodes/video/core/element.hpp"
#include "nodes/video/testsrc/testsrc.hpp"

namespace sg::video {

namespace {

/// videotestsrc's nick for each choice of `pattern`.
const char* pattern_nick(int choice) {
  static const char* nicks[] = {"smpte",    "snow",        "black",  "white", "red",
                                "green",    "blue",        "checkers-8", "circular", "ball",
                                "solid-color", "gradient", "colors"};
  return nicks[choice];
}

class testsrc_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    const auto& v = ctx.values.numbers;
    make_bin(ctx.id);
    auto src = add("videotestsrc", "src");
    auto caps = src ? add("capsfilter", "caps") : src;
    if (!caps)
      return unexpected(caps.error());
    src_ = *src;
    const int w = v[tp_width] > 0 ? static_cast<int>(v[tp_width]) : ctx.width;
    const int h = v[tp_height] > 0 ? static_cast<int>(v[tp_height]) : ctx.height;
    g_object_set(src_, "is-live", v[tp_live] >= 1 ? TRUE : FALSE, nullptr);
    if (v[tp_frames] > 0)
      g_object_set(src_, "num-buffers", static_cast<int>(v[tp_frames]), nullptr);
    (void)set(tp_pattern, v[tp_pattern], {});  // cannot fail
    (void)set(tp_color, v[tp_color], {});
    GstCaps* c = raw_caps(w, h, ctx.fps);
    g_object_set(*caps, "caps", c, nullptr);
    gst_caps_unref(c);
    gst_element_link(src_, *caps);
    return ghost(*caps, "src", "out");
  }

  expected<void> set(int index, double value, const std::string&) override {
    if (index == tp_pattern)
      gst_util_set_object_arg(G_OBJECT(src_), "pattern",
                              pattern_nick(static_cast<int>(std::lround(value))));
    else if (index == tp_color)
      g_object_set(src_, "foreground-color", static_cast<guint>(std::llround(value)), nullptr);
    return {};
  }

private:
  GstElement* src_ = nullptr;
};

} // namespace

std::unique_ptr<element> make_testsrc_element() {
  return std::make_unique<testsrc_element>();
}

} // namespace sg::video
