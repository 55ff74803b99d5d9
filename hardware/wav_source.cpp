#include "hardware/wav_source.hpp"

#include <cstring>

#include <samplerate.h>
#include <sndfile.h>

namespace sg {

namespace {

/// The file's frames, planar, converted from `from` Hz to `to` Hz.
expected<std::vector<std::vector<float>>> read_planar(SNDFILE* f, const SF_INFO& info,
                                                       uint32_t to) {
  const auto nch = static_cast<size_t>(info.channels);
  std::vector<float> interleaved(static_cast<size_t>(info.frames) * nch);
  const sf_count_t got = sf_readf_float(f, interleaved.data(), info.frames);
  interleaved.resize(static_cast<size_t>(got) * nch);
  if (static_cast<uint32_t>(info.samplerate) != to && got > 0) {
    const double ratio = static_cast<double>(to) / info.samplerate;
    std::vector<float> converted(static_cast<size_t>(static_cast<double>(got) * ratio + 16) * nch);
    SRC_DATA d{};
    d.data_in = interleaved.data();
    d.input_frames = static_cast<long>(got);
    d.data_out = converted.data();
    d.output_frames = static_cast<long>(converted.size() / nch);
    d.src_ratio = ratio;
    if (int e = src_simple(&d, SRC_SINC_BEST_QUALITY, info.channels); e != 0)
      return unexpected(std::string("sample rate conversion failed: ") + src_strerror(e));
    converted.resize(static_cast<size_t>(d.output_frames_gen) * nch);
    interleaved = std::move(converted);
  }
  std::vector<std::vector<float>> planar(nch);
  const size_t frames = interleaved.size() / nch;
  for (size_t c = 0; c < nch; ++c) {
    planar[c].resize(frames);
    for (size_t i = 0; i < frames; ++i)
      planar[c][i] = interleaved[i * nch + c];
  }
  return planar;
}

} // namespace

expected<wav_source> wav_source::open(const std::string& path, uint32_t channels, uint32_t rate,
                                      uint32_t max_block) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  if (!f)
    return unexpected("cannot read the input file '" + path + "': " + sf_strerror(nullptr));
  auto planar = read_planar(f, info, rate);
  sf_close(f);
  if (!planar)
    return unexpected("input file '" + path + "': " + planar.error());
  if (planar->empty() || planar->front().empty())
    return unexpected("input file '" + path + "' holds no audio");
  wav_source s = silence(channels, max_block);
  s.file_ = std::move(*planar);
  return s;
}

wav_source wav_source::silence(uint32_t channels, uint32_t max_block) {
  wav_source s;
  s.block_.assign(static_cast<size_t>(channels) * max_block, 0.0f);
  for (uint32_t c = 0; c < channels; ++c)
    s.block_ptrs_.push_back(s.block_.data() + static_cast<size_t>(c) * max_block);
  return s;
}

const float* const* wav_source::next(uint32_t frames) noexcept {
  if (file_.empty())
    return block_ptrs_.data();
  const uint64_t length = file_.front().size();
  for (size_t c = 0; c < block_ptrs_.size(); ++c) {
    const std::vector<float>& src = file_[c % file_.size()];
    uint64_t at = position_;
    for (uint32_t done = 0; done < frames;) {
      const uint32_t n = static_cast<uint32_t>(
        length - at < frames - done ? length - at : frames - done);
      std::memcpy(block_ptrs_[c] + done, src.data() + at, n * sizeof(float));
      done += n;
      at = at + n == length ? 0 : at + n;
    }
  }
  position_ = (position_ + frames) % length;
  return block_ptrs_.data();
}

} // namespace sg
