#include <cmath>

#include "nodes/video/convert/convert.hpp"
#include "nodes/video/core/element.hpp"

namespace sg::video {

namespace {

class convert_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    const auto& v = ctx.values.numbers;
    auto pick = [](double x, int device) { return x > 0 ? static_cast<int>(x) : device; };
    make_bin(ctx.id);
    auto chain = format_chain(pick(v[cv_width], ctx.width), pick(v[cv_height], ctx.height),
                              pick(v[cv_fps], ctx.fps));
    if (!chain)
      return unexpected(chain.error());
    auto flip = add("videoflip", "flip");
    if (!flip)
      return unexpected(flip.error());
    flip_ = *flip;
    gst_element_link(chain->tail, flip_);
    (void)set(cv_flip, v[cv_flip], {});  // cannot fail
    if (auto in = ghost(chain->head, "sink", "in"); !in)
      return in;
    return ghost(flip_, "src", "out");
  }

  expected<void> set(int index, double value, const std::string&) override {
    static const char* methods[] = {"none", "clockwise", "rotate-180", "counterclockwise",
                                    "horizontal-flip", "vertical-flip"};
    if (index == cv_flip)
      gst_util_set_object_arg(G_OBJECT(flip_), "method", methods[std::lround(value)]);
    return {};
  }

private:
  GstElement* flip_ = nullptr;
};

} // namespace

std::unique_ptr<element> make_convert_element() {
  return std::make_unique<convert_element>();
}

} // namespace sg::video
