// Fit modes as arithmetic, and the VideoLayout events a running compositor publishes: the
// resolved rectangles, stamped with the origin of the change that produced them.

#include "nodes/video/compositor/layout.hpp"
#include "tests/video/video_fixture.hpp"

namespace sg::test {
namespace {

using video::fit_contain;
using video::fit_cover;
using video::fit_stretch;
using video::layer_crop;
using video::layer_rect;
using video::resolve_layer;

TEST(video_fit, stretch_fills_the_box) {
  auto g = resolve_layer(10, 20, 200, 100, fit_stretch, 1280, 720, 640, 480);
  EXPECT_EQ(g.box, (layer_rect{10, 20, 200, 100}));
  EXPECT_EQ(g.rect, g.box);
  EXPECT_EQ(g.crop, layer_crop{});
}

TEST(video_fit, zero_sizes_mean_the_output_size) {
  auto g = resolve_layer(0, 0, 0, 0, fit_stretch, 1280, 720, 640, 480);
  EXPECT_EQ(g.rect, (layer_rect{0, 0, 1280, 720}));
}

TEST(video_fit, contain_centres_a_narrower_picture_with_bars_left_and_right) {
  // 4:3 into 16:9: 960x720 centred in 1280x720
  auto g = resolve_layer(0, 0, 1280, 720, fit_contain, 1280, 720, 640, 480);
  EXPECT_EQ(g.rect, (layer_rect{160, 0, 960, 720}));
  EXPECT_EQ(g.crop, layer_crop{});
}

TEST(video_fit, contain_centres_a_wider_picture_with_bars_top_and_bottom) {
  // 16:9 into a 400x400 box at (100,50): 400x225 at y = 50 + 87
  auto g = resolve_layer(100, 50, 400, 400, fit_contain, 1280, 720, 1920, 1080);
  EXPECT_EQ(g.rect, (layer_rect{100, 137, 400, 225}));
}

TEST(video_fit, cover_fills_the_box_and_crops_the_overflow_evenly) {
  // 4:3 (640x480) into 16:9 (1280x720): keep 640x360, cut 60 rows top and bottom
  auto g = resolve_layer(0, 0, 1280, 720, fit_cover, 1280, 720, 640, 480);
  EXPECT_EQ(g.rect, (layer_rect{0, 0, 1280, 720}));
  EXPECT_EQ(g.crop, (layer_crop{0, 60, 0, 60}));
  // 16:9 (1920x1080) into a square: keep 1080x1080, cut 420 columns each side
  auto h = resolve_layer(0, 0, 300, 300, fit_cover, 1280, 720, 1920, 1080);
  EXPECT_EQ(h.crop, (layer_crop{420, 0, 420, 0}));
}

TEST(video_fit, an_unknown_source_size_fills_the_box) {
  auto g = resolve_layer(5, 5, 100, 50, fit_contain, 1280, 720, 0, 0);
  EXPECT_EQ(g.rect, (layer_rect{5, 5, 100, 50}));
}

TEST(video_layout_event, is_stamped_with_the_origin_of_the_change) {
  SG_REQUIRE_ELEMENTS("videotestsrc", "compositor", "videocrop", "fakesink");
  video_session s;
  auto reply = s.apply(R"(
version: 1
devices:
  screen: { kind: video, sink: null, width: 640, height: 360, fps: 30 }
nodes:
  - { id: a, type: video.testsrc, params: { width: 640, height: 480 } }
  - { id: b, type: video.testsrc, params: { pattern: ball, width: 320, height: 240 } }
  - { id: mix, type: video.compositor, params: { fit1: contain } }
  - { id: out, type: video.output, device: screen }
edges: [ a.out -> mix.in1, b.out -> mix.in2, mix.out -> out.in ]
)");
  ASSERT_EQ(reply.status().code(), 0) << reply.status().message();
  // Once the inputs negotiated, a layout with their sizes arrives (no origin: not a change).
  auto sized = s.next(
    [](const v1::Event& e) {
      return e.has_video_layout() && e.video_layout().layers_size() == 2 &&
             e.video_layout().layers(0).source_width() == 640;
    },
    std::chrono::seconds(10));
  ASSERT_TRUE(sized) << "no layout with the negotiated source size";
  EXPECT_EQ(sized->video_layout().layers(0).rect().x(), 80);  // 480x360 centred in 640
  EXPECT_EQ(sized->video_layout().layers(0).rect().width(), 480);
  ASSERT_EQ(s.set("mix", "x2", 400, 7).status().code(), 0);
  ASSERT_EQ(s.set("mix", "width2", 160, 8).status().code(), 0);
  auto stamped = s.next(
    [](const v1::Event& e) {
      return e.has_video_layout() && e.video_layout().origin().client_rev() == 8;
    },
    std::chrono::seconds(10));
  ASSERT_TRUE(stamped);
  const auto& l = stamped->video_layout();
  EXPECT_EQ(l.node(), "mix");
  EXPECT_EQ(l.origin().client_id(), "video-test");
  EXPECT_EQ(l.param(), "width2");
  EXPECT_GT(l.node_rev(), 0u);
  EXPECT_EQ(l.width(), 640u);
  EXPECT_EQ(l.layers(1).rect().x(), 400);
  EXPECT_EQ(l.layers(1).rect().width(), 160);
  EXPECT_EQ(l.layers(1).fit(), "stretch");
}

} // namespace
} // namespace sg::test
