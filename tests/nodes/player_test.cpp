// audio.player: plays back exactly what a file holds (looped, once, or per trigger at the
// event's sample), converts the sample rate, and reports unreadable files when prepared.

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <sndfile.h>

#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;

std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info->name();
  std::replace(test.begin(), test.end(), '/', '_');  // parameterised names hold a slash
  return (std::filesystem::path(::testing::TempDir()) /
          (std::string("sg_player_") + test + "_" + name))
    .string();
}

/// Writes a float WAV from planar channels; returns its path.
std::string write_wav(const std::string& name, const channels& data, int sample_rate = 48000) {
  const std::string path = temp_path(name);
  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = static_cast<int>(data.size());
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f)
    throw std::runtime_error("cannot write test file " + path);
  std::vector<float> interleaved;
  for (size_t i = 0; i < data[0].size(); ++i)
    for (const auto& ch : data)
      interleaved.push_back(ch[i]);
  sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(data[0].size()));
  sf_close(f);
  return path;
}

/// A recognisable signal: no two neighbouring samples alike, never zero.
std::vector<float> pattern(size_t frames, float scale = 1.0f) {
  std::vector<float> x(frames);
  for (size_t i = 0; i < frames; ++i)
    x[i] = scale * (0.1f + 0.8f * static_cast<float>((i * 7919) % 1000) / 1000.0f) *
           (i % 2 ? 1.0f : -1.0f);
  return x;
}

param_values player_values(const std::string& path, const params& p) {
  const node_info& info = builtin("audio.player");
  param_values v = values_for(info, p);
  v.strings[param_slot(info, "file")] = path;
  return v;
}

kernel_harness player(const std::string& path, const params& p = {}) {
  return kernel_harness(builtin("audio.player"), player_values(path, p));
}

/// What the player's prepare says about `path`.
expected<void> prepare_player(const std::string& path, const params& p = {}) {
  return kernel_harness::prepare_only(builtin("audio.player"), player_values(path, p));
}

constexpr double loop = 0, oneshot = 1, trigger = 2;

kernel_event trig(float velocity = 0) {
  return {kernel_event::trigger, 0, 0, velocity};
}
kernel_event stop() {
  return {kernel_event::stop, 0, 0, 0};
}

TEST(player, loop_plays_the_file_and_wraps_exactly) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", loop}});
  h.run(3500, 128);
  for (uint32_t c = 0; c < 2; ++c)
    for (size_t f = 0; f < 3500; ++f)
      ASSERT_EQ(h.out()[c][f], x[f % 1000]) << "channel " << c << " frame " << f;
}

TEST(player, stereo_file_maps_channel_to_channel) {
  const auto l = pattern(700), r = pattern(700, -0.5f);
  auto h = player(write_wav("stereo.wav", {l, r}), {{"mode", loop}});
  h.run(1500, 100);
  for (size_t f = 0; f < 1500; ++f) {
    ASSERT_EQ(h.out()[0][f], l[f % 700]) << f;
    ASSERT_EQ(h.out()[1][f], r[f % 700]) << f;
  }
}

TEST(player, loop_starts_and_wraps_at_start) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", loop}, {"start", 480 / rate}});
  h.run(2000);
  for (size_t f = 0; f < 2000; ++f)
    ASSERT_EQ(h.out()[0][f], x[480 + f % 520]) << f;
}

TEST(player, oneshot_plays_once_then_is_silent) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", oneshot}});
  h.run(3000, 64);
  for (size_t f = 0; f < 3000; ++f)
    ASSERT_EQ(h.out()[0][f], f < 1000 ? x[f] : 0.0f) << f;
  EXPECT_EQ(h.last_status(), process_status::silent);
}

TEST(player, trigger_starts_at_the_event_offset_and_stop_silences) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", trigger}});
  h.event(777, trig());
  h.event(2900, trig());
  h.event(3400, stop());
  h.run(5000, 128);
  const auto& y = h.out()[0];
  for (size_t f = 0; f < 777; ++f)
    ASSERT_EQ(y[f], 0.0f) << "silent until triggered, frame " << f;
  for (size_t f = 777; f < 1777; ++f)
    ASSERT_EQ(y[f], x[f - 777]) << f;
  for (size_t f = 1777; f < 2900; ++f)
    ASSERT_EQ(y[f], 0.0f) << "silent after the file ends, frame " << f;
  for (size_t f = 2900; f < 3400; ++f)
    ASSERT_EQ(y[f], x[f - 2900]) << f;
  // Stop: a 1 ms (48 frames) fade, then silence.
  for (size_t i = 0; i < 48; ++i)
    ASSERT_LE(std::fabs(y[3400 + i]), std::fabs(x[500 + i])) << i;
  EXPECT_GT(std::fabs(y[3400]), 0.0f);
  for (size_t f = 3448; f < 5000; ++f)
    ASSERT_EQ(y[f], 0.0f) << f;
}

TEST(player, retrigger_restarts_and_fades_out_the_interrupted_sound) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", trigger}});
  h.event(100, trig());
  h.event(700, trig());  // while the first is 600 frames in
  h.run(2000);
  const auto& y = h.out()[0];
  for (size_t i = 0; i < 48; ++i) {
    const float fade = static_cast<float>(48 - i) / 48.0f;
    ASSERT_NEAR(y[700 + i], x[i] + x[600 + i] * fade, 1e-6) << i;
  }
  for (size_t f = 748; f < 1700; ++f)
    ASSERT_EQ(y[f], x[f - 700]) << f;
}

TEST(player, trigger_velocity_and_level_scale_the_output) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", trigger}, {"level", -6}});
  h.event(0, trig(0.5f));
  h.run(1000);
  const float g = 0.5f * db_to_gain(-6);
  for (size_t f = 0; f < 1000; ++f)
    ASSERT_NEAR(h.out()[0][f], x[f] * g, 1e-6) << f;
}

TEST(player, trigger_in_loop_mode_restarts_the_loop) {
  const auto x = pattern(1000);
  auto h = player(write_wav("mono.wav", {x}), {{"mode", loop}});
  h.event(1500, stop());
  h.event(2000, trig());
  h.run(4000);
  const auto& y = h.out()[0];
  for (size_t f = 1548; f < 2000; ++f)
    ASSERT_EQ(y[f], 0.0f) << f;
  for (size_t f = 2000; f < 4000; ++f)
    ASSERT_EQ(y[f], x[(f - 2000) % 1000]) << f;
}

TEST(player, another_sample_rate_is_converted_to_the_device_rate) {
  std::vector<float> x(44100);
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(0.5 * std::sin(2 * M_PI * 1000 * static_cast<double>(i) / 44100));
  auto h = player(write_wav("44k.wav", {x}, 44100), {{"mode", oneshot}});
  h.run(50000);
  const auto& y = h.out()[0];
  EXPECT_NEAR(frequency(range(y, 1000, 47000), rate), 1000.0, 0.1);
  EXPECT_NEAR(peak(range(y, 1000, 47000)), 0.5, 0.005);
  size_t last = y.size();
  while (last > 0 && y[last - 1] == 0.0f)
    --last;
  EXPECT_NEAR(static_cast<double>(last), 48000.0, 2.0) << "one second at the device rate";
}

TEST(player, unreadable_files_fail_prepare_with_the_path_and_the_reason) {
  const std::string missing = temp_path("does_not_exist.wav");
  const auto prepared = prepare_player(missing);
  ASSERT_FALSE(prepared) << "prepare accepted a missing file";
  EXPECT_NE(prepared.error().find(missing), std::string::npos) << prepared.error();
  EXPECT_NE(prepared.error().find("No such file"), std::string::npos) << prepared.error();
  const std::string text = temp_path("not_audio.wav");
  std::ofstream(text) << "this is not a sound file\n";
  EXPECT_FALSE(prepare_player(text));
  EXPECT_FALSE(prepare_player(""));
  EXPECT_FALSE(prepare_player(write_wav("short.wav", {pattern(100)}), {{"start", 1.0}}));
  // The harness refuses a kernel that cannot prepare.
  EXPECT_THROW(player(""), std::runtime_error);
}

TEST(player, a_plan_with_an_unreadable_file_does_not_compile) {
  graph_harness g(2);
  g.add("p", "audio.player");
  const auto plan = g.compile();
  ASSERT_FALSE(plan);
  EXPECT_NE(plan.error().find("'p'"), std::string::npos) << plan.error();
  EXPECT_NE(plan.error().find("no file given"), std::string::npos) << plan.error();
}

} // namespace
} // namespace sg::test
