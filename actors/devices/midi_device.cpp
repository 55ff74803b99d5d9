#include "actors/devices/midi_device.hpp"

#include <memory>

#include "actors/devices/specs.hpp"
#include "hardware/midi_input.hpp"

namespace sg {

namespace {

/// Publishes each message to the hub as a MidiInput event (thread: the input's delivery thread).
midi_input::sink publish_to(const std::string& device, hub_actor hub) {
  return [device, hub](const midi_message& m) {
    v1::Event ev;
    auto& mi = *ev.mutable_midi();
    mi.set_device(device);
    mi.set_status(m.status);
    mi.set_data1(m.data1);
    mi.set_data2(m.data2);
    mi.set_time_ns(m.time_ns);
    caf::anon_send(hub, std::move(ev));
  };
}

struct midi_device_state {
  v1::DeviceSpec spec;
  hub_actor hub;
  std::unique_ptr<midi_input> input;
  static inline const char* name = "midi-device";
};

void publish_status(caf::stateful_actor<midi_device_state>* self, const expected<void>& opened) {
  auto& st = self->state;
  v1::Event ev;
  auto& ds = *ev.mutable_device_status();
  ds.set_device(st.spec.name());
  ds.set_state(opened ? v1::DeviceStatus::STATE_RUNNING : v1::DeviceStatus::STATE_FAILED);
  ds.set_backend(st.input ? st.input->backend() : st.spec.backend());
  ds.set_message(opened ? "MIDI input open" : opened.error());
  self->send(st.hub, std::move(ev));
}

caf::behavior midi_device(caf::stateful_actor<midi_device_state>* self, v1::DeviceSpec spec,
                          hub_actor hub) {
  self->state.spec = std::move(spec);
  self->state.hub = std::move(hub);
  expected<void> opened;
  auto input = midi_input::open(to_device_spec(self->state.spec),
                                publish_to(self->state.spec.name(), self->state.hub));
  if (input)
    self->state.input = std::move(*input);
  else
    opened = unexpected("MIDI device '" + self->state.spec.name() + "': " + input.error());
  publish_status(self, opened);
  return {[](caf::tick_atom) {}};
}

} // namespace

caf::actor spawn_midi_device(caf::actor_system& sys, const v1::DeviceSpec& spec, hub_actor hub) {
  return sys.spawn<caf::detached>(midi_device, spec, std::move(hub));
}

} // namespace sg
