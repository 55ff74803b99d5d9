#include "actors/devices/video_device.hpp"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <chrono>

#include "graph/params.hpp"
#include "hardware/video_pipeline.hpp"
#include "nodes/video/compositor/compositor.hpp"
#include "nodes/video/framesrc/framesrc.hpp"

namespace sg {

namespace {

using clock_type = std::chrono::steady_clock;

constexpr auto tick_interval = std::chrono::milliseconds(10);
constexpr auto status_interval = std::chrono::seconds(1);
constexpr auto start_timeout = 5 * GST_SECOND;
constexpr int finish_timeout_ms = 5000;
/// App sink samples turned into events per tick at most (the rest wait for the next tick).
constexpr int max_frames_per_tick = 8;

struct video_device_state {
  video_device_state() = default;  // not an aggregate: CAF must not build it from `self`
  video_domain domain;
  hub_actor hub;
  std::unique_ptr<video_pipeline> pipeline;
  v1::DeviceStatus::State state = v1::DeviceStatus::STATE_OPENING;
  std::string message;
  uint64_t subscription = 0;
  bool subscribed = false;
  uint64_t dropped = 0;
  uint64_t frame_seq = 0;
  uint64_t frames_at_status = 0;
  double fps = 0;
  clock_type::time_point last_status = clock_type::now();
  static inline const char* name = "video-device";
};

using self_ptr = video_device_actor::stateful_pointer<video_device_state>;

int64_t running_time(const video_pipeline& p) {
  GstClock* clock = gst_element_get_clock(p.pipeline());
  if (!clock)
    return 0;
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  return static_cast<int64_t>(now - gst_element_get_base_time(p.pipeline()));
}

v1::DeviceStatus make_status(video_device_state& st) {
  v1::DeviceStatus s;
  s.set_device(st.domain.device.name);
  s.set_state(st.state);
  s.set_backend("gstreamer");
  s.set_message(st.message);
  s.set_sink(st.domain.device.option("sink", "null"));
  if (st.pipeline && !st.pipeline->empty()) {
    s.set_blocks(st.pipeline->frames());
    s.set_running_time_ns(running_time(*st.pipeline));
  }
  s.set_xruns(st.dropped + (st.pipeline ? st.pipeline->gaps() : 0));
  s.set_fps(st.fps);
  return s;
}

void publish_status(self_ptr self) {
  auto& st = self->state;
  const auto now = clock_type::now();
  const double seconds = std::chrono::duration<double>(now - st.last_status).count();
  const uint64_t frames = st.pipeline ? st.pipeline->frames() : 0;
  if (seconds > 0)
    st.fps = static_cast<double>(frames - st.frames_at_status) / seconds;
  st.frames_at_status = frames;
  st.last_status = now;
  v1::Event ev;
  *ev.mutable_device_status() = make_status(st);
  self->send(st.hub, std::move(ev));
  // Devices whose sinks this pipeline also feeds report through it.
  if (!st.pipeline)
    return;
  const auto& chains = st.pipeline->sinks();
  for (size_t i = 1; i < chains.size(); ++i) {
    v1::Event more;
    auto& ds = *more.mutable_device_status();
    ds = ev.device_status();
    ds.set_device(chains[i].device.name);
    ds.set_sink(chains[i].sink);
    ds.set_blocks(st.pipeline->frames_of(i));
    ds.set_message("fed by the pipeline of video device '" + st.domain.device.name + "'");
    self->send(st.hub, std::move(more));
  }
}

void publish_bus(self_ptr self, v1::VideoBusMessage::Kind kind, std::string node,
                 std::string message, std::string element = {}, std::string debug = {}) {
  v1::Event ev;
  ev.set_node_id(node);
  auto& b = *ev.mutable_video_bus();
  b.set_device(self->state.domain.device.name);
  b.set_kind(kind);
  b.set_node(std::move(node));
  b.set_message(std::move(message));
  b.set_element(std::move(element));
  b.set_debug(std::move(debug));
  b.set_dropped(self->state.dropped);
  self->send(self->state.hub, std::move(ev));
}

void to_proto(const video::layer_rect& r, v1::VideoRect& out) {
  out.set_x(r.x), out.set_y(r.y), out.set_width(r.width), out.set_height(r.height);
}

/// Publishes the layout of the compositor in `slot`, stamped with what produced it.
void publish_layout(self_ptr self, uint32_t slot, const v1::Origin& origin, uint64_t node_rev,
                    const std::string& param) {
  auto& st = self->state;
  video::compositor_layout layout;
  auto* el = st.pipeline ? st.pipeline->element_at(slot) : nullptr;
  if (!el || !video::layout_of(*el, layout))
    return;
  v1::Event ev;
  ev.set_node_id(st.domain.nodes[slot].id);
  auto& l = *ev.mutable_video_layout();
  l.set_node(st.domain.nodes[slot].id);
  l.set_width(layout.width);
  l.set_height(layout.height);
  *l.mutable_origin() = origin;
  l.set_node_rev(node_rev);
  l.set_param(param);
  for (const auto& s : layout.layers) {
    auto& out = *l.add_layers();
    out.set_input(s.input);
    to_proto(s.geometry.box, *out.mutable_box());
    to_proto(s.geometry.rect, *out.mutable_rect());
    to_proto({s.geometry.crop.left, s.geometry.crop.top, s.geometry.crop.right,
              s.geometry.crop.bottom},
             *out.mutable_crop());
    out.set_alpha(s.alpha);
    out.set_zorder(s.zorder);
    out.set_visible(s.visible);
    static const char* fits[] = {"stretch", "contain", "cover"};
    out.set_fit(fits[s.fit]);
    out.set_source_width(s.source_width);
    out.set_source_height(s.source_height);
  }
  self->send(st.hub, std::move(ev));
}

std::string text_of(GError* err) {
  return err && err->message ? err->message : "unknown error";
}

/// One bus message: events for the hub, the device state for errors and end of stream.
void handle_bus(self_ptr self, GstMessage* msg) {
  auto& st = self->state;
  const std::string node = st.pipeline->node_of(GST_MESSAGE_SRC(msg));
  gchar* path = gst_object_get_path_string(GST_MESSAGE_SRC(msg));
  const std::string element = path ? path : "";
  g_free(path);
  const std::string who = node.empty() ? "" : "node '" + node + "': ";
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
    case GST_MESSAGE_WARNING: {
      GError* err = nullptr;
      gchar* debug = nullptr;
      const bool error = GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR;
      if (error)
        gst_message_parse_error(msg, &err, &debug);
      else
        gst_message_parse_warning(msg, &err, &debug);
      const std::string text = text_of(err);
      publish_bus(self, error ? v1::VideoBusMessage::KIND_ERROR : v1::VideoBusMessage::KIND_WARNING,
                  node, text, element, debug ? debug : "");
      if (error) {
        st.state = v1::DeviceStatus::STATE_FAILED;
        st.message = who + text;
        publish_status(self);
      }
      g_clear_error(&err);
      g_free(debug);
      break;
    }
    case GST_MESSAGE_EOS:
      st.state = v1::DeviceStatus::STATE_STOPPED;
      st.message = "end of stream";
      publish_bus(self, v1::VideoBusMessage::KIND_EOS, {}, "end of stream", element);
      publish_status(self);
      break;
    case GST_MESSAGE_QOS: {
      GstFormat format;
      guint64 processed = 0, dropped = 0;
      gst_message_parse_qos_stats(msg, &format, &processed, &dropped);
      if (format == GST_FORMAT_BUFFERS && dropped > 0) {
        ++st.dropped;
        publish_bus(self, v1::VideoBusMessage::KIND_QOS, node,
                    "frame dropped (" + std::to_string(dropped) + " so far at this element)",
                    element);
      }
      break;
    }
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(st.pipeline->pipeline())) {
        GstState from, to;
        gst_message_parse_state_changed(msg, &from, &to, nullptr);
        publish_bus(self, v1::VideoBusMessage::KIND_STATE, {},
                    std::string(gst_element_state_get_name(from)) + " -> " +
                      gst_element_state_get_name(to),
                    element);
      }
      break;
    default: break;
  }
}

void drain_bus(self_ptr self) {
  auto& st = self->state;
  while (st.pipeline) {
    GstMessage* msg = gst_bus_pop(st.pipeline->bus());
    if (!msg)
      break;
    handle_bus(self, msg);
    gst_message_unref(msg);
  }
}

/// App sink samples (taken without waiting) become VideoFrame events.
void pull_frames(self_ptr self) {
  auto& st = self->state;
  GstElement* sink = st.pipeline ? st.pipeline->app_sink() : nullptr;
  std::string device = st.domain.device.name;
  if (sink)
    for (const auto& c : st.pipeline->sinks())
      if (c.app == sink)
        device = c.device.name;
  for (int i = 0; sink && i < max_frames_per_tick; ++i) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0);
    if (!sample)
      break;
    GstVideoInfo info;
    GstBuffer* buf = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (gst_video_info_from_caps(&info, gst_sample_get_caps(sample)) &&
        gst_buffer_map(buf, &map, GST_MAP_READ)) {
      v1::Event ev;
      auto& f = *ev.mutable_video_frame();
      f.set_device(device);
      f.set_sequence(++st.frame_seq);
      // Running time, not the buffer's own timestamp: a looping player restarts those.
      const GstSegment* segment = gst_sample_get_segment(sample);
      const guint64 running =
        GST_BUFFER_PTS_IS_VALID(buf) && segment
          ? gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buf))
          : GST_CLOCK_TIME_NONE;
      f.set_pts_ns(GST_CLOCK_TIME_IS_VALID(running) ? static_cast<int64_t>(running) : -1);
      f.set_duration_ns(GST_BUFFER_DURATION_IS_VALID(buf)
                          ? static_cast<int64_t>(GST_BUFFER_DURATION(buf))
                          : 0);
      f.set_width(GST_VIDEO_INFO_WIDTH(&info));
      f.set_height(GST_VIDEO_INFO_HEIGHT(&info));
      f.set_format(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)));
      f.set_stride(GST_VIDEO_INFO_PLANE_STRIDE(&info, 0));
      f.set_data(reinterpret_cast<const char*>(map.data), map.size);
      gst_buffer_unmap(buf, &map);
      self->send(st.hub, std::move(ev));
    }
    gst_sample_unref(sample);
  }
}

/// The first error the bus holds (after a failed start), naming the node.
std::string bus_error(video_pipeline& p) {
  GstMessage* msg = gst_bus_pop_filtered(p.bus(), GST_MESSAGE_ERROR);
  if (!msg)
    return "the pipeline did not start";
  GError* err = nullptr;
  gst_message_parse_error(msg, &err, nullptr);
  const std::string node = p.node_of(GST_MESSAGE_SRC(msg));
  std::string text = (node.empty() ? "" : "node '" + node + "': ") + text_of(err);
  g_clear_error(&err);
  gst_message_unref(msg);
  return text;
}

v1::Status open_pipeline(self_ptr self) {
  auto& st = self->state;
  const std::string name = "video device '" + st.domain.device.name + "': ";
  auto built = video_pipeline::build(st.domain);
  st.pipeline = built ? std::move(*built) : nullptr;
  if (!built) {
    st.state = v1::DeviceStatus::STATE_FAILED;
    st.message = built.error();
    return sg::make_status(code_invalid_argument, name + built.error());
  }
  if (st.pipeline->empty()) {
    st.state = v1::DeviceStatus::STATE_STOPPED;
    st.message = "no video.output is bound to this device";
    return sg::make_status(code_ok, st.message);
  }
  auto ret = gst_element_set_state(st.pipeline->pipeline(), GST_STATE_PLAYING);
  if (ret != GST_STATE_CHANGE_FAILURE)
    ret = gst_element_get_state(st.pipeline->pipeline(), nullptr, nullptr, start_timeout);
  if (ret == GST_STATE_CHANGE_FAILURE || ret == GST_STATE_CHANGE_ASYNC) {
    const std::string error = ret == GST_STATE_CHANGE_ASYNC
                                ? "the pipeline did not start within 5 s"
                                : bus_error(*st.pipeline);
    st.pipeline.reset();
    st.state = v1::DeviceStatus::STATE_FAILED;
    st.message = error;
    return sg::make_status(code_failed_precondition, name + error);
  }
  st.state = v1::DeviceStatus::STATE_RUNNING;
  st.message = st.pipeline->live() ? "live" : "as fast as possible";
  for (const auto& c : st.pipeline->sinks())
    st.message += ", " + c.device.name + " (" + c.sink + ")";
  return sg::make_status(code_ok, st.message);
}

void subscribe(self_ptr self) {
  auto& st = self->state;
  v1::SubscribeRequest filter;
  for (const auto& n : st.domain.nodes)
    filter.add_nodes(n.id);
  filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  self->request(st.hub, std::chrono::seconds(5), caf::subscribe_atom_v,
                caf::actor_cast<caf::actor>(self), filter)
    .then([self](uint64_t id) {
      self->state.subscription = id;
      self->state.subscribed = true;
    });
}

int slot_of(const video_device_state& st, const std::string& id) {
  for (size_t i = 0; i < st.domain.nodes.size(); ++i)
    if (st.domain.nodes[i].id == id)
      return static_cast<int>(i);
  return -1;
}

/// An echo of one of this device's nodes: string values apply here (numbers came as
/// KernelParam), and a compositor publishes its layout stamped with the change's origin.
void on_param_changed(self_ptr self, const v1::ParamChanged& pc) {
  auto& st = self->state;
  const int slot = slot_of(st, pc.node());
  auto* el = slot >= 0 && st.pipeline ? st.pipeline->element_at(slot) : nullptr;
  if (!el)
    return;
  const node_info* info = st.domain.nodes[slot].info;
  const int index = info->param_index(pc.param());
  if (index >= 0 && info->params[index].type == param_type::string && info->params[index].live)
    if (auto set = el->set(index, 0, pc.effective().string_value()); !set)
      publish_bus(self, v1::VideoBusMessage::KIND_REFUSED, pc.node(), set.error());
  publish_layout(self, static_cast<uint32_t>(slot), pc.origin(), pc.node_rev(), pc.param());
}

/// A snapshot (first on the subscription, then after every graph apply): live string values
/// of this device's nodes, which a re-applied graph may have changed without an echo.
void on_snapshot(self_ptr self, const v1::Snapshot& snap) {
  auto& st = self->state;
  for (const auto& n : snap.nodes()) {
    const int slot = slot_of(st, n.id());
    auto* el = slot >= 0 && st.pipeline ? st.pipeline->element_at(slot) : nullptr;
    const node_info* info = node_registry::builtin().find(n.type());
    if (!el || !info || n.type() != st.domain.nodes[slot].type)
      continue;
    for (const auto& ps : n.params()) {
      const int index = info->param_index(ps.name());
      if (index >= 0 && info->params[index].type == param_type::string &&
          info->params[index].live)
        (void)el->set(index, 0, ps.value().string_value());  // a refused value changes nothing
    }
  }
}

void on_frame(self_ptr self, const v1::Event& ev) {
  auto& st = self->state;
  const int slot = slot_of(st, ev.node_id());
  auto* el = slot >= 0 && st.pipeline ? st.pipeline->element_at(slot) : nullptr;
  const auto& f = ev.video_frame();
  const auto pushed =
    el ? video::push_frame(*el, f.data(), static_cast<int>(f.width()), static_cast<int>(f.height()),
                           static_cast<int>(f.stride()))
       : unexpected("no video.framesrc node '" + ev.node_id() + "' on this device");
  if (!pushed)
    publish_bus(self, v1::VideoBusMessage::KIND_REFUSED, ev.node_id(), "frame: " + pushed.error());
}

void tick(self_ptr self) {
  auto& st = self->state;
  drain_bus(self);
  if (st.pipeline)
    for (uint32_t i = 0; i < st.pipeline->size(); ++i)
      if (auto* el = st.pipeline->element_at(i); el && el->poll())
        publish_layout(self, i, v1::Origin{}, 0, {});
  pull_frames(self);
  if (clock_type::now() - st.last_status >= status_interval)
    publish_status(self);
  self->delayed_send(self, tick_interval, caf::tick_atom_v);
}

void shut_down(self_ptr self) {
  auto& st = self->state;
  if (st.subscribed)
    self->send(st.hub, caf::unsubscribe_atom_v, st.subscription);
  st.subscribed = false;
  if (st.pipeline && st.pipeline->writes_file() &&
      st.state == v1::DeviceStatus::STATE_RUNNING)
    st.pipeline->finish(finish_timeout_ms);
  st.pipeline.reset();
}

} // namespace

expected<void> check_video_domain(const video_domain& domain) {
  auto p = video_pipeline::build(domain);
  if (!p)
    return unexpected("video device '" + domain.device.name + "': " + p.error());
  return {};
}

video_device_actor spawn_video_device(caf::actor_system& sys, video_domain domain,
                                      hub_actor hub) {
  auto fn = [](self_ptr self, video_domain domain,
               hub_actor hub) -> video_device_actor::behavior_type {
    self->state.domain = std::move(domain);
    self->state.hub = std::move(hub);
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      shut_down(self);
      self->quit(msg.reason);
    });
    return {
      [self](caf::open_atom) {
        auto status = open_pipeline(self);
        publish_status(self);
        if (status.code() != code_ok || !self->state.pipeline || self->state.pipeline->empty())
          return status;
        subscribe(self);
        for (uint32_t i = 0; i < self->state.pipeline->size(); ++i)
          publish_layout(self, i, v1::Origin{}, 0, {});
        self->delayed_send(self, tick_interval, caf::tick_atom_v);
        return status;
      },
      [self](caf::close_atom) {
        auto status = make_status(self->state);
        shut_down(self);
        self->state.state = v1::DeviceStatus::STATE_STOPPED;
        return status;
      },
      [](const v1::DomainPlan&) {
        return sg::make_status(code_failed_precondition,
                               "video devices rebuild their pipeline on structural changes");
      },
      [self](const v1::KernelParam& kp) {
        auto& st = self->state;
        auto* el = st.pipeline ? st.pipeline->element_at(kp.slot()) : nullptr;
        if (!el)
          return;
        if (auto set = el->set(static_cast<int>(kp.index()), kp.value(), {}); !set)
          publish_bus(self, v1::VideoBusMessage::KIND_REFUSED, st.domain.nodes[kp.slot()].id,
                      set.error());
      },
      [](const v1::KernelEvent&) {},
      [self](caf::tick_atom) { tick(self); },
      [self](const v1::StatusRequest&) { return make_status(self->state); },
      [self](const v1::Event& ev) {
        if (ev.has_param_changed())
          on_param_changed(self, ev.param_changed());
        else if (ev.has_snapshot())
          on_snapshot(self, ev.snapshot());
        else if (ev.has_video_frame())
          on_frame(self, ev);
      },
    };
  };
  return sys.spawn<caf::detached>(fn, std::move(domain), std::move(hub));
}

} // namespace sg
