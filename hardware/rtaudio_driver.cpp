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

#include "hardware/audio_driver.hpp"
#include "hardware/drivers.hpp"

namespace sg {

namespace {

/// The RtAudio stream and what its callback needs, on the heap: if closing the stream hangs
/// inside libjack (it can, when the server went away), the stream is abandoned to the thread
/// closing it instead of taking the device actor down with it.
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

/// thread: a closer thread. Stops and closes the stream, leaving RtAudio's own close alone.
/// False when that close is stuck: then the stream must never be touched (or destroyed, which
/// closes it) again.
bool close_stream(rtaudio_stream& s) noexcept {
  try {
    RtAudio& audio = s.audio;
    // Open but no longer running means the backend is closing the stream itself (RtAudio's
    // JACK backend does so from its own thread when the server shuts the client down):
    // closing it a second time concurrently crashes or hangs, so let that close finish.
    if (!audio.isStreamRunning() && audio.isStreamOpen()) {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      while (audio.isStreamOpen() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      if (audio.isStreamOpen())
        return false;  // its close is stuck in libjack: a second one would deadlock on its mutex
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

  // thread: control. Throws RtAudioError when the device cannot be opened.
  void open(const v1::DeviceSpec& spec) {
    RtAudio& audio = stream_->audio;
    if (audio.getDeviceCount() == 0)
      throw RtAudioError("no " + backend_ + " device (is the server running?)");
    RtAudio::StreamParameters out;
    out.deviceId = audio.getDefaultOutputDevice();
    auto it = spec.options().find("device");
    if (it != spec.options().end())
      out.deviceId = find_device(it->second);
    out.nChannels = spec.channels();
    RtAudio::StreamOptions options;
    options.flags = RTAUDIO_NONINTERLEAVED | RTAUDIO_SCHEDULE_REALTIME;
    auto cn = spec.options().find("client_name");
    options.streamName = cn != spec.options().end() ? cn->second : "studiograph";
    auto pr = spec.options().find("priority");
    if (pr != spec.options().end())
      priority_ = std::clamp(std::atoi(pr->second.c_str()), 1, 95);
    options.priority = priority_;
    block_ = spec.block();
    audio.openStream(&out, nullptr, RTAUDIO_FLOAT32, spec.sample_rate(), &block_, &callback,
                     stream_.get(), &options, nullptr);
    audio.startStream();
  }

  /// thread: control. Returns within 1.5 s whatever libjack does: the close
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
      std::fprintf(stderr, "studiograph: closing the %s stream hangs in the backend; it is "
                           "abandoned and the device reopened with a new client\n",
                   backend_.c_str());
      closer.detach();
    }
  }

  /// thread: control. After a loss RtAudio's JACK backend closes the stream from a thread of
  /// its own (its state stays "running" until that close ends), so any call of ours could run
  /// concurrently with it, and two closes deadlock inside libjack, taking every later JACK
  /// client of this process with them. So: only watch. A thread waits (up to 10 s) for the
  /// stream to be closed and then frees it; a stream never closed is leaked with its client.
  void abandon() noexcept override {
    if (!stream_)
      return;
    if (backend_ != "jack") {
      stop();  // the other backends do not close streams behind our back
      return;
    }
    std::shared_ptr<rtaudio_stream> s = std::move(stream_);
    s->released.store(true, std::memory_order_release);
    std::thread([s] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (s->audio.isStreamOpen() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (s->audio.isStreamOpen()) {
        std::fprintf(stderr, "studiograph: the lost stream was never closed by the backend; "
                             "it is left open\n");
        new std::shared_ptr<rtaudio_stream>(s);  // deliberately leaked: destroying it closes it
        return;
      }
      // RtAudio marks the stream closed as the last step of its close; let its thread return.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }).detach();
  }

  std::string backend() const override { return backend_; }
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
    if (thread_is_realtime(t))
      return;
    sched_param param{};
    param.sched_priority = priority_;
    pthread_setschedparam(t, SCHED_FIFO, &param);
  }

private:
  unsigned find_device(const std::string& name) {
    RtAudio& audio = stream_->audio;
    for (unsigned i = 0; i < audio.getDeviceCount(); ++i)
      if (audio.getDeviceInfo(i).name == name)
        return i;
    throw RtAudioError("no " + backend_ + " device named '" + name + "'");
  }

  // thread: realtime (the backend's audio thread).
  static int callback(void* out, void*, unsigned int frames, double,
                      RtAudioStreamStatus status, void* user) {
    auto* s = static_cast<rtaudio_stream*>(user);
    const uint32_t nch = s->engine->device_channels() < 64 ? s->engine->device_channels() : 64;
    if (s->released.load(std::memory_order_acquire)) {
      std::memset(out, 0, sizeof(float) * nch * frames);
      return 0;
    }
    render_engine& engine = *s->engine;
    if (status & RTAUDIO_OUTPUT_UNDERFLOW)
      engine.stats().xruns.fetch_add(1, std::memory_order_relaxed);
    if (s->audio_thread.load(std::memory_order_relaxed) == pthread_t{})
      s->audio_thread.store(pthread_self(), std::memory_order_release);
    float* channels[64];
    for (uint32_t c = 0; c < nch; ++c)
      channels[c] = static_cast<float*>(out) + static_cast<size_t>(c) * frames;
    engine.render(channels, frames);
    return 0;
  }

  std::shared_ptr<rtaudio_stream> stream_;
  std::string backend_;
  unsigned block_ = 0;
  int priority_ = 70;
  bool promoted_ = false;  // control side only
};

} // namespace

std::unique_ptr<audio_driver> open_rtaudio(const std::string& backend,
                                           const v1::DeviceSpec& spec, render_engine& engine,
                                           std::string& error) {
  RtAudio::Api api = backend == "jack"    ? RtAudio::UNIX_JACK
                     : backend == "alsa"  ? RtAudio::LINUX_ALSA
                                          : RtAudio::LINUX_PULSE;
  std::vector<RtAudio::Api> compiled;
  RtAudio::getCompiledApi(compiled);
  if (std::find(compiled.begin(), compiled.end(), api) == compiled.end()) {
    error = backend + ": not compiled into this RtAudio";
    return nullptr;
  }
  try {
    auto driver = std::make_unique<rtaudio_driver>(api, backend, engine);
    driver->open(spec);
    return driver;
  } catch (const RtAudioError& e) {
    error = backend + ": " + e.getMessage();
    return nullptr;
  }
}

} // namespace sg
