#include "actors/devices/audio_device.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

#include "actors/devices/specs.hpp"
#include "hardware/audio_driver.hpp"

namespace sg {

namespace {

constexpr auto tick_interval = std::chrono::milliseconds(25);
constexpr int ticks_per_status = 40;  // one DeviceStatus a second
/// A running stream that rendered nothing for this long is considered lost.
constexpr auto stall_limit = std::chrono::seconds(2);
constexpr auto first_retry = std::chrono::milliseconds(250);
constexpr auto max_retry = std::chrono::seconds(8);

using clock_type = std::chrono::steady_clock;

struct device_state {
  device_state() = default;  // not an aggregate: CAF must not build it from the self pointer
  audio_domain domain;
  hub_actor hub;
  std::unique_ptr<render_engine> engine;
  std::unique_ptr<audio_driver> driver;  // declared after engine: stops before it is freed
  v1::DeviceStatus::State state = v1::DeviceStatus::STATE_OPENING;
  std::string message;
  int ticks = 0;
  /// Generation of the last plan submitted; parameters and events are addressed to it.
  uint32_t gen = 0;
  /// The last plan submitted (owned by the engine once running), for kernel reuse and load.
  const render_plan* plan = nullptr;
  uint64_t plan_swaps = 0;
  /// Device loss: when blocks last advanced, the retry schedule, recoveries so far.
  uint64_t last_blocks = 0;
  clock_type::time_point last_progress = clock_type::now();
  clock_type::time_point last_status = clock_type::now();
  std::chrono::milliseconds retry_delay{0};
  clock_type::time_point next_retry;
  uint32_t attempts = 0;
  uint32_t recoveries = 0;
  uint64_t xruns_reported = 0;  // xruns at the previous published status
  static inline const char* name = "audio-device";

  ~device_state() {
    if (driver)
      driver->stop();
  }
};

v1::DeviceStatus make_device_status(device_state& st) {
  v1::DeviceStatus s;
  s.set_device(st.domain.device.name);
  s.set_state(st.state);
  s.set_sample_rate(st.domain.device.sample_rate);
  s.set_block(st.driver ? st.driver->block() : st.domain.device.block);
  s.set_channels(st.domain.device.channels);
  s.set_message(st.message);
  s.set_inputs(st.domain.device.inputs);
  if (st.driver) {
    s.set_backend(st.driver->backend());
    s.set_realtime_priority(st.driver->realtime_priority());
    const device_latency latency = st.driver->latency();
    s.set_input_latency_frames(latency.input_frames);
    s.set_output_latency_frames(latency.output_frames);
  }
  if (st.engine) {
    auto& stats = st.engine->stats();
    s.set_blocks(stats.blocks.load(std::memory_order_acquire));
    s.set_xruns(stats.xruns.load(std::memory_order_relaxed));
    s.set_load(stats.load.load(std::memory_order_relaxed));
    s.set_peak_load(stats.peak_load.exchange(0, std::memory_order_relaxed));
  }
  s.set_recoveries(st.recoveries);
  s.set_plan_swaps(st.plan_swaps);
  return s;
}

/// Per-node process time since the last call, as a share of the wall time that passed.
void add_node_loads(device_state& st, v1::DeviceStatus& s) {
  const auto now = clock_type::now();
  const double wall_ns =
    std::chrono::duration<double, std::nano>(now - st.last_status).count();
  st.last_status = now;
  if (!st.plan || wall_ns <= 0)
    return;
  for (size_t i = 0; i < st.domain.nodes.size() && i < st.plan->size(); ++i) {
    auto* nl = s.add_node_loads();
    nl->set_node(st.domain.nodes[i].id);
    nl->set_load(static_cast<double>(st.plan->take_node_ns(static_cast<uint32_t>(i))) / wall_ns);
  }
}

template <class Self>
void publish_status(Self* self) {
  v1::Event ev;
  *ev.mutable_device_status() = make_device_status(self->state);
  auto& st = self->state;
  auto& ds = *ev.mutable_device_status();
  add_node_loads(st, ds);
  if (ds.xruns() > st.xruns_reported)
    for (const auto& n : st.domain.nodes)
      if (n.info && n.info->keeps_history)
        ds.add_disturbed(n.id);
  st.xruns_reported = ds.xruns();
  self->send(st.hub, std::move(ev));
}

void submit(device_state& st, std::unique_ptr<render_plan> plan) {
  plan->set_generation(++st.gen);
  st.plan = plan.get();
  st.engine->submit_plan(std::move(plan));
}

// Compiles the domain's plan and starts the device; fills `st.message` on failure.
v1::Status open_device(device_state& st) {
  const auto& dev = st.domain.device;
  audio_format format{static_cast<double>(dev.sample_rate), dev.block};
  auto plan = compile_domain_plan(st.domain, format);
  if (!plan)
    return make_status(code_failed_precondition, "device " + dev.name + ": " + plan.error());
  st.engine = std::make_unique<render_engine>(dev.channels, format.sample_rate, dev.inputs);
  submit(st, std::move(*plan));
  auto opened = open_audio_driver(dev, *st.engine, plan_device_ports(st.domain));
  if (!opened) {
    st.state = v1::DeviceStatus::STATE_FAILED;
    st.message = opened.error();
    return make_status(code_unavailable, "device " + dev.name + ": " + opened.error());
  }
  st.driver = std::move(opened->driver);
  st.state = v1::DeviceStatus::STATE_RUNNING;
  st.message = opened->skipped.empty() ? "" : "fell back to null (" + opened->skipped + ")";
  if (!opened->skipped.empty())
    spdlog::warn("device {}: no sound device answered, so it runs on the null backend and "
                 "nothing is heard ({})",
                 dev.name, opened->skipped);
  // Retries after a loss reopen the backend that opened now, never a fallback.
  st.domain.device.backend = st.driver->backend();
  st.last_progress = clock_type::now();
  return make_status(code_ok, "");
}

/// A graph apply changed this domain: compile against the running plan, swap at a block
/// boundary. On error nothing changes.
v1::Status swap_plan(device_state& st, const v1::DomainPlan& next) {
  if (!st.engine || !st.plan)
    return make_status(code_failed_precondition,
                       "device " + st.domain.device.name + " is not open");
  audio_domain domain = from_proto(next);
  domain.device = st.domain.device;  // the device itself is not changed by a plan swap
  audio_format format{static_cast<double>(domain.device.sample_rate), domain.device.block};
  auto plan = recompile_domain_plan(domain, st.domain, *st.plan, format);
  if (!plan)
    return make_status(code_failed_precondition,
                       "device " + st.domain.device.name + ": " + plan.error());
  if (!st.engine->submit_plan_ready()) {
    return make_status(code_unavailable,
                       "device " + st.domain.device.name + ": too many plans pending");
  }
  submit(st, std::move(*plan));
  st.domain = std::move(domain);
  ++st.plan_swaps;
  return make_status(code_ok, "");
}

/// Device loss: the stream stopped or stopped advancing. The engine (plan, kernels, their
/// state) stays; the driver is closed and reopened with exponential backoff.
template <class Self>
void watch_device(Self* self) {
  auto& st = self->state;
  const auto now = clock_type::now();
  if (st.state == v1::DeviceStatus::STATE_RUNNING) {
    const uint64_t blocks = st.engine->stats().blocks.load(std::memory_order_acquire);
    if (blocks != st.last_blocks) {
      st.last_blocks = blocks;
      st.last_progress = now;
      return;
    }
    if (st.driver->alive() && now - st.last_progress < stall_limit)
      return;
    st.driver->abandon();
    st.driver.reset();
    st.state = v1::DeviceStatus::STATE_FAILED;
    st.message = "device lost; retrying";
    st.retry_delay = first_retry;
    st.next_retry = now + st.retry_delay;
    st.attempts = 0;
    publish_status(self);
    return;
  }
  if (st.state != v1::DeviceStatus::STATE_FAILED || st.driver || now < st.next_retry)
    return;
  ++st.attempts;
  auto opened = open_audio_driver(st.domain.device, *st.engine, plan_device_ports(st.domain));
  if (!opened) {
    st.retry_delay = std::min<std::chrono::milliseconds>(st.retry_delay * 2, max_retry);
    st.next_retry = clock_type::now() + st.retry_delay;
    st.message = "device lost; attempt " + std::to_string(st.attempts) + " failed (" +
                 opened.error() + "); next in " + std::to_string(st.retry_delay.count()) + " ms";
    publish_status(self);
    return;
  }
  st.driver = std::move(opened->driver);
  st.state = v1::DeviceStatus::STATE_RUNNING;
  ++st.recoveries;
  st.message = "recovered after " + std::to_string(st.attempts) + " attempt(s)";
  st.last_progress = clock_type::now();
  publish_status(self);
}

/// A kernel's realtime error record becomes a NodeStatus event (the node keeps running).
template <class Self>
void publish_kernel_error(Self* self, const telemetry_record& r) {
  const auto& id = self->state.domain.nodes[r.slot].id;
  auto count = [&](uint32_t i) {
    return i < r.count ? std::to_string(static_cast<uint64_t>(r.values[i])) : std::string("?");
  };
  std::string message;
  if (r.count > 0 && r.values[0] == error_frames_dropped)
    message = "dropped " + count(1) + " frames: the buffer was full (" + count(2) + " in total)";
  else if (r.count > 0 && r.values[0] == error_write_failed)
    message = "could not write " + count(1) + " frames (" + count(2) + " in total)";
  else
    message = "realtime error code " + count(0);
  v1::Event ev;
  ev.set_node_id(id);
  auto* ns = ev.mutable_node_status();
  ns->set_node(id);
  ns->set_state(v1::NodeStatus::STATE_RUNNING);
  ns->set_message(message);
  self->send(self->state.hub, std::move(ev));
}

template <class Self>
void drain_telemetry(Self* self) {
  auto& st = self->state;
  telemetry_record r;
  while (st.engine->pop_telemetry(r)) {
    if (r.slot >= st.domain.nodes.size())
      continue;
    if (r.kind == telemetry_record::error) {
      publish_kernel_error(self, r);
      continue;
    }
    if (r.kind != telemetry_record::meter)
      continue;
    v1::Event ev;
    const auto& id = st.domain.nodes[r.slot].id;
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
      [self](caf::close_atom) {
        auto& st = self->state;
        auto status = make_device_status(st);
        if (st.driver)
          st.driver->stop();
        st.driver.reset();
        st.state = v1::DeviceStatus::STATE_STOPPED;
        return status;
      },
      [self](const v1::DomainPlan& next) {
        auto status = swap_plan(self->state, next);
        return status;
      },
      [self](const v1::KernelParam& kp) {
        auto& st = self->state;
        if (st.engine)
          st.engine->push_param({kp.slot(), kp.index(), kp.value(), st.gen});
      },
      [self](const v1::KernelEvent& ke) {
        auto& st = self->state;
        if (!st.engine)
          return;
        timed_event e;
        e.slot = ke.slot();
        e.gen = st.gen;
        e.frame = ke.frame();
        const double rate = st.domain.device.sample_rate;
        if (e.frame == 0 && ke.delay_ms() > 0) {
          e.frame = st.engine->frames() + static_cast<uint64_t>(ke.delay_ms() * rate / 1000);
        } else if (e.frame == 0 && ke.time_ns() > 0) {
          // Live input (MIDI): due one block after it happened, so notes keep their spacing
          // whatever the delivery jitter was; already late means the next block.
          const double block_ns = 1e9 * st.domain.device.block / rate;
          const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now().time_since_epoch())
                                .count();
          const double ahead_ns = static_cast<double>(ke.time_ns()) + block_ns -
                                  static_cast<double>(now_ns);
          e.frame = st.engine->frames() +
                    (ahead_ns > 0 ? static_cast<uint64_t>(ahead_ns * rate / 1e9) : 0);
        }
        e.ev.kind = static_cast<kernel_event::kind_t>(ke.kind());
        e.ev.note = static_cast<uint8_t>(ke.note());
        e.ev.velocity = ke.velocity();
        st.engine->push_event(e);
      },
      [self](caf::tick_atom) {
        auto& st = self->state;
        drain_telemetry(self);
        st.engine->collect_garbage();
        watch_device(self);
        if (st.driver) {
          st.driver->promote_realtime();
          st.driver->maintain();
        }
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
