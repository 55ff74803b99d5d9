// The cross-domain bridge: frames leave a `sink: app` device as VideoFrame events (pixel
// tests use that path) and enter another pipeline through video.framesrc. Here a frame is
// pushed into a framesrc and read back from an app sink, byte for byte where RGBA allows.

#include <gst/app/gstappsink.h>

#include "actors/devices/specs.hpp"
#include "nodes/video/framesrc/framesrc.hpp"
#include "tests/skip.hpp"
#include "tests/video/process.hpp"
#include "tests/video/video_fixture.hpp"

namespace sg::test {
namespace {

video_domain bridge_domain() {
  video_domain d;
  d.device.name = "bridge";
  d.device.kind = "video";
  d.device.options = {{"sink", "app"}, {"width", "64"}, {"height", "48"}, {"fps", "30"}};
  v1::NodeSpec src;
  src.set_id("remote");
  src.set_type("video.framesrc");
  (*src.mutable_params())["width"].set_double_value(64);
  (*src.mutable_params())["height"].set_double_value(48);
  v1::NodeSpec out;
  out.set_id("out");
  out.set_type("video.output");
  out.set_device("bridge");
  d.nodes = {to_node_spec(src), to_node_spec(out)};
  d.edges = {{0, "out", 1, "in"}};
  return d;
}

/// A 64x48 RGBA frame: left half red, right half blue.
std::string test_frame() {
  std::string data(64 * 48 * 4, '\0');
  for (int y = 0; y < 48; ++y)
    for (int x = 0; x < 64; ++x) {
      auto* p = &data[(y * 64 + x) * 4];
      p[0] = x < 32 ? '\xff' : 0;
      p[2] = x < 32 ? 0 : '\xff';
      p[3] = '\xff';
    }
  return data;
}

TEST(video_frames, a_frame_pushed_into_a_framesrc_comes_out_of_the_app_sink) {
  SG_REQUIRE_ELEMENTS("appsrc", "appsink", "videoconvert");
  auto built = video_pipeline::build(bridge_domain());
  ASSERT_TRUE(built) << built.error();
  auto& p = *built;
  ASSERT_TRUE(p->live());
  ASSERT_NE(gst_element_set_state(p->pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  const auto frame = test_frame();
  for (int i = 0; i < 3; ++i) {
    const auto pushed = video::push_frame(*p->element_at(0), frame, 64, 48, 256);
    ASSERT_TRUE(pushed) << pushed.error();
  }
  GstSample* sample =
    gst_app_sink_try_pull_sample(GST_APP_SINK(p->app_sink()), 10 * GST_SECOND);
  ASSERT_NE(sample, nullptr) << "no frame came out";
  GstBuffer* buf = gst_sample_get_buffer(sample);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(buf, &map, GST_MAP_READ));
  ASSERT_EQ(map.size, frame.size());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(map.data), map.size), frame);
  gst_buffer_unmap(buf, &map);
  gst_sample_unref(sample);
  EXPECT_GE(p->frames(), 1u);
}

TEST(video_frames, a_frame_of_the_wrong_size_is_refused) {
  SG_REQUIRE_ELEMENTS("appsrc", "appsink");
  auto built = video_pipeline::build(bridge_domain());
  ASSERT_TRUE(built) << built.error();
  auto& p = *built;
  const auto small =
    video::push_frame(*p->element_at(0), std::string(32 * 24 * 4, '\0'), 32, 24, 128);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error(), "frame is 32x24, expected 64x48");
  const auto short_data = video::push_frame(*p->element_at(0), std::string(10, '\0'), 64, 48, 256);
  ASSERT_FALSE(short_data);
  EXPECT_EQ(short_data.error(), "frame data is shorter than its size says");
}

TEST(video_frames, the_app_sink_device_publishes_rgba_frames_with_timestamps) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "appsink");
  video_session s;
  auto reply = s.apply(R"(
version: 1
devices:
  screen: { kind: video, sink: app, width: 64, height: 48, fps: 30 }
nodes:
  - { id: bars, type: video.testsrc }
  - { id: out, type: video.output, device: screen }
edges: [ bars.out -> out.in ]
)");
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  auto a = s.next_frame(), b = s.next_frame();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->device(), "screen");
  EXPECT_EQ(b->sequence(), a->sequence() + 1);
  EXPECT_EQ(b->pts_ns() - a->pts_ns(), 1'000'000'000 / 30);
  EXPECT_EQ(a->data().size(), 64u * 48 * 4);
  EXPECT_EQ(a->stride(), 256u);
}

} // namespace
} // namespace sg::test

namespace sg::test {
namespace {

TEST(video_player, a_short_file_loops_with_growing_timestamps) {
  SG_REQUIRE_ELEMENTS("uridecodebin", "matroskademux", "vp8dec", "vp8enc", "matroskamux",
                      "appsink");
  const auto launch = find_tool("gst-launch-1.0");
  if (launch.empty())
    SG_SKIP_MISSING("gst-launch-1.0 is not installed (package gstreamer1.0-tools)");
  const std::string path = "/tmp/sg-video-loop-" + std::to_string(::getpid()) + ".mkv";
  // 0.5 s of red: 15 frames at 30 fps.
  run_tool({launch, "-q", "videotestsrc", "num-buffers=15", "pattern=red", "!",
            "video/x-raw,width=64,height=48,framerate=30/1", "!", "vp8enc", "!", "matroskamux",
            "!", "filesink", "location=" + path},
           path + ".log");
  video_session s;
  auto reply = s.apply(R"(
version: 1
devices:
  screen: { kind: video, sink: app, width: 64, height: 48, fps: 30 }
nodes:
  - { id: clip, type: video.player, params: { path: )" + path + R"(, loop: true } }
  - { id: out, type: video.output, device: screen }
edges: [ clip.out -> out.in ]
)");
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  int64_t last = -1;
  int frames = 0;
  for (; frames < 45; ++frames) {  // three times through the file
    auto f = s.next_frame();
    ASSERT_TRUE(f) << "the player stopped after " << frames << " frames";
    EXPECT_GT(f->pts_ns(), last) << "frame " << frames;
    EXPECT_TRUE(near(pixel(*f, 30, 20), {255, 0, 0}, 40)) << describe(pixel(*f, 30, 20));
    last = f->pts_ns();
  }
  EXPECT_GE(last, 1'300'000'000) << "45 frames at 30 fps span about 1.5 s";
  ::unlink(path.c_str());
  ::unlink((path + ".log").c_str());
}

} // namespace
} // namespace sg::test

namespace sg::test {
namespace {

TEST(video_overlay, text_changes_live_through_the_node_and_a_graph_re_apply) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "textoverlay", "appsink");
  video_session s;
  auto graph = [](const std::string& text) {
    return R"(
version: 1
devices:
  screen: { kind: video, sink: app, width: 160, height: 120, fps: 30 }
nodes:
  - { id: bg, type: video.testsrc, params: { pattern: solid, color: 4278190080 } }
  - { id: title, type: video.overlay,
      params: { text: ")" + text + R"(", font: "Sans Bold 40", halign: center, valign: center } }
  - { id: out, type: video.output, device: screen }
edges: [ bg.out -> title.in, title.out -> out.in ]
)";
  };
  auto lit = [](const v1::VideoFrame& f) {  // white text pixels on black
    int n = 0;
    for (int y = 0; y < 120; y += 2)
      for (int x = 0; x < 160; x += 2)
        n += pixel(f, x, y).r > 200;
    return n;
  };
  ASSERT_EQ(s.apply(graph("")).status().code(), 0);
  auto blank = s.frame_where([&](const v1::VideoFrame& f) { return lit(f) == 0; }, 10);
  ASSERT_TRUE(blank) << "an empty text drew something";
  // The file changes only the text: the pipeline keeps running and takes the new base value.
  const auto frames_before = s.device("screen").blocks();
  ASSERT_EQ(s.apply(graph("FILE")).status().code(), 0);
  auto from_file =
    s.frame_where([&](const v1::VideoFrame& f) { return lit(f) > 20; }, frames_to_show);
  ASSERT_TRUE(from_file) << "the re-applied file's text never showed";
  const auto after = s.device("screen");
  EXPECT_GT(after.blocks(), frames_before + 1) << "the pipeline was restarted: " << after.ShortDebugString();
  v1::SetParamRequest req;
  req.set_node("title");
  req.set_param("text");
  req.mutable_value()->set_string_value("");
  ASSERT_EQ(s.rt().set_param(req).status().code(), 0);
  auto cleared =
    s.frame_where([&](const v1::VideoFrame& f) { return lit(f) == 0; }, frames_to_show);
  ASSERT_TRUE(cleared) << "the text cleared live stayed";
  req.mutable_value()->set_string_value("LIVE");
  ASSERT_EQ(s.rt().set_param(req).status().code(), 0);
  auto shown =
    s.frame_where([&](const v1::VideoFrame& f) { return lit(f) > 20; }, frames_to_show);
  ASSERT_TRUE(shown) << "the text set live never showed";
}

} // namespace
} // namespace sg::test
