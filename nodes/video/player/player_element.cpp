#include <atomic>
#include <filesystem>

#include "nodes/video/core/element.hpp"
#include "nodes/video/player/player.hpp"

namespace sg::video {

namespace {

class player_element final : public element {
public:
  expected<void> build(const build_context& ctx) override {
    std::string uri = ctx.values.strings[pl_path];
    if (uri.empty())
      return unexpected("no file given (parameter path)");
    if (!gst_uri_is_valid(uri.c_str())) {
      std::error_code ec;
      const auto abs = std::filesystem::absolute(uri, ec);
      if (!std::filesystem::exists(abs))
        return unexpected("no such file '" + uri + "' (parameter path)");
      gchar* u = gst_filename_to_uri(abs.c_str(), nullptr);
      uri = u;
      g_free(u);
    }
    loop_ = ctx.values.numbers[pl_loop] >= 1;
    make_bin(ctx.id);
    auto decode = add("uridecodebin", "decode");
    if (!decode)
      return unexpected(decode.error());
    decode_ = *decode;
    g_object_set(decode_, "uri", uri.c_str(), nullptr);
    const auto& v = ctx.values.numbers;
    const int w = v[pl_width] > 0 ? static_cast<int>(v[pl_width]) : ctx.width;
    const int h = v[pl_height] > 0 ? static_cast<int>(v[pl_height]) : ctx.height;
    auto chain = format_chain(w, h, ctx.fps);
    if (!chain)
      return unexpected(chain.error());
    head_ = chain->head;
    g_signal_connect(decode_, "pad-added", G_CALLBACK(on_pad_added), this);
    if (auto ghosted = ghost(chain->tail, "src", "out"); !ghosted)
      return ghosted;
    GstPad* out = gst_element_get_static_pad(bin_, "out");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_event, this, nullptr);
    gst_object_unref(out);
    return {};
  }

  expected<void> set(int index, double value, const std::string&) override {
    if (index == pl_loop)
      loop_ = value >= 1;
    return {};
  }

  /// The streaming thread held an end of stream back: seek to the start from here.
  bool poll() override {
    if (!ended_.exchange(false))
      return false;
    GstPad* out = gst_element_get_static_pad(bin_, "out");
    GstClock* clock = gst_element_get_clock(bin_);
    if (clock) {
      const GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(bin_);
      gst_pad_set_offset(out, static_cast<gint64>(now));
      gst_object_unref(clock);
    }
    gst_object_unref(out);
    gst_element_seek_simple(decode_, GST_FORMAT_TIME,
                            static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                            0);
    return false;
  }

private:
  /// thread: streaming (uridecodebin). Links the first video pad to the format chain.
  static void on_pad_added(GstElement*, GstPad* pad, gpointer data) {
    auto* self = static_cast<player_element*>(data);
    GstCaps* caps = gst_pad_get_current_caps(pad);
    if (!caps)
      caps = gst_pad_query_caps(pad, nullptr);
    const bool video =
      g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps, 0)), "video/");
    gst_caps_unref(caps);
    GstPad* sink = gst_element_get_static_pad(self->head_, "sink");
    if (video && !gst_pad_is_linked(sink))
      gst_pad_link(pad, sink);
    gst_object_unref(sink);
  }

  /// thread: streaming. Holds the end of stream back when looping (no lock, no allocation:
  /// a flag the device actor's poll picks up).
  static GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<player_element*>(data);
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS && self->loop_.load()) {
      self->ended_.store(true);
      return GST_PAD_PROBE_DROP;
    }
    return GST_PAD_PROBE_OK;
  }

  GstElement* decode_ = nullptr;
  GstElement* head_ = nullptr;
  std::atomic<bool> loop_{true};
  std::atomic<bool> ended_{false};
};

} // namespace

std::unique_ptr<element> make_player_element() {
  return std::make_unique<player_element>();
}

} // namespace sg::video
