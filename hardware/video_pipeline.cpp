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

GstElement* make(GstElement* pipeline, const char* factory, const std::string& name,
                 std::string& error) {
  GstElement* e = gst_element_factory_make(factory, name.c_str());
  if (!e) {
    error = std::string("GStreamer element '") + factory + "' is not installed (package " +
            video::package_of(factory) + ")";
    return nullptr;
  }
  gst_bin_add(GST_BIN(pipeline), e);
  return e;
}

} // namespace

void ensure_gstreamer() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

std::unique_ptr<video_pipeline> video_pipeline::build(const video_domain& domain,
                                                      std::string& error) {
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
  if (!p->add_nodes(domain, error))
    return nullptr;
  // One sink chain per video.output, each on its own device's settings.
  for (const auto& n : domain.nodes) {
    if (n.type != "video.output")
      continue;
    const device_spec* dev = &domain.device;
    for (const auto& d : domain.sinks)
      if (d.name == n.device)
        dev = &d;
    for (const auto& c : p->sinks_)
      if (c.device.name == dev->name) {
        error = label(n) + ": device '" + dev->name + "' already shows node '" + c.output_id +
                "': expected one video.output per video device";
        return nullptr;
      }
    if (!p->add_sink(*dev, n.id, error))
      return nullptr;
  }
  if (!p->link_edges(domain, error) || !p->check_inputs(domain, error))
    return nullptr;
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

bool video_pipeline::add_nodes(const video_domain& domain, std::string& error) {
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
    std::string why;
    if (!e->build(ctx, why)) {
      if (e->bin())
        gst_object_unref(e->bin());
      error = label(n) + ": " + why;
      return false;
    }
    gst_bin_add(GST_BIN(pipeline_), e->bin());
    elements_.push_back(std::move(e));
  }
  return true;
}

bool video_pipeline::add_sink(const device_spec& d, const std::string& output_id,
                              std::string& error) {
  sink_chain chain;
  chain.device = d;
  chain.sink = d.option("sink", "null");
  chain.output_id = output_id;
  const std::string& sink = chain.sink;
  const std::string codec = d.option("codec", "vp8");
  const std::string prefix = d.name + "-";
  auto fail = [&](const std::string& why) {
    error = "video device '" + d.name + "' (sink " + sink + "): " + why;
    return false;
  };
  std::string why;
  auto mk = [&](const char* factory, const char* name) {
    return make(pipeline_, factory, prefix + name, why);
  };
  GstElement* conv = mk("videoconvert", "convert");
  GstElement* scale = conv ? mk("videoscale", "scale") : nullptr;
  GstElement* rate = scale ? mk("videorate", "rate") : nullptr;
  GstElement* caps = rate ? mk("capsfilter", "format") : nullptr;
  if (!caps)
    return fail(why);
  // App frames are RGBA (VideoFrame); encoders get 4:2:0, the one layout RTP JPEG carries.
  const bool encoded = sink == "file" || sink == "rtp";
  GstCaps* c = video::raw_caps(d.int_option("width", 1280), d.int_option("height", 720),
                               d.int_option("fps", 30),
                               sink == "app" ? "RGBA" : encoded ? "I420" : nullptr);
  g_object_set(caps, "caps", c, nullptr);
  gst_caps_unref(c);
  gst_element_link_many(conv, scale, rate, caps, nullptr);
  GstPad* counted = gst_element_get_static_pad(caps, "src");
  gst_pad_add_probe(counted, GST_PAD_PROBE_TYPE_BUFFER, count_frame, chain.counter.get(),
                    nullptr);
  gst_object_unref(counted);
  chain.head = conv;
  auto encoder = [&](GstElement* after) -> GstElement* {
    GstElement* enc = nullptr;
    if (codec == "mjpeg") {
      enc = mk("jpegenc", "encode");
    } else {
      enc = mk("vp8enc", "encode");
      if (enc)
        g_object_set(enc, "deadline", static_cast<gint64>(1), "cpu-used", 8, "threads", 2,
                     "target-bitrate", d.int_option("bitrate", 2000) * 1000,
                     "keyframe-max-dist", d.int_option("fps", 30), nullptr);
    }
    if (enc)
      gst_element_link(after, enc);
    return enc;
  };
  const gboolean sync = live_ ? TRUE : FALSE;
  if (sink == "window") {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY"))
      return fail("no display (DISPLAY and WAYLAND_DISPLAY are unset): use sink null, file "
                  "or rtp on a machine without one");
    GstElement* s = mk("autovideosink", "sink");
    if (!s)
      return fail(why);
    gst_element_link(caps, s);
  } else if (sink == "null") {
    GstElement* s = mk("fakesink", "sink");
    if (!s)
      return fail(why);
    g_object_set(s, "sync", sync, nullptr);
    gst_element_link(caps, s);
  } else if (sink == "app") {
    chain.app = mk("appsink", "sink");
    if (!chain.app)
      return fail(why);
    g_object_set(chain.app, "sync", sync, "max-buffers", 16u, "drop", FALSE, nullptr);
    gst_element_link(caps, chain.app);
  } else if (sink == "file") {
    GstElement* enc = encoder(caps);
    GstElement* mux = enc ? mk("matroskamux", "mux") : nullptr;
    GstElement* s = mux ? mk("filesink", "sink") : nullptr;
    if (!s)
      return fail(why);
    g_object_set(s, "location", d.option("path", "").c_str(), "sync", sync, nullptr);
    gst_element_link_many(enc, mux, s, nullptr);
  } else if (sink == "rtp") {
    GstElement* enc = encoder(caps);
    GstElement* pay = enc ? mk(codec == "mjpeg" ? "rtpjpegpay" : "rtpvp8pay", "pay") : nullptr;
    GstElement* s = pay ? mk("udpsink", "sink") : nullptr;
    if (!s)
      return fail(why);
    if (codec != "mjpeg")
      g_object_set(pay, "pt", 96u, nullptr);
    g_object_set(s, "host", d.option("host", "127.0.0.1").c_str(), "port",
                 d.int_option("port", 5000), "sync", TRUE, "async", FALSE, nullptr);
    gst_element_link_many(enc, pay, s, nullptr);
  } else {
    return fail("unknown sink");
  }
  sinks_.push_back(std::move(chain));
  return true;
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

bool video_pipeline::link_edges(const video_domain& domain, std::string& error) {
  // Inputs take one edge; outputs feeding several inputs go through a tee.
  std::map<std::pair<uint32_t, std::string>, std::vector<const plan_edge_spec*>> by_output;
  std::map<std::pair<uint32_t, std::string>, int> into;
  for (const auto& e : domain.edges) {
    by_output[{e.from_node, e.from_port}].push_back(&e);
    if (++into[{e.to_node, e.to_port}] > 1) {
      error = label(domain.nodes[e.to_node]) + ": input '" + e.to_port +
              "' has more than one edge: expected one (mix pictures with a video.compositor)";
      return false;
    }
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
  auto link = [&](GstPad* from, GstPad* to, const plan_edge_spec& e) {
    const auto res = from && to ? gst_pad_link(from, to) : GST_PAD_LINK_NOSCHED;
    if (from)
      gst_object_unref(from);
    if (to)
      gst_object_unref(to);
    if (res == GST_PAD_LINK_OK)
      return true;
    const auto& a = domain.nodes[e.from_node];
    const auto& b = domain.nodes[e.to_node];
    error = "edge " + a.id + "." + e.from_port + " -> " + b.id + "." + e.to_port + ": " +
            (!from ? label(a) + " has no output '" + e.from_port +
                       "' (its pipeline has no "
                       "unlinked source pad)"
             : !to ? label(b) + " has no input '" + e.to_port +
                       "' (its pipeline has no "
                       "unlinked sink pad)"
                   : std::string("the pads do not link (") + gst_pad_link_get_name(res) + ")");
    return false;
  };
  for (const auto& [out, edges] : by_output) {
    if (edges.size() == 1) {
      const auto& e = *edges.front();
      if (!link(src_pad(e.from_node, e.from_port), sink_pad(e.to_node, e.to_port), e))
        return false;
      continue;
    }
    const std::string base = ids_[out.first] + "-" + out.second;
    GstElement* tee = make(pipeline_, "tee", base + "-tee", error);
    if (!tee)
      return false;
    GstPad* tee_sink = gst_element_get_static_pad(tee, "sink");
    if (!link(src_pad(out.first, out.second), tee_sink, *edges.front()))
      return false;
    for (size_t i = 0; i < edges.size(); ++i) {
      GstElement* q = make(pipeline_, "queue", base + "-queue" + std::to_string(i), error);
      if (!q)
        return false;
      gst_element_link(tee, q);
      const auto& e = *edges[i];
      if (!link(gst_element_get_static_pad(q, "src"), sink_pad(e.to_node, e.to_port), e))
        return false;
    }
  }
  return true;
}

/// Every input pad of every node must be fed; an output nobody uses goes to a fakesink.
bool video_pipeline::check_inputs(const video_domain& domain, std::string& error) {
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
      std::string why;
      GstElement* s = make(pipeline_, "fakesink", ids_[i] + "-unused", why);
      g_object_set(s, "sync", FALSE, "async", FALSE, nullptr);
      GstPad* sp = gst_element_get_static_pad(s, "sink");
      gst_pad_link(pad, sp);
      gst_object_unref(sp);
      gst_object_unref(pad);
    }
    if (!unlinked_in.empty()) {
      error = label(domain.nodes[i]) + ": input '" + unlinked_in +
              "' is not connected: expected an edge into it";
      return false;
    }
  }
  return true;
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
