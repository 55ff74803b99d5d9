#include "nodes/audio/player/player.hpp"

#include <cmath>
#include <memory>

#include <samplerate.h>
#include <sndfile.h>

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

struct sndfile_closer {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

/// Interleaved samples of the whole file.
std::vector<float> read_all(SNDFILE* f, uint32_t channels) {
  constexpr sf_count_t chunk = 65536;
  std::vector<float> data;
  for (;;) {
    const size_t have = data.size();
    data.resize(have + static_cast<size_t>(chunk) * channels);
    const sf_count_t got = sf_readf_float(f, data.data() + have, chunk);
    data.resize(have + static_cast<size_t>(got > 0 ? got : 0) * channels);
    if (got < chunk)
      return data;
  }
}

expected<std::vector<float>> resample(const std::vector<float>& in, uint32_t channels, double ratio,
                                      const std::string& path) {
  const auto frames = static_cast<long>(in.size() / channels);
  std::vector<float> out((static_cast<size_t>(std::ceil(frames * ratio)) + 64) * channels);
  SRC_DATA d{};
  d.data_in = in.data();
  d.input_frames = frames;
  d.data_out = out.data();
  d.output_frames = static_cast<long>(out.size() / channels);
  d.src_ratio = ratio;
  if (int err = src_simple(&d, SRC_SINC_MEDIUM_QUALITY, static_cast<int>(channels)))
    return unexpected("audio.player: cannot resample '" + path + "': " + src_strerror(err));
  out.resize(static_cast<size_t>(d.output_frames_gen) * channels);
  return out;
}

} // namespace

void player_kernel::configure(const param_values& values) {
  path_ = values.strings[file];
  const auto m = std::lround(values.numbers[mode]);
  mode_ = m == 1 ? play_mode::oneshot : m == 2 ? play_mode::trigger : play_mode::loop;
  level_db_ = values.numbers[level];
  start_s_ = values.numbers[start];
}

expected<void> player_kernel::load(double device_rate) {
  if (path_.empty())
    return unexpected("audio.player: no file given (parameter 'file')");
  SF_INFO info{};
  std::unique_ptr<SNDFILE, sndfile_closer> f{sf_open(path_.c_str(), SFM_READ, &info)};
  if (!f)
    return unexpected("audio.player: cannot open '" + path_ + "': " + sf_strerror(nullptr));
  const auto channels = static_cast<uint32_t>(info.channels);
  std::vector<float> data = read_all(f.get(), channels);
  if (data.empty())
    return unexpected("audio.player: '" + path_ + "' holds no audio frames");
  if (static_cast<double>(info.samplerate) != device_rate) {
    auto resampled = resample(data, channels, device_rate / info.samplerate, path_);
    if (!resampled)
      return unexpected(resampled.error());
    data = std::move(*resampled);
  }
  // Fold to stereo: mono feeds both sides, channel c lands on c % 2.
  length_ = data.size() / channels;
  for (auto& s : samples_)
    s.assign(length_, 0.0f);
  for (uint64_t f = 0; f < length_; ++f)
    for (uint32_t c = 0; c < channels; ++c)
      samples_[c & 1][f] += data[f * channels + c];
  if (channels == 1)
    samples_[1] = samples_[0];
  return {};
}

expected<void> player_kernel::prepare(const audio_format& format, const port_layout&) {
  if (auto loaded = load(format.sample_rate); !loaded)
    return loaded;
  start_frame_ = static_cast<uint64_t>(std::llround(start_s_ * format.sample_rate));
  if (start_frame_ >= length_)
    return unexpected("audio.player: start " + std::to_string(start_s_) +
                      " s is past the end of '" + path_ + "' (" +
                      std::to_string(length_ / format.sample_rate) + " s)");
  fade_frames_ = std::max<uint32_t>(1, static_cast<uint32_t>(format.sample_rate / 1000));
  gain_.prepare(format.sample_rate, db_to_gain(level_db_));
  main_ = tail_ = playhead{};
  if (mode_ != play_mode::trigger)
    main_ = {true, start_frame_, 1.0f, 0};
  return {};
}

void player_kernel::set_param(uint32_t index, double value) noexcept {
  if (index == level)
    gain_.set_target(db_to_gain(value));
}

void player_kernel::start_playing(float gain) noexcept {
  stop_playing();
  main_ = {true, start_frame_, gain, 0};
}

void player_kernel::stop_playing() noexcept {
  if (!main_.active)
    return;
  tail_ = main_;
  tail_.fade = fade_frames_;
  main_.active = false;
}

void player_kernel::render(const audio_bus& out, uint32_t from, uint32_t to) noexcept {
  const float* src[2] = {samples_[0].data(), samples_[1].data()};
  auto advance = [this](playhead& p) noexcept SG_NONBLOCKING {
    if (++p.pos < length_)
      return;
    p.pos = start_frame_;
    p.active = mode_ == play_mode::loop;
  };
  for (uint32_t f = from; f < to; ++f) {
    float s[2] = {0.0f, 0.0f};
    if (main_.active) {
      for (uint32_t c = 0; c < 2; ++c)
        s[c] += src[c][main_.pos] * main_.gain;
      advance(main_);
    }
    if (tail_.active) {
      const float g = tail_.gain * static_cast<float>(tail_.fade) / static_cast<float>(fade_frames_);
      for (uint32_t c = 0; c < 2; ++c)
        s[c] += src[c][tail_.pos] * g;
      advance(tail_);
      if (--tail_.fade == 0)
        tail_.active = false;
    }
    const float lv = gain_.next();
    for (uint32_t c = 0; c < out.count; ++c)
      out.channels[c][f] = s[c & 1] * lv;
  }
}

process_status player_kernel::process(process_context& ctx) noexcept {
  if (ctx.frames == 0)
    return process_status::silent;
  const audio_bus& out = ctx.out[0];
  const bool was_playing = main_.active || tail_.active;
  uint32_t pos = 0;
  for (uint32_t e = 0; e < ctx.n_events; ++e) {
    const kernel_event& ev = ctx.events[e];
    const uint32_t at = ev.offset < ctx.frames ? ev.offset : ctx.frames - 1;
    render(out, pos, at);
    pos = at > pos ? at : pos;
    if (ev.kind == kernel_event::trigger)
      start_playing(ev.velocity > 0.0f ? ev.velocity : 1.0f);
    else if (ev.kind == kernel_event::stop)
      stop_playing();
  }
  render(out, pos, ctx.frames);
  return was_playing || main_.active || tail_.active ? process_status::ok
                                                     : process_status::silent;
}

node_info player_info() {
  using namespace describe;
  node_info info;
  info.type = "audio.player";
  info.summary = "Sound file player: loop, one-shot or triggered";
  info.ports = {output("out", media_kind::audio, 2)};
  info.params = {
    text("file", "", "Path of the sound file"),
    choice("mode", {"loop", "oneshot", "trigger"}, 0,
           "loop, oneshot (once at start) or trigger (once per trigger event)")
      .on_rebuild(),
    real("level", -120, 24, 0, "dB", "Playback level"),
    real("start", 0, HUGE_VAL, 0, "s", "Where playback starts in the file").on_rebuild(),
  };
  info.accepts_events = true;
  info.make = [] { return std::make_unique<player_kernel>(); };
  return info;
}

} // namespace sg
