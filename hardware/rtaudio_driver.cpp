#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <rtaudio/RtAudio.h>
#include <spdlog/spdlog.h>

#include "hardware/audio_driver.hpp"
#include "hardware/drivers.hpp"

namespace sg {

namespace {

/// The RtAudio stream and what its callback needs, on the heap: if closing the stream hangs
/// in the backend (a device gone mid-stream), the stream is abandoned to the thread closing it
/// instead of taking the device actor down with it.
struct rtaudio_stream {
  rtaudio_stream(RtAudio::Api api, render_engine& e) : audio(api), engine(&e) {
    audio.showWarnings(false);
  }
  RtAudio audio;
  render_engine* engine;
  /// Set when the driver lets go: the callback then renders silence without the engine.
  std::atomic<bool> released{false};
  std::atomic<pthread_t> audio_thread{};
};

/// thread: any. pthread_self, callable from nonblocking code: glibc does not annotate it, so
/// -Wfunction-effects cannot prove it; it reads the thread pointer and neither allocates nor
/// locks, which RTSan agrees with.
pthread_t current_thread() noexcept SG_NONBLOCKING {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
  return pthread_self();
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}

/// thread: a closer thread. Stops and closes the stream, leaving RtAudio's own close alone.
/// False when that close is stuck: then the stream must never be touched (or destroyed, which
/// closes it) again.
bool close_stream(rtaudio_stream& s) noexcept {
  try {
    RtAudio& audio = s.audio;
    // Open but no longer running means the backend is closing the stream itself (from its own
    // thread, when the device went away): closing it a second time concurrently crashes or
    // hangs, so let that close finish.
    if (!audio.isStreamRunning() && audio.isStreamOpen()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (audio.isStreamOpen() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (audio.isStreamOpen())
        return false;  // its close is stuck: a second one would deadlock on its mutex
      // Its thread returns right after marking the stream closed.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (audio.isStreamRunning())
      audio.abortStream();  // no drain wait: it never ends if the server went away
    if (audio.isStreamOpen())
      audio.closeStream();
  } catch (const RtAudioError&) {
    // Closing a device that already went away: nothing left to release.
  }
  return true;
}

class rtaudio_driver final : public audio_driver {
public:
  rtaudio_driver(RtAudio::Api api, std::string backend, render_engine& engine)
    : stream_(std::make_shared<rtaudio_stream>(api, engine)), backend_(std::move(backend)) {}

  ~rtaudio_driver() override { stop(); }

  /// thread: control. Opens and starts the stream; fails with RtAudio's reason (without the
  /// backend's name: the caller prefixes it).
  expected<void> open(const device_spec& spec) {
    try {
      return open_stream(spec);
    } catch (const RtAudioError& e) {
      return unexpected(e.getMessage());
    }
  }

  /// thread: control. Returns within 1.5 s whatever the backend does: the close
  /// runs on a thread of its own, which is left behind (with the stream) if it hangs.
  void stop() noexcept override {
    if (!stream_)
      return;
    std::shared_ptr<rtaudio_stream> s = std::move(stream_);
    s->released.store(true, std::memory_order_release);
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread closer([s, done] {
      if (!close_stream(*s))
        new std::shared_ptr<rtaudio_stream>(s);  // deliberately leaked: see close_stream
      done->store(true, std::memory_order_release);
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
    while (!done->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (done->load(std::memory_order_acquire)) {
      closer.join();
    } else {
      spdlog::warn("closing the {} stream hangs in the backend; it is abandoned and the device "
                   "reopened with a new client",
                   backend_);
      closer.detach();
    }
  }

  std::string backend() const override { return backend_; }
  /// RtAudio says one figure for the whole stream (input plus output); it stands for both.
  device_latency latency() const override {
    if (!stream_ || !stream_->audio.isStreamOpen())
      return {};
    try {
      const auto frames = static_cast<uint32_t>(stream_->audio.getStreamLatency());
      return {frames, frames};
    } catch (const RtAudioError&) {
      return {};
    }
  }
  bool alive() const override {
    if (!stream_)
      return false;
    auto& audio = stream_->audio;
    return audio.isStreamOpen() && audio.isStreamRunning();
  }
  uint32_t block() const override { return block_; }
  // thread: control. Asks about the audio thread the callback recorded (no syscall there).
  bool realtime_priority() const override {
    const pthread_t t = stream_ ? stream_->audio_thread.load(std::memory_order_acquire)
                                : pthread_t{};
    return t != pthread_t{} && thread_is_realtime(t);
  }

  void promote_realtime() override {
    if (promoted_ || !stream_)
      return;
    const pthread_t t = stream_->audio_thread.load(std::memory_order_acquire);
    if (t == pthread_t{})
      return;
    promoted_ = true;
    promote_to_fifo(t, priority_);
  }

private:
  /// thread: control. `open` without the catch: RtAudio throws RtAudioError.
  expected<void> open_stream(const device_spec& spec) {
    RtAudio& audio = stream_->audio;
    if (audio.getDeviceCount() == 0)
      return unexpected("no " + backend_ + " device (is the server running?)");
    RtAudio::StreamParameters out;
    out.deviceId = audio.getDefaultOutputDevice();
    auto it = spec.options.find("device");
    if (it != spec.options.end()) {
      auto id = find_device(it->second);
      if (!id)
        return unexpected(id.error());
      out.deviceId = *id;
    }
    out.nChannels = spec.channels;
    // Inputs from the same device (its default input without a `device:`), opened duplex so
    // both run in one callback.
    RtAudio::StreamParameters in;
    in.deviceId = it != spec.options.end() ? out.deviceId : audio.getDefaultInputDevice();
    in.nChannels = spec.inputs;
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_NONINTERLEAVED | RTAUDIO_SCHEDULE_REALTIME;
    auto cn = spec.options.find("client_name");
    options.streamName = cn != spec.options.end() ? cn->second : "studiograph";
    auto pr = spec.options.find("priority");
    if (pr != spec.options.end())
      priority_ = std::clamp(std::atoi(pr->second.c_str()), 1, 95);
    options.priority = priority_;
    block_ = spec.block;
    audio.openStream(spec.channels > 0 ? &out : nullptr, spec.inputs > 0 ? &in : nullptr,
                     RTAUDIO_FLOAT32, spec.sample_rate, &block_, &callback, stream_.get(),
                     &options, nullptr);
    audio.startStream();
    return {};
  }

  /// thread: control. The index of the device called `name` (RtAudio may throw RtAudioError).
  expected<unsigned> find_device(const std::string& name) {
    RtAudio& audio = stream_->audio;
    for (unsigned i = 0; i < audio.getDeviceCount(); ++i)
      if (audio.getDeviceInfo(i).name == name)
        return i;
    return unexpected("no " + backend_ + " device named '" + name + "'");
  }

  // thread: realtime (the backend's audio thread).
  static int callback(void* out, void* in, unsigned int frames, double,
                      RtAudioStreamStatus status, void* user) noexcept SG_NONBLOCKING {
    auto* s = static_cast<rtaudio_stream*>(user);
    constexpr uint32_t most = render_engine::max_channels;
    const uint32_t nch = std::min(s->engine->device_channels(), most);
    const uint32_t nin = in ? std::min(s->engine->input_channels(), most) : 0;
    if (s->released.load(std::memory_order_acquire)) {
      if (out)
        std::memset(out, 0, sizeof(float) * nch * frames);
      return 0;
    }
    render_engine& engine = *s->engine;
    if (status & (RTAUDIO_OUTPUT_UNDERFLOW | RTAUDIO_INPUT_OVERFLOW))
      engine.stats().xruns.fetch_add(1, std::memory_order_relaxed);
    if (s->audio_thread.load(std::memory_order_relaxed) == pthread_t{})
      s->audio_thread.store(current_thread(), std::memory_order_release);
    float* channels[most];
    const float* inputs[most];
    for (uint32_t c = 0; c < nch; ++c)
      channels[c] = static_cast<float*>(out) + static_cast<size_t>(c) * frames;
    for (uint32_t c = 0; c < nin; ++c)
      inputs[c] = static_cast<const float*>(in) + static_cast<size_t>(c) * frames;
    engine.render(nin > 0 ? inputs : nullptr, channels, frames);
    return 0;
  }

  std::shared_ptr<rtaudio_stream> stream_;
  std::string backend_;
  unsigned block_ = 0;
  int priority_ = 70;
  bool promoted_ = false;  // control side only
};

} // namespace

expected<std::unique_ptr<audio_driver>>
open_rtaudio(const std::string& backend, const device_spec& spec, render_engine& engine) {
  const RtAudio::Api api = backend == "alsa" ? RtAudio::LINUX_ALSA : RtAudio::LINUX_PULSE;
  std::vector<RtAudio::Api> compiled;
  RtAudio::getCompiledApi(compiled);
  if (std::find(compiled.begin(), compiled.end(), api) == compiled.end())
    return unexpected(backend + ": not compiled into this RtAudio");
  std::unique_ptr<rtaudio_driver> driver;
  try {
    driver = std::make_unique<rtaudio_driver>(api, backend, engine);
  } catch (const RtAudioError& e) {
    return unexpected(backend + ": " + e.getMessage());
  }
  if (auto opened = driver->open(spec); !opened)
    return unexpected(backend + ": " + opened.error());  // the driver closes what it opened
  return std::unique_ptr<audio_driver>(std::move(driver));
}

} // namespace sg
