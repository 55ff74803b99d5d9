#include "nodes/audio/recorder/recorder.hpp"

#include <algorithm>
#include <cmath>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

int sndfile_format(uint32_t container, uint32_t bits) {
  const bool flac = container == 1;
  const int major = flac ? SF_FORMAT_FLAC : SF_FORMAT_WAV;
  if (bits == 0)
    return major | SF_FORMAT_PCM_16;
  if (bits == 2 && !flac)
    return major | SF_FORMAT_FLOAT;
  return major | SF_FORMAT_PCM_24;  // 24, and float with FLAC (integer-only)
}

} // namespace

recorder_kernel::~recorder_kernel() {
  stop_writer();
}

void recorder_kernel::configure(const param_values& values) {
  path_ = values.strings[file];
  format_ = static_cast<uint32_t>(std::clamp<long>(std::lround(values.numbers[format]), 0, 1));
  bits_ = static_cast<uint32_t>(std::clamp<long>(std::lround(values.numbers[bits]), 0, 2));
  buffer_s_ = std::clamp(values.numbers[buffer], 0.1, 10.0);
}

expected<void> recorder_kernel::open(double sample_rate) {
  if (path_.empty())
    return unexpected("audio.recorder: no file given (parameter 'file')");
  SF_INFO info{};
  info.samplerate = static_cast<int>(std::lround(sample_rate));
  info.channels = static_cast<int>(channels_);
  info.format = sndfile_format(format_, bits_);
  if (!sf_format_check(&info))
    return unexpected("audio.recorder: libsndfile cannot write " + std::to_string(channels_) +
                      " channels in this format to '" + path_ + "'");
  sndfile_ = sf_open(path_.c_str(), SFM_WRITE, &info);
  if (!sndfile_)
    return unexpected("audio.recorder: cannot create '" + path_ + "': " + sf_strerror(nullptr));
  // Clip rather than wrap when a float sample beyond +-1 becomes an integer.
  sf_command(sndfile_, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  // Keep the WAV header valid after every write, so a crash loses only the unwritten ring.
  if (format_ == 0)
    sf_command(sndfile_, SFC_SET_UPDATE_HEADER_AUTO, nullptr, SF_TRUE);
  return {};
}

expected<void> recorder_kernel::prepare(const audio_format& fmt, const port_layout& layout) {
  stop_writer();
  channels_ = layout.in_channels.empty() ? 1 : std::max<uint32_t>(layout.in_channels[0], 1);
  if (auto opened = open(fmt.sample_rate); !opened)
    return opened;
  const size_t ring_frames =
    std::max<size_t>(static_cast<size_t>(buffer_s_ * fmt.sample_rate), 4 * fmt.max_block);
  ring_ = std::make_unique<boost::lockfree::spsc_queue<float>>(ring_frames * channels_);
  interleaved_.assign(static_cast<size_t>(fmt.max_block) * channels_, 0.0f);
  scratch_.assign(ring_frames * channels_, 0.0f);
  // Drain at least four times per ring's worth of audio, and at least every 10 ms.
  period_ = std::chrono::milliseconds(
    std::clamp<long>(std::lround(buffer_s_ * 1000 / 4), 1, 10));
  post_interval_ = static_cast<uint64_t>(fmt.sample_rate / 10);
  frames_since_post_ = post_interval_;
  stop_.store(false);
  writer_ = std::thread([this] { writer_loop(); });
  return {};
}

void recorder_kernel::stop_writer() {
  if (writer_.joinable()) {
    stop_.store(true);
    writer_.join();
  }
  if (sndfile_) {
    while (ring_ && drain() > 0) {
    }
    sf_close(sndfile_);
    sndfile_ = nullptr;
  }
}

void recorder_kernel::writer_loop() {
  while (!stop_.load()) {
    drain();
    std::this_thread::sleep_for(period_);
  }
}

size_t recorder_kernel::drain() {
  const size_t n = ring_->pop(scratch_.data(), scratch_.size());
  const auto frames = static_cast<sf_count_t>(n / channels_);
  if (frames > 0) {
    const sf_count_t written = sf_writef_float(sndfile_, scratch_.data(), frames);
    if (written < frames)
      write_failed_.fetch_add(static_cast<uint64_t>(frames - written), std::memory_order_relaxed);
  }
  return n;
}

void recorder_kernel::set_param(uint32_t, double) noexcept {
}

bool recorder_kernel::post(process_context& ctx, float code, uint64_t since,
                           uint64_t total) noexcept {
  if (!ctx.telemetry)
    return false;
  telemetry_record r;
  r.slot = ctx.slot;
  r.kind = telemetry_record::error;
  r.count = 3;
  r.values[0] = code;
  r.values[1] = static_cast<float>(since);
  r.values[2] = static_cast<float>(total);
  return ctx.telemetry->push(r);
}

void recorder_kernel::report(process_context& ctx, bool dropping) noexcept {
  frames_since_post_ += ctx.frames;
  if (dropped_pending_ > 0 && (!dropping || frames_since_post_ >= post_interval_) &&
      post(ctx, recorder_overflow, dropped_pending_, dropped_total_)) {
    dropped_pending_ = 0;
    frames_since_post_ = 0;
  }
  const uint64_t failed = write_failed_.load(std::memory_order_relaxed);
  if (failed != write_failed_reported_ &&
      post(ctx, recorder_write_failed, failed - write_failed_reported_, failed))
    write_failed_reported_ = failed;
}

process_status recorder_kernel::process(process_context& ctx) noexcept {
  const audio_bus& in = ctx.in[0];
  const size_t samples = static_cast<size_t>(ctx.frames) * channels_;
  const bool fits = in.count > 0 && ring_->write_available() >= samples;
  if (fits) {
    for (uint32_t c = 0; c < channels_; ++c) {
      const float* src = in.channels[c % in.count];
      for (uint32_t f = 0; f < ctx.frames; ++f)
        interleaved_[f * channels_ + c] = src[f];
    }
    ring_->push(interleaved_.data(), samples);
  } else {
    dropped_pending_ += ctx.frames;
    dropped_total_ += ctx.frames;
  }
  report(ctx, !fits);
  return process_status::ok;
}

node_info recorder_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.recorder";
  info.summary = "Records its input to a WAV or FLAC file (written off the realtime thread)";
  info.ports = {input("in", media_kind::audio)};
  info.params = {
    text("file", "", "Path of the file to write"),
    choice("format", {"wav", "flac"}, 0, "File format").on_rebuild(),
    choice("bits", {"16", "24", "float"}, 1, "Sample format (FLAC: float writes 24-bit)")
      .on_rebuild(),
    real("buffer", 0.1, 10, 1, "s", "Ring buffer between the audio thread and the writer")
      .on_rebuild(),
  };
  info.make = [] { return std::make_unique<recorder_kernel>(); };
  return info;
}

} // namespace sg
