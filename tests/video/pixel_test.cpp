// Pixel tests through a real GStreamer pipeline: a video device with `sink: app` turns every
// composited frame into a VideoFrame event, and the tests read its pixels. Layer parameters
// travel the normal path (SetParam -> node authority -> KernelParam -> device actor).

#include "tests/video/video_fixture.hpp"

namespace sg::test {
namespace {

const rgb red_px{255, 0, 0}, green_px{0, 255, 0}, blue_px{0, 0, 255}, black_px{0, 0, 0};

/// Red full-frame background (in1), a green 160x120 source (in2) in an 80x60 box at (40,30),
/// a blue one (in3) in a 100x100 box at (200,100), all at 320x240.
const std::string layer2 = "x2: 40, y2: 30, width2: 80, height2: 60";
const std::string layer3 = "x3: 200, y3: 100, width3: 100, height3: 100";

std::string pip_graph(const std::string& extra = "", const std::string& l2 = layer2,
                      const std::string& l3 = layer3) {
  return R"(
version: 1
name: pixels
devices:
  screen: { kind: video, sink: app, width: 320, height: 240, fps: 30 }
nodes:
  - { id: red, type: video.testsrc, params: { pattern: solid, color: 4294901760 } }
  - { id: green, type: video.testsrc,
      params: { pattern: solid, color: 4278255360, width: 160, height: 120 } }
  - { id: blue, type: video.testsrc,
      params: { pattern: solid, color: 4278190335, width: 160, height: 120 } }
  - id: mix
    type: video.compositor
    params: { inputs: 3, )" +
         l2 + ", " + l3 + extra + R"( }
  - { id: out, type: video.output, device: screen }
edges:
  - red.out -> mix.in1
  - green.out -> mix.in2
  - blue.out -> mix.in3
  - mix.out -> out.in
)";
}

class video_pixels : public ::testing::Test {
protected:
  void SetUp() override {
    SG_REQUIRE_ELEMENTS("videotestsrc", "compositor", "videocrop", "appsink", "videoconvert",
                        "videoscale", "videorate");
  }

  /// A settled frame. The first ones may predate negotiation of every input, and a layer's
  /// fit needs its source's size: wait for the layout that has every size (the compositor has
  /// placed every layer then), and let the frames still in the pipeline go by.
  v1::VideoFrame settled(video_session& s) {
    auto sized = s.next(
      [](const v1::Event& e) {
        if (!e.has_video_layout() || e.video_layout().layers_size() == 0)
          return false;
        for (const auto& l : e.video_layout().layers())
          if (l.source_width() == 0)
            return false;
        return true;
      },
      std::chrono::seconds(10));
    EXPECT_TRUE(sized) << "no layout with every input's size";
    std::optional<v1::VideoFrame> f;
    for (int i = 0; i < 5; ++i)
      f = s.next_frame();
    EXPECT_TRUE(f.has_value()) << "no frames from the app sink";
    return f.value_or(v1::VideoFrame{});
  }
};

TEST_F(video_pixels, layers_land_at_their_positions_and_sizes) {
  video_session s;
  auto reply = s.apply(pip_graph());
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  auto f = settled(s);
  ASSERT_EQ(f.width(), 320u);
  ASSERT_EQ(f.height(), 240u);
  EXPECT_EQ(f.format(), "RGBA");
  struct probe {
    int x, y;
    rgb want;
  };
  for (auto [x, y, want] : {probe{10, 10, red_px}, probe{42, 32, green_px},
                            probe{117, 87, green_px}, probe{122, 92, red_px},
                            probe{37, 50, red_px}, probe{80, 27, red_px},
                            probe{202, 102, blue_px}, probe{297, 197, blue_px},
                            probe{302, 150, red_px}, probe{250, 203, red_px}})
    EXPECT_TRUE(near(pixel(f, x, y), want))
      << "at (" << x << "," << y << "): " << describe(pixel(f, x, y)) << " expected "
      << describe(want);
}

TEST_F(video_pixels, alpha_blends_a_layer_over_the_one_below) {
  video_session s;
  ASSERT_EQ(s.apply(pip_graph(", alpha2: 0.5, alpha3: 0.25")).status().code(), 0);
  auto f = settled(s);
  // green at 50% over red, blue at 25% over red
  EXPECT_TRUE(near(pixel(f, 60, 50), {128, 128, 0}, 28)) << describe(pixel(f, 60, 50));
  EXPECT_TRUE(near(pixel(f, 250, 150), {191, 0, 64}, 28)) << describe(pixel(f, 250, 150));
  EXPECT_TRUE(near(pixel(f, 10, 10), red_px)) << describe(pixel(f, 10, 10));
}

TEST_F(video_pixels, zorder_decides_which_layer_is_on_top) {
  video_session s;
  // The blue box overlaps the green one; green on top first, then blue.
  ASSERT_EQ(s.apply(pip_graph(", zorder2: 20, zorder3: 10", layer2,
                              "x3: 60, y3: 40, width3: 100, height3: 100"))
              .status()
              .code(),
            0);
  auto f = settled(s);
  EXPECT_TRUE(near(pixel(f, 100, 80), green_px)) << describe(pixel(f, 100, 80));
  EXPECT_TRUE(near(pixel(f, 150, 120), blue_px)) << describe(pixel(f, 150, 120));
  ASSERT_EQ(s.set("mix", "zorder3", 30).status().code(), 0);
  auto g = s.frame_where([](const v1::VideoFrame& fr) { return near(pixel(fr, 100, 80), blue_px); },
                         frames_to_show);
  ASSERT_TRUE(g) << "blue never came on top";
  // and the background layer can be raised over everything
  ASSERT_EQ(s.set("mix", "zorder1", 100).status().code(), 0);
  auto h = s.frame_where([](const v1::VideoFrame& fr) { return near(pixel(fr, 100, 80), red_px); },
                         frames_to_show);
  ASSERT_TRUE(h) << "the background layer never came on top";
}

TEST_F(video_pixels, invisible_layers_are_not_drawn_and_background_shows_where_none_is) {
  video_session s;
  ASSERT_EQ(s.apply(pip_graph(", visible1: false, background: white")).status().code(), 0);
  auto f = settled(s);
  EXPECT_TRUE(near(pixel(f, 10, 10), {255, 255, 255})) << describe(pixel(f, 10, 10));
  EXPECT_TRUE(near(pixel(f, 60, 50), green_px)) << describe(pixel(f, 60, 50));
  v1::SetParamRequest req;
  req.set_node("mix");
  req.set_param("background");
  req.mutable_value()->set_string_value("black");
  ASSERT_EQ(s.rt().set_param(req).status().code(), 0);
  auto g = s.frame_where([](const v1::VideoFrame& fr) { return near(pixel(fr, 10, 10), black_px); },
                         frames_to_show);
  EXPECT_TRUE(g) << "the background never turned black";
}

/// The index of the last frame composited before `t_ns` and of the first one that shows the
/// change; the change must show within 2 frames.
TEST_F(video_pixels, a_live_change_of_x_and_alpha_shows_within_two_frames) {
  video_session s;
  ASSERT_EQ(s.apply(pip_graph()).status().code(), 0);
  settled(s);
  for (auto [param, value, x, y, want] :
       {std::tuple{"x2", 200.0, 230, 50, green_px}, std::tuple{"alpha2", 0.0, 230, 50, red_px}}) {
    ASSERT_EQ(s.set("mix", param, value).status().code(), 0);
    // The device applied the value before it answers this (its mailbox is in order).
    const int64_t applied_at = s.device("screen").running_time_ns();
    const int64_t frame_ns = 1'000'000'000 / 30;
    int64_t first_changed = -1;
    for (int i = 0; i < 60 && first_changed < 0; ++i) {
      auto f = s.next_frame();
      ASSERT_TRUE(f);
      if (near(pixel(*f, x, y), want))
        first_changed = f->pts_ns();
      else
        EXPECT_LE(f->pts_ns(), applied_at + 2 * frame_ns)
          << param << ": a frame composited 2 frames after the change does not show it";
    }
    ASSERT_GE(first_changed, 0) << param << " never showed";
    EXPECT_LE(first_changed, applied_at + 2 * frame_ns) << param;
  }
}

TEST_F(video_pixels, an_invalid_value_is_refused_and_the_picture_does_not_change) {
  video_session s;
  ASSERT_EQ(s.apply(pip_graph()).status().code(), 0);
  settled(s);
  for (auto [param, value] : {std::pair{"x2", 99999.0}, std::pair{"alpha2", 1.5},
                              std::pair{"width2", -4.0}, std::pair{"zorder2", -1.0}}) {
    auto r = s.set("mix", param, value);
    EXPECT_EQ(r.status().code(), 3) << param;  // INVALID_ARGUMENT
    EXPECT_EQ(r.status().field(), "value") << param;
  }
  EXPECT_EQ(s.set("mix", "x9", 1).status().code(), 3);
  for (int i = 0; i < 10; ++i) {
    auto f = s.next_frame();
    ASSERT_TRUE(f);
    EXPECT_TRUE(near(pixel(*f, 60, 50), green_px)) << describe(pixel(*f, 60, 50));
    EXPECT_TRUE(near(pixel(*f, 130, 100), red_px)) << describe(pixel(*f, 130, 100));
  }
}

TEST_F(video_pixels, contain_letterboxes_and_cover_crops_a_mismatched_source) {
  video_session s;
  // 160x120 (4:3) sources in 200x100 boxes: contain draws 133x100 centred, cover crops to 2:1.
  ASSERT_EQ(s.apply(pip_graph(", fit2: contain, fit3: cover, visible1: false",
                              "x2: 0, y2: 0, width2: 200, height2: 100",
                              "x3: 0, y3: 120, width3: 200, height3: 100"))
              .status()
              .code(),
            0);
  auto f = settled(s);
  EXPECT_TRUE(near(pixel(f, 100, 50), green_px)) << describe(pixel(f, 100, 50));
  EXPECT_TRUE(near(pixel(f, 30, 50), black_px)) << "left bar " << describe(pixel(f, 30, 50));
  EXPECT_TRUE(near(pixel(f, 170, 50), black_px)) << "right bar " << describe(pixel(f, 170, 50));
  EXPECT_TRUE(near(pixel(f, 36, 50), green_px)) << describe(pixel(f, 36, 50));
  EXPECT_TRUE(near(pixel(f, 2, 122), blue_px)) << describe(pixel(f, 2, 122));
  EXPECT_TRUE(near(pixel(f, 197, 217), blue_px)) << describe(pixel(f, 197, 217));
  EXPECT_TRUE(near(pixel(f, 205, 150), black_px)) << describe(pixel(f, 205, 150));
}

} // namespace
} // namespace sg::test
