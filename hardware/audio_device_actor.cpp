#include "hardware/audio_device_actor.hpp"

#include <chrono>

#include "hardware/audio_driver.hpp"

namespace sg {

namespace {

constexpr auto tick_interval = std::chrono::milliseconds(25);
constexpr int ticks_per_status = 40;  // one DeviceStatus a second

struct device_state {
  audio_domain domain;
  hub_actor hub;
  std::unique_ptr<render_engine> engine;
  std::unique_ptr<audio_driver> driver;  // declared after engine: stops before it is freed
  v1::DeviceStatus::State state = v1::DeviceStatus::STATE_OPENING;
  std::string message;
  int ticks = 0;
  static inline const char* name = "audio-device";

  ~device_state() {
    if (driver)
      driver->stop();
  }
};

v1::DeviceStatus make_device_status(device_state& st) {
  v1::DeviceStatus s;
  s.set_device(st.domain.device.name());
  s.set_state(st.state);
  s.set_sample_rate(st.domain.device.sample_rate());
  s.set_block(st.driver ? st.driver->block() : st.domain.device.block());
  s.set_channels(st.domain.device.channels());
  s.set_message(st.message);
  if (st.driver) {
    s.set_backend(st.driver->backend());
    s.set_realtime_priority(st.driver->realtime_priority());
  }
  if (st.engine) {
    auto& stats = st.engine->stats();
    s.set_blocks(stats.blocks.load(std::memory_order_acquire));
    s.set_xruns(stats.xruns.load(std::memory_order_relaxed));
    s.set_load(stats.load.load(std::memory_order_relaxed));
    s.set_peak_load(stats.peak_load.exchange(0, std::memory_order_relaxed));
  }
  return s;
}

template <class Self>
void publish_status(Self* self) {
  v1::Event ev;
  *ev.mutable_device_status() = make_device_status(self->state);
  self->send(self->state.hub, std::move(ev));
}

// Compiles the domain's plan and starts the device; fills `st.message` on failure.
v1::Status open_device(device_state& st) {
  const auto& dev = st.domain.device;
  audio_format format{static_cast<double>(dev.sample_rate()), dev.block()};
  std::string error;
  auto plan = compile_domain_plan(st.domain, format, error);
  if (!plan)
    return make_status(code_failed_precondition, "device " + dev.name() + ": " + error);
  st.engine = std::make_unique<render_engine>(dev.channels(), format.sample_rate);
  st.engine->submit_plan(std::move(plan));
  auto opened = open_audio_driver(dev, *st.engine);
  if (!opened.driver) {
    st.state = v1::DeviceStatus::STATE_FAILED;
    st.message = opened.error;
    return make_status(code_unavailable, "device " + dev.name() + ": " + opened.error);
  }
  st.driver = std::move(opened.driver);
  st.state = v1::DeviceStatus::STATE_RUNNING;
  st.message = opened.error.empty() ? "" : "fell back to null (" + opened.error + ")";
  return make_status(code_ok, "");
}

template <class Self>
void drain_telemetry(Self* self) {
  auto& st = self->state;
  telemetry_record r;
  while (st.engine->pop_telemetry(r)) {
    if (r.kind != telemetry_record::meter || r.slot >= st.domain.nodes.size())
      continue;
    v1::Event ev;
    const auto& id = st.domain.nodes[r.slot].id();
    ev.set_node_id(id);
    auto* m = ev.mutable_meter();
    m->set_node(id);
    const uint32_t half = telemetry_record::max_values / 2;
    for (uint32_t c = 0; c < r.count && c < half; ++c) {
      m->add_peak_db(r.values[c]);
      m->add_rms_db(r.values[half + c]);
    }
    self->send(st.hub, std::move(ev));
  }
}

} // namespace

device_actor spawn_audio_device(caf::actor_system& sys, audio_domain domain, hub_actor hub) {
  using self_ptr = device_actor::stateful_pointer<device_state>;
  auto fn = [](self_ptr self, audio_domain domain,
               hub_actor hub) -> device_actor::behavior_type {
    self->state.domain = std::move(domain);
    self->state.hub = std::move(hub);
    return {
      [self](caf::open_atom) {
        auto status = open_device(self->state);
        publish_status(self);
        if (status.code() == code_ok)
          self->delayed_send(self, tick_interval, caf::tick_atom_v);
        return status;
      },
      [self](const v1::KernelParam& kp) {
        if (self->state.engine)
          self->state.engine->push_param({kp.slot(), kp.index(), kp.value()});
      },
      [self](caf::tick_atom) {
        auto& st = self->state;
        drain_telemetry(self);
        st.engine->collect_garbage();
        st.driver->promote_realtime();
        if (++st.ticks % ticks_per_status == 0)
          publish_status(self);
        self->delayed_send(self, tick_interval, caf::tick_atom_v);
      },
      [self](const v1::StatusRequest&) { return make_device_status(self->state); },
    };
  };
  return sys.spawn<caf::detached>(fn, std::move(domain), std::move(hub));
}

} // namespace sg
