#include "nodes/video/core/element.hpp"

#include <map>

#include "nodes/video/camera/camera.hpp"
#include "nodes/video/compositor/compositor.hpp"
#include "nodes/video/convert/convert.hpp"
#include "nodes/video/framesrc/framesrc.hpp"
#include "nodes/video/gst/gst.hpp"
#include "nodes/video/image/image.hpp"
#include "nodes/video/overlay/overlay.hpp"
#include "nodes/video/player/player.hpp"
#include "nodes/video/testsrc/testsrc.hpp"

namespace sg::video {

void element::make_bin(const std::string& id) {
  bin_ = gst_bin_new(id.c_str());
}

expected<GstElement*> element::add(const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e)
    return unexpected(std::string("GStreamer element '") + factory +
                      "' is not installed (package " + package_of(factory) + ")");
  gst_bin_add(GST_BIN(bin_), e);
  return e;
}

expected<void> element::ghost(GstElement* e, const char* pad, const std::string& name) {
  GstPad* target = gst_element_get_static_pad(e, pad);
  if (!target)
    target = gst_element_request_pad_simple(e, pad);
  if (!target)
    return unexpected("no pad '" + std::string(pad) + "' on " + GST_OBJECT_NAME(e));
  GstPad* g = gst_ghost_pad_new(name.c_str(), target);
  gst_object_unref(target);
  gst_pad_set_active(g, TRUE);
  gst_element_add_pad(bin_, g);
  return {};
}

expected<element::chain_ends> element::format_chain(int w, int h, int fps) {
  // Each step passes the first failure on instead of adding more elements.
  auto conv = add("videoconvert", "convert");
  auto scale = conv ? add("videoscale", "scale") : conv;
  auto rate = scale ? add("videorate", "rate") : scale;
  auto caps = rate ? add("capsfilter", "format") : rate;
  if (!caps)
    return unexpected(caps.error());
  GstCaps* c = raw_caps(w, h, fps);
  g_object_set(*caps, "caps", c, nullptr);
  gst_caps_unref(c);
  gst_element_link_many(*conv, *scale, *rate, *caps, nullptr);
  return chain_ends{*conv, *caps};
}

const element_factory* find_element_factory(std::string_view type) {
  static const std::map<std::string, element_factory, std::less<>> factories = {
    {"video.testsrc", make_testsrc_element},   {"video.camera", make_camera_element},
    {"video.player", make_player_element},     {"video.image", make_image_element},
    {"video.compositor", make_compositor_element},
    {"video.overlay", make_overlay_element},   {"video.convert", make_convert_element},
    {"video.gst", make_gst_element},           {"video.framesrc", make_framesrc_element},
  };
  auto it = factories.find(type);
  return it == factories.end() ? nullptr : &it->second;
}

GstCaps* raw_caps(int width, int height, int fps, const char* format) {
  GstCaps* caps = gst_caps_new_empty_simple("video/x-raw");
  if (format)
    gst_caps_set_simple(caps, "format", G_TYPE_STRING, format, nullptr);
  if (width > 0)
    gst_caps_set_simple(caps, "width", G_TYPE_INT, width, nullptr);
  if (height > 0)
    gst_caps_set_simple(caps, "height", G_TYPE_INT, height, nullptr);
  if (fps > 0)
    gst_caps_set_simple(caps, "framerate", GST_TYPE_FRACTION, fps, 1, nullptr);
  return caps;
}

bool has_element(const char* factory) {
  GstElementFactory* f = gst_element_factory_find(factory);
  if (!f)
    return false;
  gst_object_unref(f);
  return true;
}

const char* package_of(std::string_view factory) {
  static const std::map<std::string, const char*, std::less<>> packages = {
    {"textoverlay", "gstreamer1.0-x"},           {"ximagesink", "gstreamer1.0-x"},
    {"vp8enc", "gstreamer1.0-plugins-good"},      {"matroskamux", "gstreamer1.0-plugins-good"},
    {"jpegenc", "gstreamer1.0-plugins-good"},     {"rtpvp8pay", "gstreamer1.0-plugins-good"},
    {"rtpjpegpay", "gstreamer1.0-plugins-good"},  {"udpsink", "gstreamer1.0-plugins-good"},
    {"v4l2src", "gstreamer1.0-plugins-good"},     {"imagefreeze", "gstreamer1.0-plugins-good"},
    {"videocrop", "gstreamer1.0-plugins-good"},   {"videoflip", "gstreamer1.0-plugins-good"},
    {"autovideosink", "gstreamer1.0-plugins-good"},
  };
  auto it = packages.find(factory);
  return it == packages.end() ? "gstreamer1.0-plugins-base" : it->second;
}

} // namespace sg::video
