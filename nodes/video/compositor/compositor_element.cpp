#include <cmath>

#include "nodes/video/compositor/compositor.hpp"
#include "nodes/video/core/element.hpp"

namespace sg::video {

namespace {

const char* background_nick(int choice) {
  static const char* nicks[] = {"black", "white", "transparent", "checker"};
  return nicks[choice];
}

class compositor_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    values_ = ctx.values.numbers;
    const int inputs = static_cast<int>(values_[cp_inputs]);
    width_ = values_[cp_width] > 0 ? static_cast<int>(values_[cp_width]) : ctx.width;
    height_ = values_[cp_height] > 0 ? static_cast<int>(values_[cp_height]) : ctx.height;
    make_bin(ctx.id);
    auto mixer = add("compositor", "mix");
    auto caps = mixer ? add("capsfilter", "size") : mixer;
    if (!caps)
      return unexpected(caps.error());
    mixer_ = *mixer;
    static const char* formats[] = {"I420", "AYUV", "BGRA", "RGBA"};
    const char* format = formats[static_cast<int>(values_[cp_format])];
    GstCaps* c = raw_caps(width_, height_, ctx.fps, format);
    g_object_set(*caps, "caps", c, nullptr);
    gst_caps_unref(c);
    gst_element_link(mixer_, *caps);
    // Each input arrives in the blending format: videoconvert is passthrough for a source that
    // can produce it (its caps query asks for it), and converts once otherwise. Left to
    // itself, a source would negotiate whatever format is first in its list (often a
    // high-depth one) and the compositor would convert every frame of every input.
    GstCaps* input_caps = raw_caps(0, 0, 0, format);
    for (int i = 1; i <= inputs; ++i) {
      if (auto added = add_input(i, input_caps); !added) {
        gst_caps_unref(input_caps);
        return added;
      }
    }
    gst_caps_unref(input_caps);
    (void)set(cp_background, values_[cp_background], {});  // cannot fail
    for (int i = 1; i <= inputs; ++i)
      apply_layer(i);
    return ghost(*caps, "src", "out");
  }

  ~compositor_element() override {
    for (auto& l : layers_)
      gst_object_unref(l.pad);
  }

  expected<void> set(int index, double value, const std::string&) override {
    if (index < 0 || index >= static_cast<int>(values_.size()))
      return unexpected("no such parameter");
    values_[index] = value;
    if (index == cp_background) {
      gst_util_set_object_arg(G_OBJECT(mixer_), "background",
                              background_nick(static_cast<int>(std::lround(value))));
      return {};
    }
    if (index >= cp_first_layer) {
      const int input = (index - cp_first_layer) / layer_params + 1;
      if (input <= static_cast<int>(layers_.size()))
        apply_layer(input);
    }
    return {};
  }

  bool poll() override {
    bool changed = false;
    for (size_t i = 0; i < layers_.size(); ++i) {
      auto& l = layers_[i];
      GstPad* sink = gst_element_get_static_pad(l.crop, "sink");
      GstCaps* caps = gst_pad_get_current_caps(sink);
      gst_object_unref(sink);
      if (!caps)
        continue;
      int w = 0, h = 0;
      GstStructure* s = gst_caps_get_structure(caps, 0);
      gst_structure_get_int(s, "width", &w);
      gst_structure_get_int(s, "height", &h);
      gst_caps_unref(caps);
      if (w != l.source_width || h != l.source_height) {
        l.source_width = w, l.source_height = h;
        apply_layer(static_cast<int>(i) + 1);
        changed = true;
      }
    }
    return changed;
  }

  void layout(compositor_layout& out) const {
    out.width = width_;
    out.height = height_;
    out.layers.clear();
    for (size_t i = 0; i < layers_.size(); ++i) {
      const int input = static_cast<int>(i) + 1;
      layer_state s;
      s.input = input;
      s.geometry = geometry(input);
      s.alpha = values_[layer_index(input, lp_alpha)];
      s.zorder = static_cast<int>(values_[layer_index(input, lp_zorder)]);
      s.visible = values_[layer_index(input, lp_visible)] >= 1;
      s.fit = static_cast<fit_mode>(std::lround(values_[layer_index(input, lp_fit)]));
      s.source_width = layers_[i].source_width;
      s.source_height = layers_[i].source_height;
      out.layers.push_back(s);
    }
  }

private:
  struct layer {
    GstElement* crop = nullptr;
    GstPad* pad = nullptr;  // the compositor's request pad (a reference we hold)
    int source_width = 0, source_height = 0;
    layer_crop crop_now;  // what the crop element cuts now
  };

  /// Input `i` (1-based): videoconvert ! capsfilter (`input_caps`) ! videocrop into a request
  /// pad of the compositor, its sink ghosted as "in<i>".
  expected<void> add_input(int i, GstCaps* input_caps) {
    const std::string n = std::to_string(i);
    auto conv = add("videoconvert", "convert" + n);
    auto fmt = conv ? add("capsfilter", "format" + n) : conv;
    auto crop = fmt ? add("videocrop", "crop" + n) : fmt;
    if (!crop)
      return unexpected(crop.error());
    layer l;
    l.crop = *crop;
    g_object_set(*fmt, "caps", input_caps, nullptr);
    gst_element_link_many(*conv, *fmt, l.crop, nullptr);
    GstPad* crop_src = gst_element_get_static_pad(l.crop, "src");
    l.pad = gst_element_request_pad_simple(mixer_, "sink_%u");
    gst_pad_link(crop_src, l.pad);
    gst_object_unref(crop_src);
    layers_.push_back(l);
    return ghost(*conv, "sink", "in" + n);
  }

  layer_geometry geometry(int input) const {
    auto v = [&](layer_param p) { return static_cast<int>(values_[layer_index(input, p)]); };
    const auto& l = layers_[input - 1];
    return resolve_layer(v(lp_x), v(lp_y), v(lp_width), v(lp_height),
                         static_cast<fit_mode>(v(lp_fit)), width_, height_, l.source_width,
                         l.source_height);
  }

  /// Pushes one layer's resolved geometry to its crop and compositor pad. The crop changes
  /// only when it differs: a new crop renegotiates the input's size.
  void apply_layer(int input) {
    auto& l = layers_[input - 1];
    const auto g = geometry(input);
    const bool visible = values_[layer_index(input, lp_visible)] >= 1;
    if (!(g.crop == l.crop_now)) {
      g_object_set(l.crop, "left", g.crop.left, "right", g.crop.right, "top", g.crop.top,
                   "bottom", g.crop.bottom, nullptr);
      l.crop_now = g.crop;
    }
    g_object_set(l.pad, "xpos", g.rect.x, "ypos", g.rect.y, "width", g.rect.width, "height",
                 g.rect.height, "alpha", visible ? values_[layer_index(input, lp_alpha)] : 0.0,
                 "zorder", static_cast<guint>(values_[layer_index(input, lp_zorder)]), nullptr);
  }

  std::vector<double> values_;
  std::vector<layer> layers_;
  GstElement* mixer_ = nullptr;
  int width_ = 0, height_ = 0;
};

} // namespace

std::unique_ptr<element> make_compositor_element() {
  return std::make_unique<compositor_element>();
}

bool layout_of(const element& e, compositor_layout& out) {
  auto* c = dynamic_cast<const compositor_element*>(&e);
  if (!c)
    return false;
  c->layout(out);
  return true;
}

} // namespace sg::video
