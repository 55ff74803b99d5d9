// audio.recorder: what it writes is read back with libsndfile and compared with what it was fed
// (exact for float WAV, within quantisation for 16/24-bit and FLAC), frame counts are exact, a
// recording longer than the ring survives, and an overflowing ring drops whole blocks, counts
// them and reports them as telemetry instead of blocking.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sndfile.h>

#include "nodes/audio/recorder/recorder.hpp"
#include "tests/nodes/harness.hpp"

namespace sg::test {
namespace {

constexpr double rate = 48000;
constexpr double wav = 0, flac = 1;
constexpr double bits16 = 0, bits24 = 1, bits_float = 2;

std::string temp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info->name();
  std::replace(test.begin(), test.end(), '/', '_');  // parameterised names hold a slash
  return (std::filesystem::path(::testing::TempDir()) /
          (std::string("sg_recorder_") + test + "_" + name))
    .string();
}

/// Deterministic full-scale-ish signal, different on every channel.
float signal(uint32_t, uint32_t channel, uint64_t frame) {
  const uint64_t h = (frame * 2654435761u + channel * 40503u) % 20001u;
  return static_cast<float>(h) / 10000.0f - 1.0f;  // -1..1 in steps of 1e-4
}

param_values recorder_values(const std::string& path, const params& p) {
  const node_info& info = builtin("audio.recorder");
  param_values v = values_for(info, p);
  v.strings[param_slot(info, "file")] = path;
  return v;
}

std::unique_ptr<kernel_harness> recorder(const std::string& path, const params& p,
                                         uint32_t channels) {
  auto h = std::make_unique<kernel_harness>(builtin("audio.recorder"), recorder_values(path, p),
                                            std::vector<uint32_t>{channels});
  h->input(signal);
  return h;
}

/// What the recorder's prepare says about `path`.
expected<void> prepare_recorder(const std::string& path, uint32_t channels) {
  return kernel_harness::prepare_only(builtin("audio.recorder"), recorder_values(path, {}),
                                      {channels});
}

/// Frames the writer has put in the float WAV at `path` so far: libsndfile writes straight to
/// the file, so its size follows every write. `header`: the file's size before any frame.
uint64_t frames_on_disk(const std::string& path, uintmax_t header, uint32_t channels) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec || size < header ? 0 : (size - header) / (sizeof(float) * channels);
}

/// Whether the float WAV at `path` (channel 0 of `channels`) ends with the block of `block`
/// frames fed last, the one ending at frame `fed`.
bool ends_with_block(const std::string& path, uintmax_t header, uint32_t channels, uint64_t fed,
                     uint64_t block) {
  const uint64_t frames = frames_on_disk(path, header, channels);
  if (frames < block)
    return false;
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(header + (frames - block) * channels * sizeof(float)));
  std::vector<float> tail(block * channels);
  if (!in.read(reinterpret_cast<char*>(tail.data()),
               static_cast<std::streamsize>(tail.size() * sizeof(float))))
    return false;
  for (uint64_t i = 0; i < block; ++i)
    if (tail[i * channels] != signal(0, 0, fed - block + i))
      return false;
  return true;
}

/// Polls `ok` until it holds, 10 s at most (generous for sanitizer builds on a loaded machine).
bool eventually(const std::function<bool()>& ok) {
  for (const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(std::chrono::milliseconds(1)))
    if (ok())
      return true;
  return ok();
}

struct sound_file {
  SF_INFO info{};
  channels data;
};

sound_file read_back(const std::string& path) {
  sound_file s;
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &s.info);
  if (!f)
    throw std::runtime_error("cannot read back " + path + ": " + sf_strerror(nullptr));
  std::vector<float> interleaved(static_cast<size_t>(s.info.frames * s.info.channels));
  sf_readf_float(f, interleaved.data(), s.info.frames);
  sf_close(f);
  s.data.assign(s.info.channels, std::vector<float>(s.info.frames));
  for (sf_count_t i = 0; i < s.info.frames; ++i)
    for (int c = 0; c < s.info.channels; ++c)
      s.data[c][i] = interleaved[i * s.info.channels + c];
  return s;
}

struct format_case {
  double format, bits;
  int expected_format;
  double tolerance;
};

class recorder_round_trip : public ::testing::TestWithParam<format_case> {};

TEST_P(recorder_round_trip, reads_back_what_it_was_fed) {
  const auto [format, bits, expected_format, tolerance] = GetParam();
  const std::string path = temp_path("out");
  constexpr uint64_t frames = 10000;  // not a multiple of the block: the last block is partial
  {
    auto h = recorder(path, {{"format", format}, {"bits", bits}}, 2);
    h->run(frames, 128);
    EXPECT_TRUE(h->telemetry().empty()) << "nothing dropped";
  }  // destroying the kernel joins the writer and closes the file
  const auto s = read_back(path);
  EXPECT_EQ(s.info.frames, static_cast<sf_count_t>(frames));
  EXPECT_EQ(s.info.channels, 2);
  EXPECT_EQ(s.info.samplerate, 48000);
  EXPECT_EQ(s.info.format, expected_format);
  for (uint32_t c = 0; c < 2; ++c)
    for (uint64_t f = 0; f < frames; ++f) {
      if (tolerance == 0)
        ASSERT_EQ(s.data[c][f], signal(0, c, f)) << "channel " << c << " frame " << f;
      else
        ASSERT_NEAR(s.data[c][f], signal(0, c, f), tolerance) << "channel " << c << " frame " << f;
    }
}

// Integer formats: write rounds x * (2^(n-1) - 1), read divides by 2^(n-1): at most 1.5 LSB off.
INSTANTIATE_TEST_SUITE_P(
  recorder, recorder_round_trip,
  ::testing::Values(format_case{wav, bits_float, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 0},
                    format_case{wav, bits16, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 1.5 / 32768},
                    format_case{wav, bits24, SF_FORMAT_WAV | SF_FORMAT_PCM_24, 1.5 / 8388608},
                    format_case{flac, bits16, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 1.5 / 32768},
                    format_case{flac, bits24, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1.5 / 8388608},
                    format_case{flac, bits_float, SF_FORMAT_FLAC | SF_FORMAT_PCM_24,
                                1.5 / 8388608}));

TEST(recorder, channel_count_follows_the_input) {
  const std::string path = temp_path("mono.wav");
  recorder(path, {{"bits", bits_float}}, 1)->run(4800);
  const auto s = read_back(path);
  EXPECT_EQ(s.info.channels, 1);
  EXPECT_EQ(s.info.frames, 4800);
  EXPECT_EQ(s.data[0][4799], signal(0, 0, 4799));
}

TEST(recorder, records_longer_than_its_ring_while_its_writer_keeps_up) {
  const std::string path = temp_path("long.wav");
  constexpr uint64_t frames = 3 * 48000, chunk = 2400;
  constexpr uint64_t ring = 24000;  // buffer 0.5 s
  {
    auto h = recorder(path, {{"bits", bits_float}, {"buffer", 0.5}}, 2);
    const auto header = std::filesystem::file_size(path);
    // Each chunk is fed once the file shows the ring has room for it (with a chunk to spare),
    // as a device would feed it at any speed the writer keeps up with. Six rings in all.
    for (uint64_t done = 0; done < frames; done += chunk) {
      ASSERT_TRUE(eventually(
        [&] { return done <= frames_on_disk(path, header, 2) + ring - 2 * chunk; }))
        << "the writer stalled at " << frames_on_disk(path, header, 2) << " of " << done;
      h->run(chunk, 128);
    }
    EXPECT_TRUE(h->telemetry().empty()) << "nothing dropped";
  }
  const auto s = read_back(path);
  ASSERT_EQ(s.info.frames, static_cast<sf_count_t>(frames));
  for (uint64_t f = 0; f < frames; ++f)
    ASSERT_EQ(s.data[1][f], signal(0, 1, f)) << f;
}

TEST(recorder, overflow_drops_whole_blocks_counts_them_and_reports_telemetry) {
  const std::string path = temp_path("overflow.wav");
  constexpr uint64_t burst = 10 * 48000;  // 100x the ring, far faster than real time
  uint64_t fed = burst;
  std::vector<telemetry_record> records;
  {
    auto h = recorder(path, {{"bits", bits_float}, {"buffer", 0.1}}, 2);
    const auto header = std::filesystem::file_size(path);
    h->run(burst, 128);
    // The drops not reported yet are posted with the next block that fits: feed a block at a
    // time until the file holds every frame not reported dropped (the writer has caught up) and
    // ends with the block fed last (it fitted: a dropped one can be reported at once when the
    // last record is old enough, which balances the count without a block having fitted).
    auto reported = [&] {
      return h->telemetry().empty() ? uint64_t{0}
                                    : static_cast<uint64_t>(h->telemetry().back().values[2]);
    };
    auto balanced = [&] { return frames_on_disk(path, header, 2) + reported() == fed; };
    auto settled = [&] { return balanced() && ends_with_block(path, header, 2, fed, 128); };
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    do {
      h->run(128, 128);
      fed += 128;
      for (int i = 0; i < 20 && !balanced(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    } while (!settled() && std::chrono::steady_clock::now() < end);
    ASSERT_TRUE(balanced()) << "the writer never caught up";
    ASSERT_TRUE(settled()) << "no block fitted after the burst";
    std::cout << "overflow: " << (fed - burst) / 128 << " blocks fed after the burst\n";
    records = h->telemetry();
  }
  ASSERT_FALSE(records.empty());
  uint64_t reported = 0;
  for (const auto& r : records) {
    EXPECT_EQ(r.kind, telemetry_record::error);
    EXPECT_EQ(r.count, 3u);
    EXPECT_EQ(r.values[0], recorder_kernel::recorder_overflow);
    EXPECT_EQ(static_cast<uint64_t>(r.values[1]) % 128, 0u) << "whole blocks";
    reported += static_cast<uint64_t>(r.values[1]);
    EXPECT_EQ(static_cast<uint64_t>(r.values[2]), reported) << "running total";
  }
  // Rate-limited: not one record per dropped block.
  EXPECT_LT(records.size(), reported / 128);
  const auto s = read_back(path);
  EXPECT_GT(reported, 0u);
  EXPECT_EQ(static_cast<uint64_t>(s.info.frames) + reported, fed)
    << "every frame is either in the file or counted as dropped";
  // What was kept is whole blocks of the input, in order: the last block is the last 128
  // frames fed.
  for (uint64_t i = 0; i < 128; ++i)
    ASSERT_EQ(s.data[0][s.info.frames - 128 + i], signal(0, 0, fed - 128 + i)) << i;
}

TEST(recorder, an_unwritable_path_fails_prepare_with_the_path_and_the_reason) {
  const std::string path = temp_path("no_such_dir/x.wav");
  const auto prepared = prepare_recorder(path, 2);
  ASSERT_FALSE(prepared) << "prepare accepted an unwritable path";
  EXPECT_NE(prepared.error().find(path), std::string::npos) << prepared.error();
  EXPECT_NE(prepared.error().find("No such file"), std::string::npos) << prepared.error();
  EXPECT_FALSE(prepare_recorder("", 2));
  // The harness refuses a kernel that cannot prepare.
  EXPECT_THROW(recorder("", {}, 2), std::runtime_error);
}

} // namespace
} // namespace sg::test
