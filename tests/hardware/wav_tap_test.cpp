// The null device's WAV tap hands blocks from the realtime thread to a writer thread. Whatever
// the writer's timing, the file holds every frame pushed, in order, channels in their places.

#include <gtest/gtest.h>

#include <array>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include <sndfile.h>

#include "hardware/wav_tap.hpp"

namespace sg {
namespace {

namespace fs = std::filesystem;

/// Frame k carries k (mod 2^20, exact in a float) on the left and -k on the right.
float left_of(uint64_t k) {
  return static_cast<float>(k % (1u << 20));
}

// The writer drains continuously while the producer pushes: it sees the ring at every point of
// a push. A writer that could see part of a frame would shift every later frame by a channel.
TEST(wav_tap, a_continuously_draining_writer_keeps_every_frame_in_its_place) {
  const fs::path path = fs::temp_directory_path() / ("sg-wav-tap-" + std::to_string(getpid()) + ".wav");
  constexpr uint32_t block = 64, blocks = 8000;
  constexpr uint64_t total = uint64_t{block} * blocks;
  SF_INFO info{};
  info.samplerate = 48000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << sf_strerror(nullptr);
  uint64_t dropped = 0;
  {
    wav_tap tap(f, 2, total, block, std::chrono::microseconds(0));
    std::array<std::vector<float>, 2> planar{std::vector<float>(block), std::vector<float>(block)};
    std::array<float*, 2> channels{planar[0].data(), planar[1].data()};
    uint64_t k = 0;
    for (uint32_t b = 0; b < blocks; ++b) {
      for (uint32_t i = 0; i < block; ++i, ++k) {
        planar[0][i] = left_of(k);
        planar[1][i] = -left_of(k);
      }
      tap.push(channels.data(), block);
      if (b % 64 == 0)
        std::this_thread::yield();  // let the writer in mid-stream
    }
    dropped = tap.dropped();
  }  // the destructor writes what is left and closes the file
  EXPECT_EQ(dropped, 0u);
  SF_INFO in{};
  SNDFILE* r = sf_open(path.c_str(), SFM_READ, &in);
  ASSERT_NE(r, nullptr) << sf_strerror(nullptr);
  ASSERT_EQ(in.channels, 2);
  ASSERT_EQ(static_cast<uint64_t>(in.frames), total);
  std::vector<float> x(total * 2);
  ASSERT_EQ(sf_readf_float(r, x.data(), static_cast<sf_count_t>(total)),
            static_cast<sf_count_t>(total));
  sf_close(r);
  fs::remove(path);
  for (uint64_t k = 0; k < total; ++k)
    if (x[2 * k] != left_of(k) || x[2 * k + 1] != -left_of(k))
      FAIL() << "frame " << k << " is (" << x[2 * k] << ", " << x[2 * k + 1] << "), expected ("
             << left_of(k) << ", " << -left_of(k) << ")";
}

} // namespace
} // namespace sg
