// control.lfo and control.ramp: automation writing an overlay on one parameter of another
// node (nodes/control/control.hpp documents their parameters).

#include "actors/controllers/automation.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "actors/controllers/common.hpp"

namespace sg::ctl {

namespace {

using clock_type = std::chrono::steady_clock;
constexpr auto request_timeout = std::chrono::seconds(2);

/// What both automation kinds keep: the mirror, the resolved target and their intents.
struct automation_state {
  std::string id;
  controller_deps deps;
  param_mirror mirror;
  std::optional<target> tgt;
  std::string failure;  // why it cannot run, as last published
  bool active = false;  // an overlay of ours may be on the target
  bool running = false;
  uint64_t rev = 0;
  uint64_t tick_gen = 0;  // only the tick chain of the current generation goes on
  clock_type::time_point last_tick, started;
  double phase = 0;  // lfo: cycles since it started
  rate_limited_log log{"automation"};

  std::string source() const { return "ctl/" + id; }
  double own(const std::string& param, double fallback) const {
    return mirror.number(id, param, fallback);
  }
  std::string own_text(const std::string& param) const {
    const auto* p = mirror.param(id, param);
    return p ? p->value().string_value() : std::string();
  }
  double hz() const { return std::clamp(own("update_hz", 50), 1.0, 200.0); }
};

struct lfo_state : automation_state {
  static inline const char* name = "control.lfo";
};

struct ramp_state : automation_state {
  double from = 0, to = 1, ms = 1000;
  bool exp = false;
  static inline const char* name = "control.ramp";
};

template <class State>
using self_of = caf::stateful_actor<State>*;

template <class State>
void send_intent(self_of<State> self, v1::SetParamRequest req) {
  auto& st = self->state;
  req.mutable_origin()->set_client_id(st.source());
  req.mutable_origin()->set_client_rev(++st.rev);
  self->request(st.deps.host, request_timeout, std::move(req))
    .then(
      [self](const v1::SetParamReply& r) {
        if (r.status().code() != 0)
          self->state.log.error(self->state.id + ": " + r.status().message());
      },
      [self](const caf::error& e) {
        self->state.log.error(self->state.id + ": " + caf::to_string(e));
      });
}

/// Writes `x` (target units) as our overlay on the target.
template <class State>
void write_overlay(self_of<State> self, double x) {
  auto& st = self->state;
  v1::SetParamRequest req;
  req.set_node(st.tgt->node);
  req.set_param(st.tgt->param);
  *req.mutable_value() = target_value(*st.tgt, x);
  req.set_overlay_source(st.source());
  // Long enough never to settle between two writes; if we die it settles by itself.
  req.set_settle_ms(static_cast<uint32_t>(std::max(500.0, 4000.0 / st.hz())));
  st.active = true;
  send_intent(self, std::move(req));
}

/// Ends our overlay: discarded (the target is back at committed ?? base) or settled.
template <class State>
void release(self_of<State> self, bool discard) {
  auto& st = self->state;
  if (!st.active || !st.tgt)
    return;
  st.active = false;
  v1::SettleRequest req;
  req.set_node(st.tgt->node);
  req.set_param(st.tgt->param);
  req.set_source(st.source());
  req.set_discard(discard);
  req.mutable_origin()->set_client_id(st.source());
  req.mutable_origin()->set_client_rev(++st.rev);
  // Fire and forget: this also runs while the actor is quitting.
  caf::anon_send(st.deps.host, std::move(req));
}

/// Resolves the target once the mirror is seeded; publishes FAILED (once per reason) if it
/// cannot, RUNNING once it can.
template <class State>
bool ready(self_of<State> self) {
  auto& st = self->state;
  if (!st.mirror.seeded())
    return false;
  std::string why;
  if (!st.tgt || !st.mirror.node(st.tgt->node)) {
    auto resolved = resolve_target(st.mirror, st.own_text("target"));
    st.tgt = resolved ? std::optional<target>(*resolved) : std::nullopt;
    if (!resolved)
      why = resolved.error();
  }
  if (why != st.failure || st.rev == 0) {
    st.failure = why;
    self->send(st.deps.hub, node_status(st.id, why));
  }
  return st.tgt.has_value();
}

template <class State>
void schedule_tick(self_of<State> self) {
  auto& st = self->state;
  self->delayed_send(self,
                     std::chrono::duration_cast<clock_type::duration>(
                       std::chrono::duration<double>(1.0 / st.hz())),
                     caf::tick_atom_v, st.tick_gen);
}

/// Starts the tick chain (a new generation: any older chain stops at its next tick).
template <class State>
void start_ticks(self_of<State> self) {
  auto& st = self->state;
  ++st.tick_gen;
  st.running = true;
  st.started = st.last_tick = clock_type::now();
  self->send(self, caf::tick_atom_v, st.tick_gen);
}

/// Sets a fraction of the target's range (0..1) as our overlay, linearly or geometrically.
template <class State>
void write_fraction(self_of<State> self, double f, bool geometric) {
  const auto& t = *self->state.tgt;
  f = std::clamp(f, 0.0, 1.0);
  const double x = geometric && t.lo > 0 ? t.lo * std::pow(t.hi / t.lo, f)
                                         : t.lo + (t.hi - t.lo) * f;
  write_overlay(self, x);
}

// -- LFO ---------------------------------------------------------------------------------------

double wave(int shape, double p) {
  switch (shape) {
    case 1: return p < 0.25 ? 4 * p : p < 0.75 ? 2 - 4 * p : 4 * p - 4;  // triangle, from 0 up
    case 2: return p < 0.5 ? 2 * p : 2 * p - 2;                           // saw, from 0 up
    case 3: return p < 0.5 ? 1.0 : -1.0;                                  // square
    default: return std::sin(2 * std::numbers::pi * p);
  }
}

/// Cycles per second: `rate`, or with sync `beats` per cycle at the first clock's tempo.
double lfo_hz(const lfo_state& st) {
  if (st.own("sync", 0) < 0.5)
    return st.own("rate", 1);
  const std::string clock = st.mirror.first_of_type("control.clock");
  const double bpm = clock.empty() ? 120.0 : st.mirror.number(clock, "bpm", 120);
  return bpm / 60.0 / std::max(st.own("beats", 1), 1.0 / 16);
}

void lfo_step(self_of<lfo_state> self) {
  auto& st = self->state;
  const auto now = clock_type::now();
  st.phase += std::chrono::duration<double>(now - st.last_tick).count() * lfo_hz(st);
  st.phase -= std::floor(st.phase);
  st.last_tick = now;
  double p = st.phase + st.own("phase", 0);
  p -= std::floor(p);
  const double f = st.own("center", 0.5) + 0.5 * st.own("depth", 0.5) *
                                              wave(static_cast<int>(st.own("shape", 0)), p);
  write_fraction(self, f, st.own("curve", 0) >= 0.5);
}

void lfo_follow(self_of<lfo_state> self) {
  auto& st = self->state;
  if (!ready(self))
    return;
  const bool want = st.own("running", 1) >= 0.5;
  if (want && !st.running) {
    st.phase = 0;
    start_ticks(self);
  } else if (!want && st.running) {
    st.running = false;
    ++st.tick_gen;
    release(self, st.own("on_stop", 0) < 0.5);
  }
}

caf::behavior lfo(self_of<lfo_state> self, std::string id, controller_deps deps) {
  self->state.id = std::move(id);
  self->state.deps = std::move(deps);
  subscribe(self, self->state.deps.hub);
  // Removed or replaced by a graph apply: leave the target as on_stop says, then go.
  self->set_exit_handler([self](const caf::exit_msg& m) {
    release(self, self->state.own("on_stop", 0) < 0.5);
    self->quit(m.reason);
  });
  return {
    [self](const v1::Event& ev) {
      if (self->state.mirror.apply(ev, self->state.id) || ev.has_snapshot())
        lfo_follow(self);
    },
    [self](caf::tick_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen != st.tick_gen || !st.running)
        return;
      lfo_step(self);
      schedule_tick(self);
    },
  };
}

// -- ramp --------------------------------------------------------------------------------------

void ramp_finish(self_of<ramp_state> self) {
  auto& st = self->state;
  st.running = false;
  ++st.tick_gen;
  release(self, st.own("on_end", 0) >= 0.5);
  // Our own `running` goes back to false, so clients see the ramp is done.
  v1::SetParamRequest done;
  done.set_node(st.id);
  done.set_param("running");
  done.mutable_value()->set_bool_value(false);
  send_intent(self, std::move(done));
}

void ramp_step(self_of<ramp_state> self) {
  auto& st = self->state;
  const double elapsed =
    std::chrono::duration<double, std::milli>(clock_type::now() - st.started).count();
  const double f = std::min(1.0, elapsed / st.ms);
  const double x = st.exp && st.from > 0 && st.to > 0 ? st.from * std::pow(st.to / st.from, f)
                                                      : st.from + (st.to - st.from) * f;
  write_overlay(self, x);
  if (f >= 1.0)
    ramp_finish(self);
  else
    schedule_tick(self);
}

void ramp_start(self_of<ramp_state> self) {
  auto& st = self->state;
  if (!ready(self))
    return;
  st.from = st.own("from", 0);
  st.to = st.own("to", 1);
  st.ms = std::max(st.own("time", 1000), 1.0);
  st.exp = st.own("curve", 0) >= 0.5;
  start_ticks(self);
}

caf::behavior ramp(self_of<ramp_state> self, std::string id, controller_deps deps) {
  self->state.id = std::move(id);
  self->state.deps = std::move(deps);
  subscribe(self, self->state.deps.hub);
  self->set_exit_handler([self](const caf::exit_msg& m) {
    release(self, self->state.own("on_end", 0) >= 0.5);
    self->quit(m.reason);
  });
  return {
    [self](const v1::Event& ev) {
      auto& st = self->state;
      const bool seeded = st.mirror.seeded();
      if (!st.mirror.apply(ev, st.id) && !ev.has_snapshot())
        return;
      // A write of `running: true` (re)starts the ramp, even when it was true already; so does
      // the first snapshot when the graph file says running: true.
      const auto& pc = ev.param_changed();
      const bool started =
        ev.has_param_changed() && pc.param() == "running" && pc.value().bool_value() &&
        !pc.cleared();
      if (started || (!seeded && st.own("running", 0) >= 0.5))
        ramp_start(self);
      else if (ev.has_param_changed() && pc.param() == "running" && st.running &&
               st.own("running", 0) < 0.5)
        ramp_finish(self);  // stopped early: the same end rule
      else
        ready(self);
    },
    [self](caf::tick_atom, uint64_t gen) {
      auto& st = self->state;
      if (gen == st.tick_gen && st.running)
        ramp_step(self);
    },
  };
}

} // namespace

caf::actor spawn_lfo(caf::actor_system& sys, const std::string& id, const controller_deps& deps) {
  return sys.spawn(lfo, id, deps);
}

caf::actor spawn_ramp(caf::actor_system& sys, const std::string& id,
                      const controller_deps& deps) {
  return sys.spawn(ramp, id, deps);
}

} // namespace sg::ctl
