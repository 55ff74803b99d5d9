#include "hardware/midi_input.hpp"

#include <rtmidi/RtMidi.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace sg {

midi_input::midi_input(const device_spec& spec, sink deliver)
    : device_(spec.name), deliver_(std::move(deliver)) {}

expected<std::unique_ptr<midi_input>> midi_input::open(const device_spec& spec, sink deliver) {
  std::unique_ptr<midi_input> in(new midi_input(spec, std::move(deliver)));
  try {
    if (auto connected = in->connect(spec); !connected)
      return unexpected(connected.error());
    in->thread_ = std::thread([p = in.get()] { p->run_delivery(); });
  } catch (const std::exception& e) {  // RtMidiError, or no thread to be had
    return unexpected(e.what());
  }
  return in;
}

expected<void> midi_input::connect(const device_spec& spec) {
  const auto api = spec.backend == "jack"   ? RtMidi::UNIX_JACK
                   : spec.backend == "alsa" ? RtMidi::LINUX_ALSA
                                            : RtMidi::UNSPECIFIED;
  in_ = std::make_unique<RtMidiIn>(api, "studiograph-midi", 4096);
  in_->ignoreTypes(true, true, true);  // no sysex, timing clock or active sensing
  in_->setCallback(&midi_input::on_message, this);
  const auto it = spec.options.find("port");
  const std::string wanted = it == spec.options.end() ? std::string() : it->second;
  if (wanted.empty()) {
    in_->openVirtualPort(device_);
  } else {
    const unsigned n = in_->getPortCount();
    unsigned found = n;
    for (unsigned i = 0; i < n && found == n; ++i)
      if (in_->getPortName(i).find(wanted) != std::string::npos)
        found = i;
    if (found == n)
      return unexpected("no MIDI source port matching \"" + wanted + "\"");
    in_->openPort(found, device_);
  }
  backend_ = RtMidi::getApiName(in_->getCurrentApi());
  return {};
}

midi_input::~midi_input() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
  if (in_) {
    in_->cancelCallback();
    in_->closePort();
  }
}

void midi_input::on_message(double, std::vector<unsigned char>* bytes, void* self) noexcept
  SG_NONBLOCKING {
  auto* me = static_cast<midi_input*>(self);
  if (!bytes || bytes->empty() || bytes->size() > 3)
    return;
  midi_message m;
  m.status = (*bytes)[0];
  m.data1 = bytes->size() > 1 ? (*bytes)[1] : 0;
  m.data2 = bytes->size() > 2 ? (*bytes)[2] : 0;
  m.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                realtime_now().time_since_epoch())
                .count();
  if (!me->queue_.push(m))
    me->dropped_.fetch_add(1, std::memory_order_relaxed);
}

void midi_input::run_delivery() {
  auto next = std::chrono::steady_clock::now();
  midi_message m;
  while (!stop_.load(std::memory_order_acquire)) {
    while (queue_.pop(m))
      deliver_(m);
    // A slow sink must not leave the schedule behind (it would then spin to catch up).
    next = std::max(next + poll_period, std::chrono::steady_clock::now());
    std::this_thread::sleep_until(next);
  }
}

} // namespace sg
