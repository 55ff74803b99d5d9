// audio.meter: publication rate and per-channel peak/RMS measured against known sines.

#include <gtest/gtest.h>

#include "nodes/audio/meter/meter.hpp"
#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

// Record layout: peak dBFS of channel c at values[c], RMS dBFS at values[rms_at + c].
constexpr uint32_t rms_at = meter_kernel::max_channels;

class meter_rate : public ::testing::TestWithParam<double> {};

TEST_P(meter_rate, publishes_about_rate_records_per_second) {
  const double rate = GetParam();
  kernel_harness h("audio.meter", {{"rate", rate}}, {1});
  h.input(sine_source(440, 0.5));
  h.run(48000);
  EXPECT_NEAR(static_cast<double>(h.telemetry().size()), rate, 1.0);
  for (const auto& r : h.telemetry())
    EXPECT_EQ(r.kind, telemetry_record::meter);
}

INSTANTIATE_TEST_SUITE_P(meter, meter_rate, ::testing::Values(1.0, 10.0, 20.0, 60.0));

TEST(meter, live_rate_change_takes_effect) {
  kernel_harness h("audio.meter", {{"rate", 20}}, {1});
  h.input(sine_source(440, 0.5));
  h.run(48000);
  const size_t first_second = h.telemetry().size();
  h.set("rate", 50);
  h.run(48000);
  EXPECT_NEAR(static_cast<double>(first_second), 20, 1);
  EXPECT_NEAR(static_cast<double>(h.telemetry().size() - first_second), 50, 1);
}

TEST(meter, peak_and_rms_match_a_known_sine_per_channel) {
  // Channel 0: 440 Hz at -6 dBFS peak; channel 1: 1 kHz at -20 dBFS peak.
  kernel_harness h("audio.meter", {{"rate", 20}}, {2});
  const auto ch0 = sine_source(440, db_to_gain(-6.0));
  const auto ch1 = sine_source(1000, db_to_gain(-20.0));
  h.input([&](uint32_t p, uint32_t c, uint64_t f) { return c == 0 ? ch0(p, c, f) : ch1(p, c, f); });
  h.run(48000);
  ASSERT_GE(h.telemetry().size(), 19u);
  for (const auto& r : h.telemetry()) {
    ASSERT_EQ(r.count, 2u);
    EXPECT_NEAR(r.values[0], -6.0, 0.1);
    EXPECT_NEAR(r.values[rms_at + 0], -9.03, 0.1);
    EXPECT_NEAR(r.values[1], -20.0, 0.1);
    EXPECT_NEAR(r.values[rms_at + 1], -23.01, 0.1);
  }
}

TEST(meter, silence_reads_minus_120) {
  kernel_harness h("audio.meter", {{"rate", 20}}, {1});
  h.run(4800);
  ASSERT_EQ(h.telemetry().size(), 2u);
  EXPECT_EQ(h.telemetry()[0].values[0], -120.0f);
  EXPECT_EQ(h.telemetry()[0].values[rms_at], -120.0f);
}

TEST(meter, window_does_not_depend_on_block_size) {
  // Publication points are counted in frames, so odd block sizes give the same records.
  kernel_harness a("audio.meter", {{"rate", 20}}, {1});
  kernel_harness b("audio.meter", {{"rate", 20}}, {1});
  a.input(sine_source(440, 0.5));
  b.input(sine_source(440, 0.5));
  a.run(48000, 128);
  b.run(48000, 37);
  ASSERT_EQ(a.telemetry().size(), b.telemetry().size());
  for (size_t i = 0; i < a.telemetry().size(); ++i) {
    EXPECT_EQ(a.telemetry()[i].values[0], b.telemetry()[i].values[0]);
    EXPECT_NEAR(a.telemetry()[i].values[rms_at], b.telemetry()[i].values[rms_at], 1e-4);
  }
}

TEST(meter, rate_above_the_sample_rate_publishes_every_frame_instead_of_hanging) {
  // set_param takes any positive rate; a publication period under one frame must not stall
  // the realtime thread (it would loop without consuming frames).
  kernel_harness h("audio.meter", {{"rate", 20}}, {1});
  h.set("rate", 96000);
  h.run(64);
  EXPECT_EQ(h.telemetry().size(), 64u);
}

TEST(meter, records_carry_the_meter_slot_through_the_engine) {
  graph_harness g(1);
  g.add("osc", "audio.sine", {{"frequency", 1000}, {"level", -6}});
  g.add("meter", "audio.meter", {{"rate", 10}});
  g.connect("osc.out", "meter.in");
  g.start();
  g.render(48000);
  const auto records = g.telemetry_of("meter");
  EXPECT_EQ(records.size(), g.telemetry().size());
  EXPECT_NEAR(static_cast<double>(records.size()), 10, 1);
  for (const auto& r : records) {
    EXPECT_NEAR(r.values[0], -6.0, 0.1);
    EXPECT_NEAR(r.values[rms_at], -9.03, 0.1);
  }
}

} // namespace
} // namespace sg::test
