#include "hardware/video_pipeline.hpp"

#include <cstdlib>
#include <map>
#include <mutex>

namespace sg {

namespace {

std::string label(const node_spec& n) {
  return "node '" + n.id + "' (" + n.type + ")";
}

/// Does the node make the pipeline follow the clock? Every source does (cameras and frames
/// from outside pace themselves; files and images are played at their rate, and a looping
/// one would otherwise never end) except a test source asked to run as fast as possible.
bool paces(const node_spec& n, const param_values& v, const node_info& info) {
  if (n.type == "video.testsrc")
    return v.numbers[info.param_index("live")] >= 1;
  for (const auto& p : info.ports)
    if (p.dir == port_dir::in)
      return false;
  return true;
}

/// thread: streaming (the sink chain's). Counts the frame and any gap before it: relaxed
/// atomic adds, nothing else.
GstPadProbeReturn count_frame(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* c = static_cast<video_pipeline::frame_counter*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  const GstClockTime pts = GST_BUFFER_PTS(buf), duration = GST_BUFFER_DURATION(buf);
  if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(duration) && duration > 0 &&
      c->last_pts != UINT64_MAX && pts > c->last_pts + duration + duration / 2)
    c->gaps.fetch_add((pts - c->last_pts) / duration - 1, std::memory_order_relaxed);
  if (GST_CLOCK_TIME_IS_VALID(pts))
    c->last_pts = pts;
  c->frames.fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

expected<GstElement*> make(GstElement* pipeline, const char* factory, const std::string& name) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e)
    return unexpected(std::string("GStreamer element '") + factory +
                      "' is not installed (package " + video::package_of(factory) + ")");
  gst_bin_add(GST_BIN(pipeline), e);
  return e;
}

} // namespace

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

expected<std::unique_ptr<video_pipeline>> video_pipeline::build(const video_domain& domain) {
  ensure_gstreamer();
  std::unique_ptr<video_pipeline> p(new video_pipeline());
  p->pipeline_ = gst_pipeline_new(domain.device.name.c_str());
  p->bus_ = gst_element_get_bus(p->pipeline_);
  bool has_output = false;
  for (const auto& n : domain.nodes)
    has_output = has_output || n.type == "video.output";
  if (!has_output) {
    p->empty_ = true;
    return p;
  }
  auto built = p->add_nodes(domain);
  if (built)
    built = p->add_sinks(domain);
  if (built)
    built = p->link_edges(domain);
  if (built)
    built = p->check_inputs(domain);
  if (!built)
    return unexpected(built.error());
  return p;
}

video_pipeline::~video_pipeline() {
  if (pipeline_)
    gst_element_set_state(pipeline_, GST_STATE_NULL);
  elements_.clear();  // drops the references elements hold on pads of the pipeline
  if (bus_)
    gst_object_unref(bus_);
  if (pipeline_)
    gst_object_unref(pipeline_);
}

video::element* video_pipeline::element_at(uint32_t slot) const {
  return slot < elements_.size() ? elements_[slot].get() : nullptr;
}

expected<void> video_pipeline::add_nodes(const video_domain& domain) {
  const int w = domain.device.int_option("width", 1280);
  const int h = domain.device.int_option("height", 720);
  const int fps = domain.device.int_option("fps", 30);
  for (const auto& n : domain.nodes) {
    ids_.push_back(n.id);
    const node_info* info = n.info;
    const auto* factory = video::find_element_factory(n.type);
    if (!factory) {
      elements_.push_back(nullptr);  // video.output: its device's sink chain
      continue;
    }
    video::build_context ctx{n.id, info, n.values, w, h, fps};
    live_ = live_ || paces(n, ctx.values, *info);
    auto e = (*factory)();
    if (auto built = e->build(ctx); !built) {
      if (e->bin())
        gst_object_unref(e->bin());
      return unexpected(label(n) + ": " + built.error());
    }
    gst_bin_add(GST_BIN(pipeline_), e->bin());
    elements_.push_back(std::move(e));
  }
  return {};
}

expected<void> video_pipeline::add_sinks(const video_domain& domain) {
  for (const auto& n : domain.nodes) {
    if (n.type != "video.output")
      continue;
    const device_spec* dev = &domain.device;
    for (const auto& d : domain.sinks)
      if (d.name == n.device)
        dev = &d;
    for (const auto& c : sinks_)
      if (c.device.name == dev->name)
        return unexpected(label(n) + ": device '" + dev->name + "' already shows node '" +
                          c.output_id + "': expected one video.output per video device");
    if (auto added = add_sink(*dev, n.id); !added)
      return added;
  }
  return {};
}

expected<void> video_pipeline::add_sink(const device_spec& d, const std::string& output_id) {
  sink_chain chain;
  chain.device = d;
  chain.sink = d.option("sink", "null");
  chain.output_id = output_id;
  auto formatted = add_sink_format(chain);
  auto built = formatted ? add_sink_end(chain, *formatted) : unexpected(formatted.error());
  if (!built)
    return unexpected("video device '" + d.name + "' (sink " + chain.sink + "): " + built.error());
  sinks_.push_back(std::move(chain));
  return {};
}

expected<GstElement*> video_pipeline::add_sink_format(sink_chain& chain) {
  const device_spec& d = chain.device;
  const std::string prefix = d.name + "-";
  auto conv = make(pipeline_, "videoconvert", prefix + "convert");
  auto scale = conv ? make(pipeline_, "videoscale", prefix + "scale") : conv;
  auto rate = scale ? make(pipeline_, "videorate", prefix + "rate") : scale;
  auto caps = rate ? make(pipeline_, "capsfilter", prefix + "format") : rate;
  if (!caps)
    return caps;
  // App frames are RGBA (VideoFrame); encoders get 4:2:0, the one layout RTP JPEG carries.
  const std::string& sink = chain.sink;
  const bool encoded = sink == "file" || sink == "rtp";
  GstCaps* c = video::raw_caps(d.int_option("width", 1280), d.int_option("height", 720),
                               d.int_option("fps", 30),
                               sink == "app" ? "RGBA" : encoded ? "I420" : nullptr);
  g_object_set(*caps, "caps", c, nullptr);
  gst_caps_unref(c);
  gst_element_link_many(*conv, *scale, *rate, *caps, nullptr);
  GstPad* counted = gst_element_get_static_pad(*caps, "src");
  gst_pad_add_probe(counted, GST_PAD_PROBE_TYPE_BUFFER, count_frame, chain.counter.get(),
                    nullptr);
  gst_object_unref(counted);
  chain.head = *conv;
  return caps;
}

expected<GstElement*> video_pipeline::add_encoder(const device_spec& d, GstElement* after) {
  const bool mjpeg = d.option("codec", "vp8") == "mjpeg";
  auto enc = make(pipeline_, mjpeg ? "jpegenc" : "vp8enc", d.name + "-encode");
  if (!enc)
    return enc;
  if (!mjpeg)
    g_object_set(*enc, "deadline", static_cast<gint64>(1), "cpu-used", 8, "threads", 2,
                 "target-bitrate", d.int_option("bitrate", 2000) * 1000, "keyframe-max-dist",
                 d.int_option("fps", 30), nullptr);
  gst_element_link(after, *enc);
  return enc;
}

expected<void> video_pipeline::add_sink_end(sink_chain& chain, GstElement* formatted) {
  const device_spec& d = chain.device;
  const std::string& sink = chain.sink;
  const std::string codec = d.option("codec", "vp8");
  auto mk = [&](const char* factory, const char* name) {
    return make(pipeline_, factory, d.name + "-" + name);
  };
  const gboolean sync = live_ ? TRUE : FALSE;
  if (sink == "window") {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
      return unexpected("no display (DISPLAY and WAYLAND_DISPLAY are unset): use sink null, "
                        "file or rtp on a machine without one");
    auto s = mk("autovideosink", "sink");
    if (!s)
      return unexpected(s.error());
    gst_element_link(formatted, *s);
  } else if (sink == "null") {
    auto s = mk("fakesink", "sink");
    if (!s)
      return unexpected(s.error());
    g_object_set(*s, "sync", sync, nullptr);
    gst_element_link(formatted, *s);
  } else if (sink == "app") {
    auto s = mk("appsink", "sink");
    if (!s)
      return unexpected(s.error());
    chain.app = *s;
    g_object_set(chain.app, "sync", sync, "max-buffers", 16u, "drop", FALSE, nullptr);
    gst_element_link(formatted, chain.app);
  } else if (sink == "file") {
    auto enc = add_encoder(d, formatted);
    auto mux = enc ? mk("matroskamux", "mux") : enc;
    auto s = mux ? mk("filesink", "sink") : mux;
    if (!s)
      return unexpected(s.error());
    g_object_set(*s, "location", d.option("path", "").c_str(), "sync", sync, nullptr);
    gst_element_link_many(*enc, *mux, *s, nullptr);
  } else if (sink == "rtp") {
    auto enc = add_encoder(d, formatted);
    auto pay = enc ? mk(codec == "mjpeg" ? "rtpjpegpay" : "rtpvp8pay", "pay") : enc;
    auto s = pay ? mk("udpsink", "sink") : pay;
    if (!s)
      return unexpected(s.error());
    if (codec != "mjpeg")
      g_object_set(*pay, "pt", 96u, nullptr);
    g_object_set(*s, "host", d.option("host", "127.0.0.1").c_str(), "port",
                 d.int_option("port", 5000), "sync", TRUE, "async", FALSE, nullptr);
    gst_element_link_many(*enc, *pay, *s, nullptr);
  } else {
    return unexpected("unknown sink");
  }
  return {};
}

GstElement* video_pipeline::app_sink() const {
  for (const auto& c : sinks_)
    if (c.app)
      return c.app;
  return nullptr;
}

bool video_pipeline::writes_file() const {
  for (const auto& c : sinks_)
    if (c.sink == "file")
      return true;
  return false;
}

expected<void> video_pipeline::link_edges(const video_domain& domain) {
  // Inputs take one edge; outputs feeding several inputs go through a tee.
  std::map<std::pair<uint32_t, std::string>, std::vector<const plan_edge_spec*>> by_output;
  std::map<std::pair<uint32_t, std::string>, int> into;
  for (const auto& e : domain.edges) {
    by_output[{e.from_node, e.from_port}].push_back(&e);
    if (++into[{e.to_node, e.to_port}] > 1)
      return unexpected(label(domain.nodes[e.to_node]) + ": input '" + e.to_port +
                        "' has more than one edge: expected one (mix pictures with a "
                        "video.compositor)");
  }
  auto src_pad = [&](uint32_t node, const std::string& port) -> GstPad* {
    auto* el = elements_[node].get();
    return el ? gst_element_get_static_pad(el->bin(), port.c_str()) : nullptr;
  };
  auto sink_pad = [&](uint32_t node, const std::string& port) -> GstPad* {
    if (!elements_[node]) {
      for (const auto& c : sinks_)
        if (c.output_id == ids_[node])
          return gst_element_get_static_pad(c.head, "sink");
      return nullptr;
    }
    return gst_element_get_static_pad(elements_[node]->bin(), port.c_str());
  };
  auto link = [&](GstPad* from, GstPad* to, const plan_edge_spec& e) -> expected<void> {
    const auto res = from && to ? gst_pad_link(from, to) : GST_PAD_LINK_NOSCHED;
    if (from)
      gst_object_unref(from);
    if (to)
      gst_object_unref(to);
    if (res == GST_PAD_LINK_OK)
      return {};
    const auto& a = domain.nodes[e.from_node];
    const auto& b = domain.nodes[e.to_node];
    return unexpected(
      "edge " + a.id + "." + e.from_port + " -> " + b.id + "." + e.to_port + ": " +
      (!from ? label(a) + " has no output '" + e.from_port +
                 "' (its pipeline has no unlinked source pad)"
       : !to ? label(b) + " has no input '" + e.to_port +
                 "' (its pipeline has no unlinked sink pad)"
             : std::string("the pads do not link (") + gst_pad_link_get_name(res) + ")"));
  };
  for (const auto& [out, edges] : by_output) {
    if (edges.size() == 1) {
      const auto& e = *edges.front();
      if (auto linked = link(src_pad(e.from_node, e.from_port), sink_pad(e.to_node, e.to_port), e);
          !linked)
        return linked;
      continue;
    }
    const std::string base = ids_[out.first] + "-" + out.second;
    auto tee = make(pipeline_, "tee", base + "-tee");
    if (!tee)
      return unexpected(tee.error());
    GstPad* tee_sink = gst_element_get_static_pad(*tee, "sink");
    if (auto linked = link(src_pad(out.first, out.second), tee_sink, *edges.front()); !linked)
      return linked;
    for (size_t i = 0; i < edges.size(); ++i) {
      auto q = make(pipeline_, "queue", base + "-queue" + std::to_string(i));
      if (!q)
        return unexpected(q.error());
      gst_element_link(*tee, *q);
      const auto& e = *edges[i];
      if (auto linked =
            link(gst_element_get_static_pad(*q, "src"), sink_pad(e.to_node, e.to_port), e);
          !linked)
        return linked;
    }
  }
  return {};
}

/// Every input pad of every node must be fed; an output nobody uses goes to a fakesink.
expected<void> video_pipeline::check_inputs(const video_domain& domain) {
  for (size_t i = 0; i < elements_.size(); ++i) {
    if (!elements_[i])
      continue;
    GstIterator* it = gst_element_iterate_pads(elements_[i]->bin());
    GValue item = G_VALUE_INIT;
    std::string unlinked_in;
    std::vector<GstPad*> unused_out;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* pad = GST_PAD(g_value_get_object(&item));
      if (!gst_pad_is_linked(pad)) {
        if (GST_PAD_DIRECTION(pad) == GST_PAD_SINK && unlinked_in.empty())
          unlinked_in = GST_PAD_NAME(pad);
        else if (GST_PAD_DIRECTION(pad) == GST_PAD_SRC)
          unused_out.push_back(GST_PAD(gst_object_ref(pad)));
      }
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    for (GstPad* pad : unused_out) {
      if (auto s = make(pipeline_, "fakesink", ids_[i] + "-unused")) {  // core: always there
        g_object_set(*s, "sync", FALSE, "async", FALSE, nullptr);
        GstPad* sp = gst_element_get_static_pad(*s, "sink");
        gst_pad_link(pad, sp);
        gst_object_unref(sp);
      }
      gst_object_unref(pad);
    }
    if (!unlinked_in.empty())
      return unexpected(label(domain.nodes[i]) + ": input '" + unlinked_in +
                        "' is not connected: expected an edge into it");
  }
  return {};
}

std::string video_pipeline::node_of(GstObject* object) const {
  GstObject* o = object ? GST_OBJECT(gst_object_ref(object)) : nullptr;
  while (o) {
    GstObject* parent = gst_object_get_parent(o);
    if (parent && GST_ELEMENT(parent) == pipeline_) {
      std::string name = GST_OBJECT_NAME(o);
      gst_object_unref(parent);
      gst_object_unref(o);
      for (const auto& id : ids_)
        if (id == name)
          return id;
      for (const auto& c : sinks_)  // sink chain elements are named "<device>-..."
        if (name.rfind(c.device.name + "-", 0) == 0)
          return c.output_id;
      return {};
    }
    gst_object_unref(o);
    o = parent;
  }
  return {};
}

bool video_pipeline::finish(int timeout_ms) {
  if (empty_)
    return true;
  gst_element_send_event(pipeline_, gst_event_new_eos());
  GstMessage* msg = gst_bus_timed_pop_filtered(
    bus_, static_cast<GstClockTime>(timeout_ms) * GST_MSECOND,
    static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const bool ok = msg && GST_MESSAGE_TYPE(msg) == GST_MESSAGE_EOS;
  if (msg)
    gst_message_unref(msg);
  return ok;
}

} // namespace sg
