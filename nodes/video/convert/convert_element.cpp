#include <cmath>

#include "nodes/video/convert/convert.hpp"
#include "nodes/video/core/element.hpp"

namespace sg::video {

namespace {

class convert_element final : public element {
public:
  bool build(const build_context& ctx, std::string& error) override {
    const auto& v = ctx.values.numbers;
    auto pick = [](double x, int device) { return x > 0 ? static_cast<int>(x) : device; };
    make_bin(ctx.id);
    GstElement *head = nullptr, *tail = nullptr;
    if (!format_chain(pick(v[cv_width], ctx.width), pick(v[cv_height], ctx.height),
                      pick(v[cv_fps], ctx.fps), head, tail, error))
      return false;
    flip_ = add("videoflip", "flip", error);
    if (!flip_)
      return false;
    gst_element_link(tail, flip_);
    set(cv_flip, v[cv_flip], {});
    return ghost(head, "sink", "in", error) && ghost(flip_, "src", "out", error);
  }

  std::optional<std::string> set(int index, double value, const std::string&) override {
    static const char* methods[] = {"none", "clockwise", "rotate-180", "counterclockwise",
                                    "horizontal-flip", "vertical-flip"};
    if (index == cv_flip)
      gst_util_set_object_arg(G_OBJECT(flip_), "method", methods[std::lround(value)]);
    return std::nullopt;
  }

private:
  GstElement* flip_ = nullptr;
};

} // namespace

std::unique_ptr<element> make_convert_element() {
  return std::make_unique<convert_element>();
}

} // namespace sg::video
