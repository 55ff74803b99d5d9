// The network and file sinks, checked by separate real processes: a gst-launch-1.0 receiver
// counts the RTP frames it decodes, gst-discoverer-1.0 reads the Matroska files back.

#include <fcntl.h>

#include <filesystem>
#include <regex>

#include "tests/video/process.hpp"
#include "tests/video/video_fixture.hpp"
#include "tests/skip.hpp"

namespace sg::test {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("sg-video-" + std::to_string(::getpid()) + "-" + name))
    .string();
}

/// A UDP port per process, so parallel runs do not collide.
int test_port(int offset) {
  return 20000 + (::getpid() % 20000) + offset;
}

/// 90 frames (3 s at 30 fps), then end of stream. The sources are not live, so none is
/// dropped however loaded the machine; the RTP sink still sends them at the frame rate.
std::string rtp_graph(int port, const std::string& codec) {
  return R"(
version: 1
devices:
  net: { kind: video, sink: rtp, host: 127.0.0.1, port: )" +
         std::to_string(port) + ", codec: " + codec + R"(, width: 320, height: 240, fps: 30 }
nodes:
  - { id: bars, type: video.testsrc, params: { live: false, frames: 90 } }
  - { id: ball, type: video.testsrc, params: { live: false, frames: 90, pattern: ball } }
  - { id: mix, type: video.compositor, params: { x2: 200, y2: 140, width2: 100, height2: 80 } }
  - { id: out, type: video.output, device: net }
edges: [ bars.out -> mix.in1, ball.out -> mix.in2, mix.out -> out.in ]
)";
}

struct rtp_case {
  std::string codec, caps, depay, decoder;
};

void PrintTo(const rtp_case& c, std::ostream* os) {
  *os << c.codec;
}

class video_rtp : public ::testing::TestWithParam<rtp_case> {};

TEST_P(video_rtp, a_gst_launch_receiver_decodes_the_stream) {
  const auto& c = GetParam();
  SG_REQUIRE_ELEMENTS("videotestsrc", "compositor", "udpsink", "udpsrc", c.depay.c_str(),
                      c.decoder.c_str(), c.codec == "vp8" ? "vp8enc" : "jpegenc",
                      c.codec == "vp8" ? "rtpvp8pay" : "rtpjpegpay");
  const auto launch = find_tool("gst-launch-1.0");
  if (launch.empty())
    SG_SKIP_MISSING("gst-launch-1.0 is not installed (package gstreamer1.0-tools)");
  const int port = test_port(c.codec == "vp8" ? 0 : 1);
  process receiver({launch, "-v", "udpsrc", "port=" + std::to_string(port), "caps=" + c.caps,
                    "!", c.depay, "!", c.decoder, "!", "fakesink", "silent=false"},
                   temp_path("rx-" + c.codec + ".log"));
  ASSERT_TRUE(receiver.running());
  ASSERT_TRUE(wait_for_port(receiver, port)) << receiver.output();
  video_session s;
  auto reply = s.apply(rtp_graph(port, c.codec));
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  auto eos = s.next(
    [](const v1::Event& e) {
      return e.has_video_bus() && e.video_bus().kind() == v1::VideoBusMessage::KIND_EOS;
    },
    std::chrono::seconds(30));
  ASSERT_TRUE(eos) << "no end of stream";
  // Everything is sent: wait until the receiver has decoded it all (a lost datagram leaves it
  // short, and the wait then ends at its deadline).
  const auto sent = s.device("net").blocks();
  auto decoded = [&] { return count(receiver.output(), "last-message = chain"); };
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (decoded() < sent && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  receiver.stop();
  const auto text = receiver.output();
  const size_t frames = count(text, "last-message = chain");
  // All 90 sent; the receiver decodes (nearly) all of them.
  EXPECT_EQ(sent, 90u);
  EXPECT_GE(frames * 10, sent * 7) << "sent " << sent << ", decoded " << frames
                                   << "; receiver said:\n"
                                   << text.substr(0, 2000);
  EXPECT_LE(frames, sent + 2);
}

INSTANTIATE_TEST_SUITE_P(
  codecs, video_rtp,
  ::testing::Values(
    rtp_case{"vp8", "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96",
             "rtpvp8depay", "vp8dec"},
    rtp_case{"mjpeg", "application/x-rtp,media=video,encoding-name=JPEG,clock-rate=90000,payload=26",
             "rtpjpegdepay", "jpegdec"}),
  [](const auto& info) { return info.param.codec; });

class video_file : public ::testing::TestWithParam<std::string> {};

TEST_P(video_file, gst_discoverer_reads_the_duration_and_size) {
  const std::string codec = GetParam();
  SG_REQUIRE_ELEMENTS("videotestsrc", "compositor", "matroskamux", "filesink",
                      codec == "vp8" ? "vp8enc" : "jpegenc");
  const auto discoverer = find_tool("gst-discoverer-1.0");
  if (discoverer.empty())
    SG_SKIP_MISSING("gst-discoverer-1.0 is not installed (package gstreamer1.0-plugins-base-apps)");
  const auto path = temp_path("out-" + codec + ".mkv");
  fs::remove(path);
  {
    video_session s;
    // Not live: 90 frames (3 s at 30 fps) as fast as the encoder goes, then end of stream.
    auto reply = s.apply(R"(
version: 1
devices:
  rec: { kind: video, sink: file, path: )" + path + ", codec: " + codec + R"(,
         width: 320, height: 240, fps: 30 }
nodes:
  - { id: bars, type: video.testsrc, params: { live: false, frames: 90 } }
  - { id: ball, type: video.testsrc, params: { live: false, frames: 90, pattern: ball } }
  - { id: mix, type: video.compositor, params: { x2: 10, y2: 10, width2: 100, height2: 75 } }
  - { id: out, type: video.output, device: rec }
edges: [ bars.out -> mix.in1, ball.out -> mix.in2, mix.out -> out.in ]
)");
    ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
    auto eos = s.next(
      [](const v1::Event& e) {
        return e.has_video_bus() && e.video_bus().kind() == v1::VideoBusMessage::KIND_EOS;
      },
      std::chrono::seconds(30));
    ASSERT_TRUE(eos) << "no end of stream";
    EXPECT_EQ(s.device("rec").blocks(), 90u);
  }
  ASSERT_TRUE(fs::exists(path));
  const auto info = run_tool({discoverer, path}, temp_path("disc-" + codec + ".log"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(Duration: (\d+):(\d+):(\d+\.\d+))")))
    << info;
  const double seconds = std::stod(m[1]) * 3600 + std::stod(m[2]) * 60 + std::stod(m[3]);
  EXPECT_NEAR(seconds, 3.0, 0.05) << info;
  EXPECT_NE(info.find("Width: 320"), std::string::npos) << info;
  EXPECT_NE(info.find("Height: 240"), std::string::npos) << info;
  EXPECT_NE(info.find("Matroska"), std::string::npos) << info;
  EXPECT_NE(info.find(codec == "vp8" ? "VP8" : "JPEG"), std::string::npos) << info;
  fs::remove(path);
}

INSTANTIATE_TEST_SUITE_P(codecs, video_file, ::testing::Values("vp8", "mjpeg"));

TEST(video_file_stop, stopping_a_live_recording_leaves_a_complete_file) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "matroskamux", "vp8enc");
  const auto discoverer = find_tool("gst-discoverer-1.0");
  if (discoverer.empty())
    SG_SKIP_MISSING("gst-discoverer-1.0 is not installed (package gstreamer1.0-plugins-base-apps)");
  const auto path = temp_path("live.mkv");
  fs::remove(path);
  {
    video_session s;
    auto reply = s.apply(R"(
version: 1
devices:
  rec: { kind: video, sink: file, path: )" + path + R"(, width: 320, height: 240, fps: 30 }
nodes:
  - { id: bars, type: video.testsrc }
  - { id: out, type: video.output, device: rec }
edges: [ bars.out -> out.in ]
)");
    ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
    // 60 frames out of the device (stamped at its 30 fps) are 2 s of recording, however long
    // a slow machine takes to make them.
    v1::DeviceStatus rec;
    ASSERT_TRUE(s.device_until(
      "rec", [](const v1::DeviceStatus& d) { return d.blocks() >= 60; }, rec,
      std::chrono::seconds(30)))
      << rec.ShortDebugString();
  }  // the runtime stops: the device pushes an end of stream before closing the file
  const auto info = run_tool({discoverer, path}, temp_path("disc-live.log"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(info, m, std::regex(R"(Duration: 0:00:(\d+\.\d+))"))) << info;
  EXPECT_GT(std::stod(m[1]), 1.5) << info;
  EXPECT_NE(info.find("Width: 320"), std::string::npos) << info;
  fs::remove(path);
}

} // namespace
} // namespace sg::test
