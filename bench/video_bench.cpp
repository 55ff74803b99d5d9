// bench_video: 4 layers composited to 1280x720 through studiograph (graph -> node actors ->
// video device actor -> GStreamer pipeline), next to the same pipeline written for GStreamer
// directly (gst_parse_launch in this process, and gst-launch-1.0 as its own process), in one
// run, interleaved and repeated; medians and the wall-time ratio. Then the same studiograph
// graph with layer parameters changed 100 times a second (SetParam through the runtime, as a
// control surface would), not live and live at 30 fps, counting frames that reached the sink.
//
//   bench_video [--frames 300] [--repeats 5] [--rate 100]

#include <gst/gst.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "hardware/video_pipeline.hpp"

namespace {

using namespace sg;
using clock_type = std::chrono::steady_clock;

struct layer {
  int x, y, w, h;
  const char* pattern;
  int src_w, src_h;
};

const layer layers[4] = {{0, 0, 1280, 720, "smpte", 1280, 720},
                         {40, 40, 426, 240, "ball", 640, 360},
                         {813, 40, 426, 240, "gradient", 640, 360},
                         {40, 440, 426, 240, "colors", 640, 360}};

std::string graph_yaml(int frames, bool live) {
  std::string y = "version: 1\nname: bench-video\ndevices:\n"
                  "  out: { kind: video, sink: null, width: 1280, height: 720, fps: 30 }\n"
                  "nodes:\n";
  static const char* names[] = {"smpte", "ball", "gradient", "colors"};
  std::string mix = "  - id: mix\n    type: video.compositor\n    params: { inputs: 4";
  for (int i = 0; i < 4; ++i) {
    const auto& l = layers[i];
    const std::string n = std::to_string(i + 1);
    y += "  - { id: s" + n + ", type: video.testsrc, params: { pattern: " + names[i] +
         ", width: " + std::to_string(l.src_w) + ", height: " + std::to_string(l.src_h) +
         ", live: " + (live ? "true" : "false") + ", frames: " + std::to_string(frames) + " } }\n";
    mix += ", x" + n + ": " + std::to_string(l.x) + ", y" + n + ": " + std::to_string(l.y) +
           ", width" + n + ": " + std::to_string(l.w) + ", height" + n + ": " +
           std::to_string(l.h);
  }
  y += mix + " }\n  - { id: show, type: video.output, device: out }\nedges:\n";
  for (int i = 1; i <= 4; ++i)
    y += "  - s" + std::to_string(i) + ".out -> mix.in" + std::to_string(i) + "\n";
  y += "  - mix.out -> show.in\n";
  return y;
}

/// The same work as a gst-launch line, written as a GStreamer user who knows to pin the
/// formats would (studiograph's compositor pins them: I420 in and out).
std::string launch_line(int frames) {
  std::string s = "compositor name=m background=black";
  for (int i = 0; i < 4; ++i) {
    const auto& l = layers[i];
    const std::string p = " sink_" + std::to_string(i) + "::";
    s += p + "xpos=" + std::to_string(l.x) + p + "ypos=" + std::to_string(l.y) + p +
         "width=" + std::to_string(l.w) + p + "height=" + std::to_string(l.h) + p +
         "zorder=" + std::to_string(i + 1);
  }
  // The compositor's output format as studiograph's compositor sets it (format: I420).
  s += " ! video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ! fakesink sync=false";
  for (int i = 0; i < 4; ++i) {
    const auto& l = layers[i];
    s += " videotestsrc num-buffers=" + std::to_string(frames) + " pattern=" + l.pattern +
         " ! video/x-raw,format=I420,width=" + std::to_string(l.src_w) + ",height=" +
         std::to_string(l.src_h) + ",framerate=30/1 ! m.sink_" + std::to_string(i);
  }
  return s;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// CPU time (user + system) of this process, or of its waited-for children.
double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

/// Wall and CPU seconds of one run.
struct timing {
  double wall = 0, cpu = 0;
};

/// gst_parse_launch in this process, PLAYING to end of stream.
timing run_gst(int frames) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(launch_line(frames).c_str(), &err);
  if (!p) {
    std::fprintf(stderr, "gst_parse_launch: %s\n", err ? err->message : "?");
    std::exit(1);
  }
  const auto t0 = clock_type::now();
  const double c0 = cpu_seconds(RUSAGE_SELF);
  gst_element_set_state(p, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m = gst_bus_timed_pop_filtered(
    bus, GST_CLOCK_TIME_NONE, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const timing s{seconds_since(t0), cpu_seconds(RUSAGE_SELF) - c0};
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  return s;
}

/// gst-launch-1.0 as its own process (startup and plugin loading included).
timing run_gst_launch(int frames) {
  const std::string cmd = "gst-launch-1.0 -q " + launch_line(frames) + " > /dev/null";
  const auto t0 = clock_type::now();
  const double c0 = cpu_seconds(RUSAGE_CHILDREN);
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "gst-launch-1.0 failed\n");
    std::exit(1);
  }
  return {seconds_since(t0), cpu_seconds(RUSAGE_CHILDREN) - c0};
}

struct sg_result {
  double seconds = 0, cpu = 0, apply_seconds = 0;
  uint64_t frames = 0, dropped = 0, changes = 0, echoes = 0;
};

/// The graph through studiograph, from apply to the device's end of stream; `rate` layer
/// changes per second posted meanwhile.
sg_result run_studiograph(int frames, bool live, int rate) {
  runtime_options o;
  o.state_path = "none";
  runtime rt(o);
  auto events = rt.subscribe(v1::SubscribeRequest{}, 1 << 16);
  auto spec = load_graph_string(graph_yaml(frames, live), "bench-video.yaml");
  if (!spec.ok()) {
    std::fprintf(stderr, "%s\n", format_diagnostic(spec.errors.front()).c_str());
    std::exit(1);
  }
  sg_result r;
  std::atomic<bool> done{false};
  const auto t0 = clock_type::now();
  const double c0 = cpu_seconds(RUSAGE_SELF);
  auto reply = rt.apply_graph(spec.spec);
  if (reply.status().code() != 0) {
    std::fprintf(stderr, "apply: %s\n", reply.status().message().c_str());
    std::exit(1);
  }
  r.apply_seconds = seconds_since(t0);
  std::thread mover([&] {
    if (rate <= 0)
      return;
    const auto period = std::chrono::microseconds(1'000'000 / rate);
    auto next = clock_type::now();
    static const char* params[] = {"x2", "y3", "alpha4", "width2"};
    for (uint64_t i = 0; !done; ++i) {
      v1::SetParamRequest req;
      req.set_node("mix");
      req.set_param(params[i % 4]);
      const double phase = static_cast<double>(i % 100) / 100.0;
      if (i % 4 == 2)
        req.mutable_value()->set_double_value(0.5 + 0.5 * phase);
      else
        req.mutable_value()->set_double_value(100 + 300 * phase);
      req.mutable_origin()->set_client_id("bench");
      req.mutable_origin()->set_client_rev(i + 1);
      rt.post(req);
      ++r.changes;
      next += period;
      std::this_thread::sleep_until(next);
    }
  });
  v1::Event ev;
  while (events->next(ev, std::chrono::seconds(60))) {
    if (ev.has_param_changed())
      ++r.echoes;
    if (ev.has_video_bus() && ev.video_bus().kind() == v1::VideoBusMessage::KIND_EOS)
      break;
  }
  r.seconds = seconds_since(t0);
  r.cpu = cpu_seconds(RUSAGE_SELF) - c0;
  done = true;
  mover.join();
  const auto status = rt.status();
  for (const auto& d : status.devices())
    if (d.device() == "out")
      r.frames = d.blocks(), r.dropped = d.xruns();
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  int frames = 300, repeats = 5, rate = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--frames"))
      frames = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats"))
      repeats = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rate"))
      rate = std::atoi(argv[i + 1]);
  }
  sg::ensure_gstreamer();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("4 layers -> 1280x720, %d frames, %d interleaved runs each (median wall time)\n",
              frames, repeats);
  std::vector<double> sg_s, gst_s, launch_s, moved_s, sg_c, gst_c, launch_c, moved_c, apply_s;
  uint64_t moved_changes = 0, moved_frames = 0, moved_dropped = 0;
  run_gst(30);  // warm caches (plugins, shared libraries)
  for (int i = 0; i < repeats; ++i) {
    auto a = run_studiograph(frames, false, 0);
    if (a.frames != static_cast<uint64_t>(frames))
      std::fprintf(stderr, "studiograph: %llu frames, expected %d\n",
                   static_cast<unsigned long long>(a.frames), frames);
    sg_s.push_back(a.seconds), sg_c.push_back(a.cpu), apply_s.push_back(a.apply_seconds);
    auto g = run_gst(frames);
    gst_s.push_back(g.wall), gst_c.push_back(g.cpu);
    auto l = run_gst_launch(frames);
    launch_s.push_back(l.wall), launch_c.push_back(l.cpu);
    auto b = run_studiograph(frames, false, rate);
    moved_s.push_back(b.seconds), moved_c.push_back(b.cpu);
    moved_changes += b.changes, moved_frames += b.frames, moved_dropped += b.dropped;
  }
  const double g = median(gst_s), gc = median(gst_c);
  auto row = [&](const std::string& what, const std::vector<double>& w,
                 const std::vector<double>& c, const std::string& extra) {
    std::printf("  %-42s %7.3f s %6.1f fps  wall %.3fx   cpu %6.3f s  %.3fx%s\n", what.c_str(),
                median(w), frames / median(w), median(w) / g, median(c), median(c) / gc,
                extra.c_str());
  };
  row("GStreamer (gst_parse_launch, in process)", gst_s, gst_c, "");
  row("gst-launch-1.0 (own process)", launch_s, launch_c, "");
  row("studiograph (graph, actors, device)", sg_s, sg_c,
      "  (apply " + std::to_string(static_cast<int>(median(apply_s) * 1000)) + " ms)");
  row("studiograph + " + std::to_string(rate) + " layer changes/s", moved_s, moved_c,
      "  (" + std::to_string(moved_changes / repeats) + " changes/run, frames " +
        std::to_string(moved_frames / repeats) + "/" + std::to_string(frames) + ", dropped " +
        std::to_string(moved_dropped) + ")");
  auto live = run_studiograph(frames, true, rate);
  std::printf("live at 30 fps, %d layer changes/s: %.2f s, %llu changes (%llu echoes), "
              "frames %llu/%d, dropped %llu\n",
              rate, live.seconds, static_cast<unsigned long long>(live.changes),
              static_cast<unsigned long long>(live.echoes),
              static_cast<unsigned long long>(live.frames), frames,
              static_cast<unsigned long long>(live.dropped));
  const bool ok = live.frames >= static_cast<uint64_t>(frames) && live.dropped == 0;
  return ok ? 0 : 1;
}
