// The null device's inputs: a WAV file played into audio.input in a loop, in the same block
// as the output, so a plain path out is the file sample for sample, live and offline.

#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sndfile.h>

#include "hardware/audio_domain.hpp"
#include "hardware/audio_driver.hpp"
#include "hardware/wav_source.hpp"

namespace sg {
namespace {

std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::path(::testing::TempDir()) /
          ("sg_null_input_" + std::string(info->name()) + "_" + name))
    .string();
}

/// A distinct value for every (channel, frame) of the test file.
float sample(uint32_t channel, uint64_t frame) {
  return static_cast<float>((frame * 7 + channel * 3) % 1000) / 1000.0f - 0.5f;
}

void write_wav(const std::string& path, uint32_t channels, uint64_t frames, int rate) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = static_cast<int>(channels);
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  std::vector<float> data(channels * frames);
  for (uint64_t i = 0; i < frames; ++i)
    for (uint32_t c = 0; c < channels; ++c)
      data[i * channels + c] = sample(c, i);
  sf_writef_float(f, data.data(), static_cast<sf_count_t>(frames));
  sf_close(f);
}

std::vector<std::vector<float>> read_wav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f)
    return {};
  std::vector<float> data(static_cast<size_t>(info.frames * info.channels));
  sf_readf_float(f, data.data(), info.frames);
  sf_close(f);
  std::vector<std::vector<float>> out(static_cast<size_t>(info.channels));
  for (sf_count_t i = 0; i < info.frames; ++i)
    for (int c = 0; c < info.channels; ++c)
      out[static_cast<size_t>(c)].push_back(data[static_cast<size_t>(i * info.channels + c)]);
  return out;
}

/// input (device inputs 2, 1: swapped) -> output on a 2-in, 2-out null device.
audio_domain swapped_path(const std::string& input_file, const std::string& out_file) {
  audio_domain d;
  d.device.name = "card";
  d.device.kind = "audio";
  d.device.backend = "null";
  d.device.sample_rate = 48000;
  d.device.block = 128;
  d.device.inputs = 2;
  d.device.channels = 2;
  d.device.options["input"] = input_file;
  d.device.options["path"] = out_file;
  const auto& reg = node_registry::builtin();
  node_spec in{"in", "audio.input", "card", reg.find("audio.input"), {}};
  in.values = in.info->defaults();
  in.values.strings[static_cast<size_t>(in.info->param_index("channels"))] = "2, 1";
  node_spec out{"out", "audio.output", "card", reg.find("audio.output"), {}};
  out.values = out.info->defaults();
  d.nodes = {in, out};
  d.edges = {{0, "out", 1, "in"}};
  return d;
}

constexpr uint64_t file_frames = 1000;  // not a multiple of the block: the loop wraps mid-block

void expect_looped_and_swapped(const std::vector<std::vector<float>>& out, uint64_t at_least) {
  ASSERT_EQ(out.size(), 2u);
  ASSERT_GE(out[0].size(), at_least);
  for (uint64_t f = 0; f < out[0].size(); ++f) {
    ASSERT_EQ(out[0][f], sample(1, f % file_frames)) << f;
    ASSERT_EQ(out[1][f], sample(0, f % file_frames)) << f;
  }
}

/// The test's input file: `file_frames` frames of `sample` on two channels.
std::string input_file() {
  const std::string path = temp_path("in.wav");
  write_wav(path, 2, file_frames, 48000);
  return path;
}

/// Compiles `d`'s plan and hands it to `engine`.
void start(const audio_domain& d, render_engine& engine) {
  auto plan = compile_domain_plan(d, {48000, 128});
  ASSERT_TRUE(plan) << plan.error();
  engine.submit_plan(std::move(*plan));
}

TEST(null_input, the_input_file_loops_into_audio_input_sample_for_sample_offline) {
  const std::string out_file = temp_path("out.wav");
  const audio_domain d = swapped_path(input_file(), out_file);
  render_engine engine(2, 48000, 2);
  ASSERT_NO_FATAL_FAILURE(start(d, engine));
  auto input = open_input(d.device);
  ASSERT_TRUE(input) << input.error();
  ASSERT_TRUE(render_offline(engine, 128, 0.1, out_file, {}, input->get()));
  expect_looped_and_swapped(read_wav(out_file), 4800);
}

TEST(null_input, the_input_file_loops_into_audio_input_sample_for_sample_live) {
  const std::string out_file = temp_path("out.wav");
  const audio_domain d = swapped_path(input_file(), out_file);
  render_engine engine(2, 48000, 2);
  ASSERT_NO_FATAL_FAILURE(start(d, engine));
  auto opened = open_audio_driver(d.device, engine);
  ASSERT_TRUE(opened) << opened.error();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (engine.frames() < 3 * file_frames && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  opened->driver->stop();
  // Every rendered block reached the file (the tap's ring holds two seconds).
  expect_looped_and_swapped(read_wav(out_file), 3 * file_frames);
}

TEST(null_input, another_rate_is_converted_and_an_unreadable_file_is_named) {
  const std::string in_file = temp_path("in44.wav");
  write_wav(in_file, 1, 44100, 44100);
  device_spec spec;
  spec.sample_rate = 48000;
  spec.block = 128;
  spec.inputs = 1;
  spec.options["input"] = in_file;
  auto source = open_input(spec);
  ASSERT_TRUE(source) << source.error();
  ASSERT_TRUE(*source);
  EXPECT_NEAR(static_cast<double>((*source)->loop_frames()), 48000, 2) << "one second at 48 kHz";
  spec.options["input"] = temp_path("missing.wav");
  auto missing = open_input(spec);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find(temp_path("missing.wav")), std::string::npos) << missing.error();
  spec.inputs = 0;
  auto none = open_input(spec);
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none) << "no inputs, nothing read";
}

} // namespace
} // namespace sg
