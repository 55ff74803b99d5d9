// The JACK backend, on libjack directly: one client per device, its ports named after the
// graph's nodes (hardware/device_ports.hpp), inputs and outputs rendered in the same process
// callback, connections made and re-made as the graph asks, and port latencies reported and
// passed on so other clients can compensate.

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include <jack/jack.h>
#include <spdlog/spdlog.h>

#include "hardware/audio_driver.hpp"
#include "hardware/drivers.hpp"

namespace sg {

namespace {

/// What the callbacks use, on the heap: a close that hangs inside libjack (it can when the
/// server went away) keeps it alive with the thread closing it instead of taking the device
/// actor down.
struct jack_client_state {
  render_engine* engine = nullptr;
  jack_client_t* client = nullptr;
  std::vector<jack_port_t*> ins, outs;  // fixed once the client is active
  /// Set when the driver lets go: the callback then writes silence without the engine.
  std::atomic<bool> released{false};
  std::atomic<bool> server_gone{false};
  /// A port appeared or went (ours or another program's): connections are looked at again.
  std::atomic<bool> ports_changed{true};
  std::atomic<pthread_t> audio_thread{};
  std::atomic<uint32_t> block{0};
};

/// JACK client closes still running in this process. libjack deadlocks when a client is opened
/// while another one closes (jack_client_open and jack_client_close take two of its locks in
/// opposite orders), so no JACK client is opened while this is above zero.
std::atomic<int> closes_in_flight{0};

/// thread: realtime. pthread_self and jack_port_get_buffer, callable from nonblocking code:
/// neither is annotated, so -Wfunction-effects cannot prove them; both only read (the thread
/// pointer, the port's buffer for this cycle), which RTSan agrees with.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
pthread_t current_thread() noexcept SG_NONBLOCKING {
  return pthread_self();
}
float* port_buffer(jack_port_t* port, jack_nframes_t frames) noexcept SG_NONBLOCKING {
  return static_cast<float*>(jack_port_get_buffer(port, frames));
}
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

// thread: realtime (libjack's process thread).
int on_process(jack_nframes_t frames, void* arg) noexcept SG_NONBLOCKING {
  auto* s = static_cast<jack_client_state*>(arg);
  const size_t nin = std::min<size_t>(s->ins.size(), render_engine::max_channels);
  const size_t nout = std::min<size_t>(s->outs.size(), render_engine::max_channels);
  float* out[render_engine::max_channels];
  const float* in[render_engine::max_channels];
  for (size_t c = 0; c < nout; ++c)
    out[c] = port_buffer(s->outs[c], frames);
  if (s->released.load(std::memory_order_acquire)) {
    for (size_t c = 0; c < nout; ++c)
      std::memset(out[c], 0, frames * sizeof(float));
    return 0;
  }
  for (size_t c = 0; c < nin; ++c)
    in[c] = port_buffer(s->ins[c], frames);
  if (s->audio_thread.load(std::memory_order_relaxed) == pthread_t{})
    s->audio_thread.store(current_thread(), std::memory_order_release);
  s->engine->render(nin > 0 ? in : nullptr, out, frames);
  return 0;
}

// thread: a libjack thread. The server's xruns (RtAudio counted them the same way).
int on_xrun(void* arg) {
  static_cast<jack_client_state*>(arg)->engine->stats().xruns.fetch_add(
    1, std::memory_order_relaxed);
  return 0;
}

int on_buffer_size(jack_nframes_t frames, void* arg) {
  static_cast<jack_client_state*>(arg)->block.store(frames, std::memory_order_relaxed);
  return 0;
}

void on_port_registration(jack_port_id_t, int, void* arg) {
  static_cast<jack_client_state*>(arg)->ports_changed.store(true, std::memory_order_release);
}

void on_shutdown(jack_status_t, const char*, void* arg) {
  static_cast<jack_client_state*>(arg)->server_gone.store(true, std::memory_order_release);
}

/// The widest of `ports`' latency ranges in `mode`.
jack_latency_range_t widest(const std::vector<jack_port_t*>& ports, jack_latency_callback_mode_t mode) {
  jack_latency_range_t all{0, 0};
  bool first = true;
  for (auto* p : ports) {
    jack_latency_range_t r;
    jack_port_get_latency_range(p, mode, &r);
    all.min = first ? r.min : std::min(all.min, r.min);
    all.max = first ? r.max : std::max(all.max, r.max);
    first = false;
  }
  return all;
}

// thread: a libjack thread. The graph adds no latency of its own (inputs are rendered in the
// block they arrive): what reaches our inputs leaves our outputs with the same capture
// latency, and our inputs are as far from the speakers as our outputs.
void on_latency(jack_latency_callback_mode_t mode, void* arg) {
  auto* s = static_cast<jack_client_state*>(arg);
  if (mode == JackCaptureLatency) {
    jack_latency_range_t r = widest(s->ins, JackCaptureLatency);
    for (auto* p : s->outs)
      jack_port_set_latency_range(p, JackCaptureLatency, &r);
  } else {
    jack_latency_range_t r = widest(s->outs, JackPlaybackLatency);
    for (auto* p : s->ins)
      jack_port_set_latency_range(p, JackPlaybackLatency, &r);
  }
}

/// What jack_client_open's status bits say, in words.
std::string open_failure(jack_status_t status) {
  if (status & JackServerFailed)
    return "no JACK server running (is jackd started?)";
  if (status & JackVersionError)
    return "the JACK server speaks another protocol version";
  if (status & JackShmFailure)
    return "JACK's shared memory is unavailable";
  return "the JACK server refused the client (status 0x" + std::to_string(status) + ")";
}

/// Closes `s`'s client on a thread of its own; true when it finished within 1.5 s. A close
/// that hangs keeps the thread, the state and the gate forever: the client is never touched
/// again.
bool close_client(const std::shared_ptr<jack_client_state>& s, std::chrono::milliseconds pause) {
  closes_in_flight.fetch_add(1);
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::thread closer([s, done, pause] {
    if (pause.count() > 0)
      std::this_thread::sleep_for(pause);  // libjack's threads finish their shutdown first
    if (!s->server_gone.load(std::memory_order_acquire))
      jack_deactivate(s->client);
    jack_client_close(s->client);
    closes_in_flight.fetch_sub(1);
    done->store(true, std::memory_order_release);
  });
  const auto deadline = std::chrono::steady_clock::now() + pause + std::chrono::milliseconds(1500);
  while (!done->load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (done->load(std::memory_order_acquire)) {
    closer.join();
    return true;
  }
  closer.detach();
  return false;
}

class jack_driver final : public audio_driver {
public:
  jack_driver(render_engine& engine, device_ports ports)
    : state_(std::make_shared<jack_client_state>()), ports_(std::move(ports)) {
    state_->engine = &engine;
  }
  ~jack_driver() override { stop(); }

  /// thread: control. Opens the client, registers its ports, activates it.
  expected<void> open(const device_spec& spec) {
    name_ = spec.option("client_name", "studiograph");
    jack_status_t status{};
    state_->client = jack_client_open(name_.c_str(), JackNoStartServer, &status);
    if (!state_->client)
      return unexpected(open_failure(status));
    jack_client_t* c = state_->client;
    name_ = jack_get_client_name(c);  // the server may have made it unique
    const jack_nframes_t rate = jack_get_sample_rate(c);
    if (rate != spec.sample_rate)
      return unexpected("the JACK server runs at " + std::to_string(rate) + " Hz, the device at " +
                        std::to_string(spec.sample_rate) + ": expected sample_rate: " +
                        std::to_string(rate));
    if (auto registered = register_ports(spec); !registered)
      return registered;
    state_->block.store(jack_get_buffer_size(c), std::memory_order_relaxed);
    jack_set_process_callback(c, on_process, state_.get());
    jack_set_xrun_callback(c, on_xrun, state_.get());
    jack_set_buffer_size_callback(c, on_buffer_size, state_.get());
    jack_set_port_registration_callback(c, on_port_registration, state_.get());
    jack_set_latency_callback(c, on_latency, state_.get());
    jack_on_info_shutdown(c, on_shutdown, state_.get());
    if (jack_activate(c) != 0)
      return unexpected("the JACK server did not activate the client");
    active_ = true;
    maintain();
    return {};
  }

  void stop() noexcept override {
    if (!state_)
      return;
    std::shared_ptr<jack_client_state> s = std::move(state_);
    s->released.store(true, std::memory_order_release);
    if (s->client && !close_client(s, std::chrono::milliseconds(0)))
      spdlog::warn("closing the JACK client {} hangs in libjack; it is abandoned", name_);
  }

  /// After a loss of the server: libjack is still inside its shutdown notification, so the
  /// client is closed a little later, from a thread of ours, while the actor goes on.
  void abandon() noexcept override {
    if (!state_)
      return;
    std::shared_ptr<jack_client_state> s = std::move(state_);
    s->released.store(true, std::memory_order_release);
    if (!s->client)
      return;
    closes_in_flight.fetch_add(1);
    std::thread([s] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      jack_client_close(s->client);
      closes_in_flight.fetch_sub(1);
    }).detach();
  }

  std::string backend() const override { return "jack"; }
  uint32_t block() const override {
    return state_ ? state_->block.load(std::memory_order_relaxed) : 0;
  }
  bool alive() const override {
    return state_ && active_ && !state_->server_gone.load(std::memory_order_acquire);
  }
  bool realtime_priority() const override {
    const pthread_t t = state_ ? state_->audio_thread.load(std::memory_order_acquire)
                               : pthread_t{};
    return t != pthread_t{} && thread_is_realtime(t);
  }
  void promote_realtime() override {
    if (promoted_ || !state_)
      return;
    const pthread_t t = state_->audio_thread.load(std::memory_order_acquire);
    if (t == pthread_t{})
      return;
    promoted_ = true;
    promote_to_fifo(t, priority_);
  }

  device_latency latency() const override {
    if (!alive())
      return {};
    device_latency l;
    l.input_frames = widest(state_->ins, JackCaptureLatency).max;
    l.output_frames = widest(state_->outs, JackPlaybackLatency).max;
    return l;
  }

  /// thread: control. Makes the connections the graph asks for that are missing, once ports
  /// came or went (another program starting again, say).
  void maintain() override {
    if (!alive() || !state_->ports_changed.exchange(false, std::memory_order_acq_rel))
      return;
    const auto sources = other_ports(JackPortIsOutput);
    const auto sinks = other_ports(JackPortIsInput);
    const auto capture = other_ports(JackPortIsOutput | JackPortIsPhysical);
    const auto playback = other_ports(JackPortIsInput | JackPortIsPhysical);
    for (const auto& g : ports_.input_groups)
      for (const auto& [ch, other] :
           group_connections(g, match_ports(g.patterns, sources, capture)))
        connect(other, full_name(state_->ins[ch]));
    for (const auto& g : ports_.output_groups)
      for (const auto& [ch, other] :
           group_connections(g, match_ports(g.patterns, sinks, playback)))
        connect(full_name(state_->outs[ch]), other);
  }

private:
  expected<void> register_ports(const device_spec& spec) {
    if (auto in = register_direction(spec.inputs, ports_.input_names, "in_", JackPortIsInput,
                                     state_->ins);
        !in)
      return in;
    if (auto out = register_direction(spec.channels, ports_.output_names, "out_",
                                      JackPortIsOutput, state_->outs);
        !out)
      return out;
    if (auto pr = spec.options.find("priority"); pr != spec.options.end())
      priority_ = std::clamp(std::atoi(pr->second.c_str()), 1, 95);
    return {};
  }

  /// Registers `count` ports named by `names` (`<fallback><k>` past its end) into `out`.
  expected<void> register_direction(uint32_t count, const std::vector<std::string>& names,
                                    const char* fallback, unsigned long flags,
                                    std::vector<jack_port_t*>& out) {
    for (uint32_t ch = 0; ch < count; ++ch) {
      const std::string name =
        ch < names.size() ? names[ch] : fallback + std::to_string(ch + 1);
      jack_port_t* p =
        jack_port_register(state_->client, name.c_str(), JACK_DEFAULT_AUDIO_TYPE, flags, 0);
      if (!p)
        return unexpected("could not register the JACK port " + name);
      out.push_back(p);
    }
    return {};
  }

  static std::string full_name(jack_port_t* p) { return jack_port_name(p); }

  /// Other programs' audio ports with `flags` (JackPortIsOutput: sources), in server order.
  std::vector<std::string> other_ports(unsigned long flags) const {
    std::vector<std::string> out;
    const char** names = jack_get_ports(state_->client, nullptr, JACK_DEFAULT_AUDIO_TYPE, flags);
    const std::string ours = name_ + ":";
    for (size_t i = 0; names && names[i]; ++i)
      if (std::strncmp(names[i], ours.c_str(), ours.size()) != 0)
        out.emplace_back(names[i]);
    if (names)
      jack_free(names);
    return out;
  }

  void connect(const std::string& from, const std::string& to) {
    const int r = jack_connect(state_->client, from.c_str(), to.c_str());
    if (r != 0 && r != EEXIST)
      spdlog::warn("JACK: could not connect {} to {} (error {})", from, to, r);
  }

  std::shared_ptr<jack_client_state> state_;
  device_ports ports_;
  std::string name_;
  bool active_ = false;
  bool promoted_ = false;  // control side only
  int priority_ = 70;
};

} // namespace

expected<std::unique_ptr<audio_driver>> open_jack(const device_spec& spec, render_engine& engine,
                                                  const device_ports& ports) {
  if (closes_in_flight.load() > 0)
    return unexpected("jack: the previous JACK client of this process is still closing "
                      "(libjack cannot open one meanwhile); if this persists, restart studiograph");
  auto driver = std::make_unique<jack_driver>(engine, ports);
  if (auto opened = driver->open(spec); !opened)
    return unexpected("jack: " + opened.error());  // the driver closes what it opened
  return std::unique_ptr<audio_driver>(std::move(driver));
}

} // namespace sg
