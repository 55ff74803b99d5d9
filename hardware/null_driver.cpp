#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <sndfile.h>

#include "hardware/drivers.hpp"
#include "hardware/wav_source.hpp"
#include "hardware/wav_tap.hpp"

namespace sg {

bool thread_is_realtime(pthread_t t) {
  int policy = 0;
  sched_param param{};
  if (pthread_getschedparam(t, &policy, &param) != 0)
    return false;
  return policy == SCHED_FIFO || policy == SCHED_RR;
}

void promote_to_fifo(pthread_t t, int priority) {
  if (thread_is_realtime(t))
    return;
  sched_param param{};
  param.sched_priority = priority;
  pthread_setschedparam(t, SCHED_FIFO, &param);
}

namespace {

constexpr long ns_per_s = 1'000'000'000L;

class null_driver final : public audio_driver {
public:
 null_driver(const device_spec& spec, render_engine& engine, std::unique_ptr<wav_tap> tap,
             std::unique_ptr<wav_source> input)
     : engine_(engine), block_(spec.block), tap_(std::move(tap)), input_(std::move(input)) {
   buffers_.assign(static_cast<size_t>(engine.device_channels()) * block_, 0.0f);
   for (uint32_t c = 0; c < engine.device_channels(); ++c)
     channels_.push_back(buffers_.data() + static_cast<size_t>(c) * block_);
   period_ns_ = static_cast<long>(static_cast<double>(block_) * ns_per_s / spec.sample_rate);
   thread_ = std::thread([this] { run(); });
 }

  ~null_driver() override { stop(); }

  void stop() noexcept override {
    if (thread_.joinable()) {
      running_.store(false);
      thread_.join();
    }
    tap_.reset();
  }

  std::string backend() const override { return "null"; }
  uint32_t block() const override { return block_; }
  bool realtime_priority() const override { return rt_.load(); }

private:
  // thread: realtime. One block per period on an absolute schedule; the wait between blocks
  // is the only blocking call, and it is outside the block itself.
  void run() {
    sched_param param{};
    param.sched_priority = 70;
    rt_.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0);
    auto next = realtime_now();
    while (running_.load(std::memory_order_relaxed)) {
      next = cycle(next);
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        next.time_since_epoch()).count();
      timespec at{};
      at.tv_sec = static_cast<time_t>(ns / ns_per_s);
      at.tv_nsec = static_cast<long>(ns % ns_per_s);
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
    }
  }

  // thread: realtime. Renders and taps one block that was due at `due`; returns when the next
  // one is due. A wake-up later than a whole period counts as an xrun and re-anchors the
  // schedule (the device "slipped"): the next block is due at once.
  std::chrono::steady_clock::time_point cycle(std::chrono::steady_clock::time_point due) noexcept
    SG_NONBLOCKING {
    engine_.render(input_ ? input_->next(block_) : nullptr, channels_.data(), block_);
    if (tap_)
      tap_->push(channels_.data(), block_);
    const auto period = std::chrono::nanoseconds(period_ns_);
    const auto next = due + period;
    const auto now = realtime_now();
    if (now > next + period) {
      engine_.stats().xruns.fetch_add(1, std::memory_order_relaxed);
      return now;
    }
    return next;
  }

  render_engine& engine_;
  uint32_t block_;
  long period_ns_ = 0;
  std::vector<float> buffers_;
  std::vector<float*> channels_;
  std::unique_ptr<wav_tap> tap_;
  std::unique_ptr<wav_source> input_;
  std::atomic<bool> running_{true};
  std::atomic<bool> rt_{false};
  std::thread thread_;
};

expected<SNDFILE*> open_wav(const std::string& path, uint32_t channels, uint32_t rate) {
  SF_INFO info{};
  info.samplerate = static_cast<int>(rate);
  info.channels = static_cast<int>(channels);
  info.format = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f)
    return unexpected("cannot write '" + path + "': " + sf_strerror(nullptr));
  return f;
}

/// The driver alone, for a backend named outright.
expected<opened_driver> only(expected<std::unique_ptr<audio_driver>> driver) {
  if (!driver)
    return unexpected(driver.error());
  return opened_driver{std::move(*driver), {}};
}

} // namespace

expected<std::unique_ptr<audio_driver>> open_null(const device_spec& spec, render_engine& engine) {
  std::unique_ptr<wav_tap> tap;
  auto it = spec.options.find("path");
  if (it != spec.options.end() && !it->second.empty()) {
    auto f = open_wav(it->second, engine.device_channels(), spec.sample_rate);
    if (!f)
      return unexpected(f.error());
    // Two seconds of ring: the writer drains every 20 ms.
    tap = std::make_unique<wav_tap>(*f, engine.device_channels(), spec.sample_rate * 2, spec.block);
  }
  auto input = open_input(spec);
  if (!input)
    return unexpected(input.error());
  return std::unique_ptr<audio_driver>(
    std::make_unique<null_driver>(spec, engine, std::move(tap), std::move(*input)));
}

expected<std::unique_ptr<wav_source>> open_input(const device_spec& spec) {
  if (spec.inputs == 0)
    return std::unique_ptr<wav_source>{};
  const std::string& path = spec.option("input", "");
  if (path.empty())
    return std::make_unique<wav_source>(wav_source::silence(spec.inputs, spec.block));
  auto source = wav_source::open(path, spec.inputs, spec.sample_rate, spec.block);
  if (!source)
    return unexpected(source.error());
  return std::make_unique<wav_source>(std::move(*source));
}

expected<void> render_offline(
  render_engine& engine, uint32_t block, double seconds, const std::string& wav_path,
  const std::function<void(uint64_t first_frame, uint32_t frames)>& before_block,
  wav_source* input) {
  const auto rate = static_cast<uint32_t>(engine.sample_rate());
  auto file = open_wav(wav_path, engine.device_channels(), rate);
  if (!file)
    return unexpected(file.error());
  SNDFILE* f = *file;
  const uint32_t nch = engine.device_channels();
  // Blocks are rendered one at a time but written in batches of about 8192 frames: one write
  // per block would make the bounce cost more in syscalls than in DSP.
  const uint32_t batch_frames = std::max<uint32_t>(block, 8192 / block * block);
  std::vector<float> planar(static_cast<size_t>(nch) * block);
  std::vector<float> interleaved(static_cast<size_t>(nch) * batch_frames);
  std::vector<float*> channels;
  for (uint32_t c = 0; c < nch; ++c)
    channels.push_back(planar.data() + static_cast<size_t>(c) * block);
  auto remaining = static_cast<uint64_t>(seconds * rate + 0.5);
  uint32_t batched = 0;
  uint64_t done = 0;
  expected<void> written;
  auto flush = [&] {
    if (batched > 0 && sf_writef_float(f, interleaved.data(), batched) != batched)
      written = unexpected("write to '" + wav_path + "' failed: " + sf_strerror(f));
    batched = 0;
  };
  while (remaining > 0 && written) {
    const auto frames = static_cast<uint32_t>(remaining < block ? remaining : block);
    if (before_block)
      before_block(done, frames);
    engine.render(input ? input->next(frames) : nullptr, channels.data(), frames);
    done += frames;
    for (uint32_t fr = 0; fr < frames; ++fr)
      for (uint32_t c = 0; c < nch; ++c)
        interleaved[static_cast<size_t>(batched + fr) * nch + c] = channels[c][fr];
    batched += frames;
    if (batched + block > batch_frames)
      flush();
    remaining -= frames;
  }
  if (written)
    flush();
  sf_close(f);
  return written;
}

expected<opened_driver> open_audio_driver(const device_spec& spec, render_engine& engine,
                                          const device_ports& ports) {
  const std::string& backend = spec.backend.empty() ? std::string("auto") : spec.backend;
  auto open_backend = [&](const std::string& b) {
    return b == "jack" ? open_jack(spec, engine, ports) : open_rtaudio(b, spec, engine);
  };
  if (backend == "null")
    return only(open_null(spec, engine));
  if (backend != "auto")
    return only(open_backend(backend));
  std::string tried;
  for (const char* b : {"jack", "pulse", "alsa"}) {
    auto d = open_backend(b);
    if (d)
      return opened_driver{std::move(*d), {}};
    tried += (tried.empty() ? "" : "; ") + d.error();
  }
  auto d = open_null(spec, engine);
  if (!d)
    return unexpected(d.error());
  return opened_driver{std::move(*d), tried};  // why the hardware backends were skipped
}

} // namespace sg
