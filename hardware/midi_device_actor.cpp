#include "hardware/midi_device_actor.hpp"

#include <rtmidi/RtMidi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <boost/lockfree/spsc_queue.hpp>

namespace sg {

namespace {

/// One channel or system-common message, as the MIDI thread saw it.
struct midi_message {
  uint8_t status = 0, data1 = 0, data2 = 0;
  int64_t time_ns = 0;
};

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// The open input: RtMidi, the queue it fills, and the thread that publishes from it.
class midi_input {
public:
  midi_input(const v1::DeviceSpec& spec, hub_actor hub) : device_(spec.name()), hub_(std::move(hub)) {
    const auto api = spec.backend() == "jack"   ? RtMidi::UNIX_JACK
                     : spec.backend() == "alsa" ? RtMidi::LINUX_ALSA
                                                : RtMidi::UNSPECIFIED;
    in_ = std::make_unique<RtMidiIn>(api, "studiograph-midi", 4096);
    in_->ignoreTypes(true, true, true);  // no sysex, timing clock or active sensing
    in_->setCallback(&midi_input::on_message, this);
    const auto it = spec.options().find("port");
    const std::string wanted = it == spec.options().end() ? std::string() : it->second;
    if (wanted.empty()) {
      in_->openVirtualPort(device_);
    } else {
      const unsigned n = in_->getPortCount();
      unsigned found = n;
      for (unsigned i = 0; i < n && found == n; ++i)
        if (in_->getPortName(i).find(wanted) != std::string::npos)
          found = i;
      if (found == n)
        throw std::runtime_error("no MIDI source port matching \"" + wanted + "\"");
      in_->openPort(found, device_);
    }
    backend_ = RtMidi::getApiName(in_->getCurrentApi());
    thread_ = std::thread([this] { deliver(); });
  }
  ~midi_input() {
    stop_ = true;
    pending_.fetch_add(1, std::memory_order_release);
    pending_.notify_one();
    thread_.join();
    in_->cancelCallback();
    in_->closePort();
  }
  const std::string& backend() const { return backend_; }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

private:
  /// thread: RtMidi's (realtime with JACK). Copies three bytes and a timestamp; never blocks.
  static void on_message(double, std::vector<unsigned char>* bytes, void* self) {
    auto* me = static_cast<midi_input*>(self);
    if (!bytes || bytes->empty() || bytes->size() > 3)
      return;
    midi_message m;
    m.status = (*bytes)[0];
    m.data1 = bytes->size() > 1 ? (*bytes)[1] : 0;
    m.data2 = bytes->size() > 2 ? (*bytes)[2] : 0;
    m.time_ns = steady_ns();
    if (!me->queue_.push(m)) {
      me->dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // Wakes the delivery thread: an atomic bump and a futex wake, no lock and no allocation.
    me->pending_.fetch_add(1, std::memory_order_release);
    me->pending_.notify_one();
  }

  /// thread: the delivery thread. Publishes what arrived as soon as it is woken.
  void deliver() {
    midi_message m;
    uint32_t seen = pending_.load(std::memory_order_acquire);
    while (!stop_) {
      while (queue_.pop(m)) {
        v1::Event ev;
        auto& mi = *ev.mutable_midi();
        mi.set_device(device_);
        mi.set_status(m.status);
        mi.set_data1(m.data1);
        mi.set_data2(m.data2);
        mi.set_time_ns(m.time_ns);
        caf::anon_send(hub_, std::move(ev));
      }
      wait_for_more(seen);
      seen = pending_.load(std::memory_order_acquire);
    }
  }

  /// Sleeps (futex) until the callback or the destructor bumps `pending_` past `seen`.
  void wait_for_more(uint32_t seen) { pending_.wait(seen, std::memory_order_acquire); }

  std::string device_;
  hub_actor hub_;
  std::string backend_;
  std::unique_ptr<RtMidiIn> in_;
  boost::lockfree::spsc_queue<midi_message, boost::lockfree::capacity<4096>> queue_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint32_t> pending_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct midi_device_state {
  v1::DeviceSpec spec;
  hub_actor hub;
  std::unique_ptr<midi_input> input;
  static inline const char* name = "midi-device";
};

void publish_status(caf::stateful_actor<midi_device_state>* self, const std::string& error) {
  auto& st = self->state;
  v1::Event ev;
  auto& ds = *ev.mutable_device_status();
  ds.set_device(st.spec.name());
  ds.set_state(error.empty() ? v1::DeviceStatus::STATE_RUNNING : v1::DeviceStatus::STATE_FAILED);
  ds.set_backend(st.input ? st.input->backend() : st.spec.backend());
  ds.set_message(error.empty() ? "MIDI input open" : error);
  self->send(st.hub, std::move(ev));
}

caf::behavior midi_device(caf::stateful_actor<midi_device_state>* self, v1::DeviceSpec spec,
                          hub_actor hub) {
  self->state.spec = std::move(spec);
  self->state.hub = std::move(hub);
  std::string error;
  try {
    self->state.input = std::make_unique<midi_input>(self->state.spec, self->state.hub);
  } catch (const std::exception& e) {
    error = "MIDI device '" + self->state.spec.name() + "': " + e.what();
  }
  publish_status(self, error);
  return {[](caf::tick_atom) {}};
}

} // namespace

caf::actor spawn_midi_device(caf::actor_system& sys, const v1::DeviceSpec& spec, hub_actor hub) {
  return sys.spawn<caf::detached>(midi_device, spec, std::move(hub));
}

} // namespace sg
