#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <memory>

#include <rtaudio/RtAudio.h>

#include "hardware/audio_driver.hpp"
#include "hardware/drivers.hpp"

namespace sg {

namespace {

class rtaudio_driver final : public audio_driver {
public:
  rtaudio_driver(RtAudio::Api api, std::string backend, render_engine& engine)
    : audio_(api), backend_(std::move(backend)), engine_(engine) {
    audio_.showWarnings(false);
  }

  ~rtaudio_driver() override { stop(); }

  // thread: control. Throws RtAudioError when the device cannot be opened.
  void open(const v1::DeviceSpec& spec) {
    if (audio_.getDeviceCount() == 0)
      throw RtAudioError("no " + backend_ + " device (is the server running?)");
    RtAudio::StreamParameters out;
    out.deviceId = audio_.getDefaultOutputDevice();
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
    audio_.openStream(&out, nullptr, RTAUDIO_FLOAT32, spec.sample_rate(), &block_, &callback,
                      this, &options, nullptr);
    audio_.startStream();
  }

  void stop() noexcept override {
    try {
      // Open but no longer running means the backend is closing the stream itself (RtAudio's
      // JACK backend does so from its own thread when the server shuts the client down):
      // closing it a second time concurrently crashes or hangs, so let that close finish.
      if (!audio_.isStreamRunning() && audio_.isStreamOpen()) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (audio_.isStreamOpen() && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        // Its thread returns right after marking the stream closed.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (audio_.isStreamRunning())
        audio_.abortStream();  // no drain wait: it never ends if the server went away
      if (audio_.isStreamOpen())
        audio_.closeStream();
    } catch (const RtAudioError&) {
      // Closing a device that already went away: nothing left to release.
    }
  }

  std::string backend() const override { return backend_; }
  bool alive() const override {
    auto& audio = const_cast<RtAudio&>(audio_);
    return audio.isStreamOpen() && audio.isStreamRunning();
  }
  uint32_t block() const override { return block_; }
  // thread: control. Asks about the audio thread the callback recorded (no syscall there).
  bool realtime_priority() const override {
    const pthread_t t = audio_thread_.load(std::memory_order_acquire);
    return t != pthread_t{} && thread_is_realtime(t);
  }

  void promote_realtime() override {
    if (promoted_)
      return;
    const pthread_t t = audio_thread_.load(std::memory_order_acquire);
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
    for (unsigned i = 0; i < audio_.getDeviceCount(); ++i)
      if (audio_.getDeviceInfo(i).name == name)
        return i;
    throw RtAudioError("no " + backend_ + " device named '" + name + "'");
  }

  // thread: realtime (the backend's audio thread).
  static int callback(void* out, void*, unsigned int frames, double,
                      RtAudioStreamStatus status, void* user) {
    auto* self = static_cast<rtaudio_driver*>(user);
    render_engine& engine = self->engine_;
    if (status & RTAUDIO_OUTPUT_UNDERFLOW)
      engine.stats().xruns.fetch_add(1, std::memory_order_relaxed);
    if (self->audio_thread_.load(std::memory_order_relaxed) == pthread_t{})
      self->audio_thread_.store(pthread_self(), std::memory_order_release);
    float* channels[64];
    const uint32_t nch = engine.device_channels() < 64 ? engine.device_channels() : 64;
    for (uint32_t c = 0; c < nch; ++c)
      channels[c] = static_cast<float*>(out) + static_cast<size_t>(c) * frames;
    engine.render(channels, frames);
    return 0;
  }

  RtAudio audio_;
  std::string backend_;
  render_engine& engine_;
  unsigned block_ = 0;
  int priority_ = 70;
  bool promoted_ = false;  // control side only
  std::atomic<pthread_t> audio_thread_{};
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
