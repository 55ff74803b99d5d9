#include <algorithm>
#include <cmath>
#include <limits>

#include "nodes/video/core/element.hpp"
#include "nodes/video/gst/gst.hpp"

namespace sg::video {

namespace {

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

/// `x` as a value of `ps`'s type, checked against its range; fails saying why not.
expected<void> to_gvalue(GParamSpec* ps, double x, GValue& v) {
  const GType type = G_PARAM_SPEC_VALUE_TYPE(ps);
  g_value_init(&v, type);
  const auto fundamental = G_TYPE_FUNDAMENTAL(type);
  const bool integral = fundamental != G_TYPE_FLOAT && fundamental != G_TYPE_DOUBLE;
  if (integral && x != std::floor(x))
    return unexpected("expected a whole number for a property of type " +
                      std::string(g_type_name(type)));
  switch (fundamental) {
    case G_TYPE_BOOLEAN: g_value_set_boolean(&v, x != 0); break;
    case G_TYPE_INT: g_value_set_int(&v, static_cast<int>(std::clamp(x, -2147483648.0, 2147483647.0))); break;
    case G_TYPE_UINT: g_value_set_uint(&v, static_cast<guint>(std::clamp(x, 0.0, 4294967295.0))); break;
    case G_TYPE_LONG: g_value_set_long(&v, static_cast<glong>(x)); break;
    case G_TYPE_ULONG: g_value_set_ulong(&v, static_cast<gulong>(std::max(x, 0.0))); break;
    case G_TYPE_INT64: g_value_set_int64(&v, static_cast<gint64>(x)); break;
    case G_TYPE_UINT64: g_value_set_uint64(&v, static_cast<guint64>(std::max(x, 0.0))); break;
    case G_TYPE_FLOAT: g_value_set_float(&v, static_cast<float>(x)); break;
    case G_TYPE_DOUBLE: g_value_set_double(&v, x); break;
    case G_TYPE_ENUM: g_value_set_enum(&v, static_cast<int>(x)); break;
    default:
      return unexpected("properties of type " + std::string(g_type_name(type)) +
                        " cannot be set from a number; set it in the pipeline text");
  }
  GValue copy = G_VALUE_INIT;
  g_value_init(&copy, type);
  g_value_copy(&v, &copy);
  const bool changed = g_param_value_validate(ps, &copy) ||
                       (fundamental == G_TYPE_INT && (x < -2147483648.0 || x > 2147483647.0)) ||
                       (fundamental == G_TYPE_UINT && (x < 0 || x > 4294967295.0));
  g_value_unset(&copy);
  if (changed)
    return unexpected(number(x) + " is out of range for this property");
  return {};
}

class gst_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    const std::string& text = ctx.values.strings[gp_pipeline];
    GError* err = nullptr;
    GstElement* fragment = gst_parse_bin_from_description_full(
      text.c_str(), TRUE, nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
    if (err || !fragment) {
      std::string why =
        "pipeline '" + text + "' does not parse: " + (err ? err->message : "unknown error");
      if (err)
        g_error_free(err);
      if (fragment)
        gst_object_unref(fragment);
      return unexpected(std::move(why));
    }
    make_bin(ctx.id);
    gst_bin_add(GST_BIN(bin_), fragment);
    // The fragment's unlinked pads (ghosted by the parser as sink/src) become in/out.
    for (auto [pad, port] : {std::pair{"sink", "in"}, std::pair{"src", "out"}}) {
      GstPad* p = gst_element_get_static_pad(fragment, pad);
      if (!p)
        continue;
      gst_object_unref(p);
      if (auto ghosted = ghost(fragment, pad, port); !ghosted)
        return ghosted;
    }
    for (int slot = 1; slot <= gst_slots; ++slot) {
      const std::string& name = ctx.values.strings[gst_property_index(slot)];
      if (name.empty())
        continue;
      if (auto bound = bind(slot, name, GST_BIN(fragment)); !bound)
        return bound;
      if (auto applied = apply(slot, ctx.values.numbers[gst_value_index(slot)], false); !applied)
        return unexpected("value" + std::to_string(slot) + " for '" + name +
                          "': " + applied.error());
    }
    return {};
  }

  ~gst_element() override {
    for (auto& s : slots_)
      if (s.target)
        gst_object_unref(s.target);
  }

  expected<void> set(int index, double value, const std::string&) override {
    const int slot = index - gst_value_index(1) + 1;
    if (slot < 1 || slot > gst_slots || !slots_[slot - 1].target)
      return {};
    if (auto applied = apply(slot, value, true); !applied)
      return unexpected("value" + std::to_string(slot) + " (" + slots_[slot - 1].name +
                        "): " + applied.error());
    return {};
  }

private:
  struct slot {
    std::string name;
    GstElement* target = nullptr;
    GParamSpec* spec = nullptr;
  };

  /// Binds `slot` to the property `name` ("element.property") of the fragment.
  expected<void> bind(int slot, const std::string& name, GstBin* fragment) {
    const std::string where = "property" + std::to_string(slot) + " '" + name + "'";
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == name.size())
      return unexpected(where + ": expected element.property (the element named with name=...)");
    const std::string el = name.substr(0, dot), prop = name.substr(dot + 1);
    GstElement* target = gst_bin_get_by_name(fragment, el.c_str());
    if (!target)
      return unexpected(where + ": no element named '" + el +
                        "' in the pipeline (give it name=" + el + ")");
    GParamSpec* ps = g_object_class_find_property(G_OBJECT_GET_CLASS(target), prop.c_str());
    if (!ps || !(ps->flags & G_PARAM_WRITABLE)) {
      std::string why = where + ": element '" + el + "' (" +
                        GST_OBJECT_NAME(gst_element_get_factory(target)) + ") has no " +
                        (ps ? "writable " : "") + "property '" + prop + "'";
      gst_object_unref(target);
      return unexpected(std::move(why));
    }
    slots_[slot - 1] = {name, target, ps};
    return {};
  }

  /// Sets the property bound to `slot` to `x`; fails, changing nothing, when it cannot.
  expected<void> apply(int slot, double x, bool playing) {
    auto& s = slots_[slot - 1];
    if (playing && (s.spec->flags & (GST_PARAM_MUTABLE_READY | GST_PARAM_MUTABLE_PAUSED)))
      return unexpected("GStreamer does not allow changing this property while playing");
    GValue v = G_VALUE_INIT;
    auto converted = to_gvalue(s.spec, x, v);
    if (converted)
      g_object_set_property(G_OBJECT(s.target), s.spec->name, &v);
    g_value_unset(&v);
    return converted;
  }

  slot slots_[gst_slots];
};

} // namespace

std::unique_ptr<element> make_gst_element() {
  return std::make_unique<gst_element>();
}

} // namespace sg::video
