// examples/video-mix.yaml as shipped: it validates, and it runs (its file path and RTP port
// moved to temporary ones) with both devices fed by one pipeline; the recording is readable
// and a gst-launch-1.0 receiver decodes the stream.

#include <filesystem>

#include "tests/video/process.hpp"
#include "tests/video/video_fixture.hpp"
#include "tests/skip.hpp"

namespace sg::test {
namespace {

namespace fs = std::filesystem;

TEST(video_example, video_mix_runs_to_a_file_and_to_rtp) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "compositor", "textoverlay", "jpegenc", "matroskamux",
                      "vp8enc", "rtpvp8pay", "udpsink", "udpsrc", "rtpvp8depay", "vp8dec");
  const auto launch = find_tool("gst-launch-1.0");
  const auto discoverer = find_tool("gst-discoverer-1.0");
  if (launch.empty() || discoverer.empty())
    SG_SKIP_MISSING("gst-launch-1.0 or gst-discoverer-1.0 is not installed");
  auto res = load_graph_file(std::string(SG_EXAMPLES_DIR) + "/video-mix.yaml");
  ASSERT_TRUE(res.ok()) << format_diagnostic(res.errors.front());
  const std::string tag = std::to_string(::getpid());
  const auto path = (fs::temp_directory_path() / ("sg-video-mix-" + tag + ".mkv")).string();
  const int port = 40000 + ::getpid() % 20000;
  for (auto& d : *res.spec.mutable_devices()) {
    if (d.name() == "record")
      (*d.mutable_options())["path"] = path;
    if (d.name() == "stream")
      (*d.mutable_options())["port"] = std::to_string(port);
  }
  process receiver({launch, "-v", "udpsrc", "port=" + std::to_string(port),
                    "caps=application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,"
                    "payload=96",
                    "!", "rtpvp8depay", "!", "vp8dec", "!", "fakesink", "silent=false"},
                   (fs::temp_directory_path() / ("sg-video-mix-rx-" + tag + ".log")).string());
  ASSERT_TRUE(wait_for_port(receiver, port)) << receiver.output();
  uint64_t recorded = 0, streamed = 0;
  std::string stream_sink;
  {
    video_session s;
    auto reply = s.rt().apply_graph(res.spec);
    ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
    // Both devices report (the stream one through the pipeline the record one owns) and the
    // receiver decodes: run until all of that was seen. About 30 frames a second each on an
    // idle machine; live sources deliver fewer on a saturated one, and these bounds only prove
    // both sinks ran.
    auto seen_enough = [&] {
      return recorded >= 10 && streamed >= 10 && stream_sink == "rtp" &&
             count(receiver.output(), "last-message = chain") >= 5;
    };
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!seen_enough() && std::chrono::steady_clock::now() < end)
      s.next(
        [&](const v1::Event& e) {
          if (!e.has_device_status())
            return false;
          const auto& ds = e.device_status();
          if (ds.device() == "record")
            recorded = std::max(recorded, ds.blocks());
          if (ds.device() == "stream") {
            streamed = std::max(streamed, ds.blocks());
            stream_sink = ds.sink();
          }
          return false;
        },
        std::chrono::milliseconds(200));
  }
  receiver.stop();
  EXPECT_EQ(stream_sink, "rtp");
  EXPECT_GE(recorded, 10u);
  EXPECT_GE(streamed, 10u);
  EXPECT_GE(count(receiver.output(), "last-message = chain"), 5u);
  const auto info =
    run_tool({discoverer, path},
             (fs::temp_directory_path() / ("sg-video-mix-disc-" + tag + ".log")).string());
  EXPECT_NE(info.find("Width: 1280"), std::string::npos) << info;
  EXPECT_NE(info.find("Height: 720"), std::string::npos) << info;
  EXPECT_NE(info.find("JPEG"), std::string::npos) << info;
  fs::remove(path);
}

} // namespace
} // namespace sg::test
