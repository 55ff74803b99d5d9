#pragma once

/// Shared by the video tests: a runtime running a graph from YAML text, its event stream,
/// frames taken from a `sink: app` device, pixel reads, and skips for missing elements.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "hardware/video_pipeline.hpp"
#include "nodes/video/core/element.hpp"
#include "tests/skip.hpp"

namespace sg::test {

/// Skips (fails under CI=true) unless every GStreamer element named is installed.
#define SG_REQUIRE_ELEMENTS(...)                                                        \
  do {                                                                                   \
    ::sg::ensure_gstreamer();                                                            \
    for (const char* e : {__VA_ARGS__})                                                  \
      if (!::sg::video::has_element(e))                                                  \
        SG_SKIP_MISSING("GStreamer element '" << e << "' is not installed (package "     \
                        << ::sg::video::package_of(e) << ")");                           \
  } while (0)

constexpr uint32_t red = 0xFFFF0000u, green = 0xFF00FF00u, blue = 0xFF0000FFu;

/// The frames a live change may take to show: 10 s at 30 fps, generous for sanitizer builds
/// (waits end at the first frame that shows it).
constexpr int frames_to_show = 300;

struct rgb {
  int r = 0, g = 0, b = 0;
};

inline v1::GraphSpec load(const std::string& yaml) {
  auto res = load_graph_string(yaml, "test.yaml");
  for (const auto& d : res.errors)
    ADD_FAILURE() << format_diagnostic(d);
  return res.spec;
}

/// A runtime without persistence, subscribed to every event before the graph starts.
class video_session {
public:
  explicit video_session(size_t capacity = 256) : rt_(options()) {
    events_ = rt_.subscribe(v1::SubscribeRequest{}, capacity);
  }

  runtime& rt() { return rt_; }
  event_stream& events() { return *events_; }

  v1::ApplyGraphReply apply(const std::string& yaml) { return rt_.apply_graph(load(yaml)); }

  /// The next event satisfying `pred`, waiting at most `timeout`.
  template <class Pred>
  std::optional<v1::Event> next(Pred pred, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    v1::Event ev;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
      if (events_->next(ev, std::max(left, std::chrono::milliseconds(1))) && pred(ev))
        return ev;
    }
    return std::nullopt;
  }

  std::optional<v1::VideoFrame> next_frame(std::chrono::milliseconds timeout =
                                             std::chrono::seconds(10)) {
    auto ev = next([](const v1::Event& e) { return e.has_video_frame(); }, timeout);
    return ev ? std::optional(ev->video_frame()) : std::nullopt;
  }

  /// Frames skipped until one satisfies `pred` (the frames seen are counted in `seen`).
  template <class Pred>
  std::optional<v1::VideoFrame> frame_where(Pred pred, int max_frames, int* seen = nullptr) {
    for (int i = 0; i < max_frames; ++i) {
      auto f = next_frame();
      if (!f)
        return std::nullopt;
      if (seen)
        *seen = i + 1;
      if (pred(*f))
        return f;
    }
    return std::nullopt;
  }

  v1::SetParamReply set(const std::string& node, const std::string& param, double value,
                        uint64_t client_rev = 0) {
    v1::SetParamRequest req;
    req.set_node(node);
    req.set_param(param);
    req.mutable_value()->set_double_value(value);
    req.mutable_origin()->set_client_id("video-test");
    req.mutable_origin()->set_client_rev(client_rev);
    return rt_.set_param(req);
  }

  /// The device's status (frames in `blocks`, dropped in `xruns`), or an empty one.
  v1::DeviceStatus device(const std::string& name) {
    const auto status = rt_.status();
    for (const auto& d : status.devices())
      if (d.device() == name)
        return d;
    return {};
  }

  /// Polls the device's status until `pred` holds for it (true) or `timeout` passes (false);
  /// `last` is the status read last. Generous by default: a wait that ends early costs nothing.
  template <class Pred>
  bool device_until(const std::string& name, Pred pred, v1::DeviceStatus& last,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!pred(last = device(name))) {
      if (std::chrono::steady_clock::now() >= end)
        return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

private:
  static runtime_options options() {
    runtime_options o;
    o.state_path = "none";
    return o;
  }

  runtime rt_;
  std::shared_ptr<event_stream> events_;
};

inline rgb pixel(const v1::VideoFrame& f, int x, int y) {
  const auto* p = reinterpret_cast<const unsigned char*>(f.data().data()) +
                  static_cast<size_t>(y) * f.stride() + static_cast<size_t>(x) * 4;
  return {p[0], p[1], p[2]};
}

/// Within a tolerance that absorbs the YUV <-> RGB round trip.
inline bool near(rgb a, rgb b, int tolerance = 24) {
  return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance &&
         std::abs(a.b - b.b) <= tolerance;
}

inline std::string describe(rgb c) {
  return "(" + std::to_string(c.r) + "," + std::to_string(c.g) + "," + std::to_string(c.b) +
         ")";
}

} // namespace sg::test
