// Bad input: a broken video.gst fragment, an unknown element property, a missing file, a
// camera that is not there. Each fails the graph apply with an error naming the node, and the
// graph already running keeps running untouched (its device keeps producing frames).

#include "tests/video/video_fixture.hpp"

namespace sg::test {
namespace {

/// The graph every test starts from, up to (without) its video output and edges.
const std::string graph_head = R"(
version: 1
name: running
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 256, channels: 2 }
  screen: { kind: video, sink: null, width: 320, height: 240, fps: 30 }
nodes:
  - { id: tone, type: audio.sine }
  - { id: speaker, type: audio.output, device: main }
  - { id: bars, type: video.testsrc }
)";

const std::string running_graph = graph_head + R"(  - { id: out, type: video.output, device: screen }
edges: [ tone.out -> speaker.in, bars.out -> out.in ]
)";

/// The running graph plus one bad node `fx` between the test source and the output.
std::string with_bad_node(const std::string& node, const std::string& edges) {
  return graph_head + "  - " + node + R"(
  - { id: out, type: video.output, device: screen }
edges: [ tone.out -> speaker.in, )" + edges + R"( ]
)";
}

const std::string through_fx = "bars.out -> fx.in, fx.out -> out.in";
const std::string into_mix = "bars.out -> fx.in1, src.out -> fx.in2, fx.out -> out.in";

struct bad_case {
  std::string name, node, edges, expect1, expect2;
};

void PrintTo(const bad_case& c, std::ostream* os) {
  *os << c.name;
}

class video_bad_input : public ::testing::TestWithParam<bad_case> {};

TEST_P(video_bad_input, fails_the_apply_naming_the_node_and_the_graph_keeps_running) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "fakesink", "videobalance");
  const auto& c = GetParam();
  video_session s;
  ASSERT_EQ(s.apply(running_graph).status().code(), 0);
  v1::DeviceStatus before;
  ASSERT_TRUE(s.device_until(
    "screen",
    [](const v1::DeviceStatus& d) {
      return d.state() == v1::DeviceStatus::STATE_RUNNING && d.blocks() > 0;
    },
    before))
    << "the running graph never produced frames: " << before.ShortDebugString();
  const auto audio_before = s.device("main");

  auto reply = s.apply(with_bad_node(c.node, c.edges));
  EXPECT_EQ(reply.status().code(), 3) << reply.status().message();  // INVALID_ARGUMENT
  EXPECT_NE(reply.status().message().find(c.expect1), std::string::npos)
    << reply.status().message();
  EXPECT_NE(reply.status().message().find(c.expect2), std::string::npos)
    << reply.status().message();

  // Both devices go on producing: fresh frames and blocks come (however long a slow machine
  // takes to make them), and the video device is still running.
  v1::DeviceStatus after, audio_after;
  EXPECT_TRUE(s.device_until(
    "screen", [&](const v1::DeviceStatus& d) { return d.blocks() > before.blocks() + 3; }, after))
    << "the video device stopped: " << after.ShortDebugString();
  EXPECT_EQ(after.state(), v1::DeviceStatus::STATE_RUNNING);
  EXPECT_TRUE(s.device_until(
    "main", [&](const v1::DeviceStatus& d) { return d.blocks() > audio_before.blocks(); },
    audio_after))
    << "the audio device stopped: " << audio_after.ShortDebugString();
  EXPECT_EQ(s.rt().get_graph().graph().nodes_size(), 4) << "the running graph changed";
}

INSTANTIATE_TEST_SUITE_P(
  cases, video_bad_input,
  ::testing::Values(
    bad_case{"broken_fragment", "{ id: fx, type: video.gst, params: { pipeline: \"videobalance ! ! nosuchelement\" } }",
             through_fx, "node 'fx' (video.gst)", "does not parse"},
    bad_case{"missing_element", "{ id: fx, type: video.gst, params: { pipeline: \"nosuchelement\" } }",
             through_fx, "node 'fx' (video.gst)", "nosuchelement"},
    bad_case{"unknown_property",
             "{ id: fx, type: video.gst, params: { pipeline: \"videobalance name=b\", property1: b.saturatoin, value1: 0.5 } }",
             through_fx, "node 'fx' (video.gst)", "has no property 'saturatoin'"},
    bad_case{"unknown_element_name",
             "{ id: fx, type: video.gst, params: { pipeline: \"videobalance name=b\", property1: c.saturation, value1: 0.5 } }",
             through_fx, "node 'fx' (video.gst)", "no element named 'c'"},
    bad_case{"value_out_of_range",
             "{ id: fx, type: video.gst, params: { pipeline: \"videobalance name=b\", property1: b.saturation, value1: 7 } }",
             through_fx, "node 'fx' (video.gst)", "out of range"},
    bad_case{"missing_image", "{ id: fx, type: video.compositor }\n  - { id: src, type: video.image, params: { path: /nonexistent/logo.png } }",
             into_mix, "node 'src' (video.image)", "no such file '/nonexistent/logo.png'"},
    bad_case{"missing_camera", "{ id: fx, type: video.compositor }\n  - { id: src, type: video.camera, params: { device: /dev/video-none } }",
             into_mix, "node 'src' (video.camera)", "/dev/video-none"}),
  [](const auto& info) { return info.param.name; });

// A video node that reaches no video.output runs nowhere: the apply succeeds (the rest of the
// graph is fine) and the node is announced as stopped, saying why; a node that does reach the
// output gets no such status.
TEST(video_unplaced, a_node_reaching_no_output_is_announced_as_stopped) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "fakesink");
  video_session s;
  auto reply = s.apply(graph_head + R"(  - { id: out, type: video.output, device: screen }
  - { id: stray, type: video.testsrc }
edges: [ tone.out -> speaker.in, bars.out -> out.in ]
)");
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  std::vector<v1::NodeStatus> stopped;
  // The graph_applied event comes first; the announcement follows it in the same turn.
  ASSERT_TRUE(s.next([](const v1::Event& e) { return e.has_graph_applied(); },
                     std::chrono::seconds(10)));
  auto ev = s.next(
    [](const v1::Event& e) {
      return e.has_node_status() &&
             e.node_status().state() == v1::NodeStatus::STATE_STOPPED;
    },
    std::chrono::seconds(10));
  ASSERT_TRUE(ev) << "no stopped status for the stray node";
  EXPECT_EQ(ev->node_status().node(), "stray");
  EXPECT_NE(ev->node_status().message().find("reaches no video.output"), std::string::npos)
    << ev->node_status().message();
  // bars reaches the output: only one announcement came (the next graph_applied is the marker
  // that any second one would already have arrived).
  ASSERT_EQ(s.apply(running_graph).status().code(), 0);
  auto next = s.next(
    [](const v1::Event& e) {
      return e.has_graph_applied() ||
             (e.has_node_status() && e.node_status().state() == v1::NodeStatus::STATE_STOPPED &&
              e.node_status().node() != "stray");
    },
    std::chrono::seconds(10));
  ASSERT_TRUE(next);
  EXPECT_TRUE(next->has_graph_applied()) << next->ShortDebugString();
}

TEST(video_bad_input_live, a_refused_gst_property_value_changes_nothing_and_says_why) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "videobalance", "appsink");
  video_session s;
  auto reply = s.apply(R"(
version: 1
devices:
  screen: { kind: video, sink: app, width: 64, height: 48, fps: 30 }
nodes:
  - { id: bars, type: video.testsrc, params: { pattern: solid, color: 4294901760 } }
  - { id: fx, type: video.gst,
      params: { pipeline: "videobalance name=b", property1: b.saturation, value1: 1 } }
  - { id: out, type: video.output, device: screen }
edges: [ bars.out -> fx.in, fx.out -> out.in ]
)");
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  // saturation is 0..2: 5 passes the node's generic range but not the element's.
  ASSERT_EQ(s.set("fx", "value1", 5).status().code(), 0);
  auto refused = s.next(
    [](const v1::Event& e) {
      return e.has_video_bus() && e.video_bus().kind() == v1::VideoBusMessage::KIND_REFUSED;
    },
    std::chrono::seconds(10));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->video_bus().node(), "fx");
  EXPECT_NE(refused->video_bus().message().find("out of range"), std::string::npos)
    << refused->video_bus().message();
  for (int i = 0; i < 5; ++i) {
    auto f = s.next_frame();
    ASSERT_TRUE(f);
    EXPECT_TRUE(near(pixel(*f, 10, 10), {255, 0, 0})) << describe(pixel(*f, 10, 10));
  }
  // A valid one applies: saturation 0 turns red grey.
  ASSERT_EQ(s.set("fx", "value1", 0).status().code(), 0);
  auto grey = s.frame_where(
    [](const v1::VideoFrame& f) {
      auto p = pixel(f, 10, 10);
      return std::abs(p.r - p.g) < 16 && std::abs(p.g - p.b) < 16;
    },
    frames_to_show);
  EXPECT_TRUE(grey) << "saturation 0 never showed";
}

TEST(video_bad_input_graph, video_device_errors_are_located_in_the_file) {
  auto res = load_graph_string(R"(version: 1
devices:
  rec: { kind: video, sink: tape }
  net: { kind: video, sink: rtp, fps: 500 }
  main: { kind: audio, backend: null }
nodes:
  - { id: out, type: video.output, device: main }
)",
                               "bad.yaml");
  ASSERT_FALSE(res.ok());
  std::string all;
  for (const auto& d : res.errors)
    all += format_diagnostic(d) + "\n";
  EXPECT_NE(all.find("bad.yaml:3:29: error: unknown sink 'tape' of video device 'rec': "
                     "expected one of window, file, rtp, null, app"),
            std::string::npos)
    << all;
  EXPECT_NE(all.find("bad.yaml:4:8: error: video device 'net' has sink 'rtp' but no 'port'"),
            std::string::npos)
    << all;
  EXPECT_NE(all.find("'fps' of video device 'net'"), std::string::npos) << all;
  EXPECT_NE(all.find("device 'main' is an audio device but node 'out' (video.output) plays "
                     "video: expected a device with kind: video"),
            std::string::npos)
    << all;
}

} // namespace
} // namespace sg::test
