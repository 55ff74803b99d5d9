// control.midi: one mapping from a MIDI device's input to an action (nodes/control/control.hpp
// documents the parameters). MIDI arrives as MidiInput events from the device's actor
// (actors/devices/midi_device.hpp) through the hub.

#include "actors/controllers/midi.hpp"

#include <cmath>

#include "actors/controllers/common.hpp"

namespace sg::ctl {

namespace {

enum action_kind { set_param = 0, trigger, toggle, momentary, play, load_preset };
enum message_kind { cc = 0, note, program };

struct midi_map_state {
  std::string id;
  controller_deps deps;
  param_mirror mirror;
  std::string device;  // the MIDI device it listens to
  std::optional<target> tgt;
  std::string failure;
  bool announced = false;
  pickup knob;  // soft takeover
  uint64_t rev = 0;
  rate_limited_log log{"control.midi"};
  static inline const char* name = "control.midi";

  std::string client() const { return "ctl/" + id; }
  double own(const std::string& p, double fallback) const { return mirror.number(id, p, fallback); }
  std::string own_text(const std::string& p) const {
    const auto* v = mirror.param(id, p);
    return v ? v->value().string_value() : std::string();
  }
};

using self_ptr = caf::stateful_actor<midi_map_state>*;

void stamp(self_ptr self, v1::Origin& o) {
  o.set_client_id(self->state.client());
  o.set_client_rev(++self->state.rev);
}

/// Sends an intent stamped with this mapping's origin.
template <class Reply, class Request>
void send(self_ptr self, Request req) {
  stamp(self, *req.mutable_origin());
  ask_host<Reply>(self, self->state.deps.host, std::move(req), self->state.log);
}

/// Commits a value of one of this mapping's own parameters.
void commit_own(self_ptr self, const std::string& param, v1::Value v) {
  v1::SetParamRequest req;
  req.set_node(self->state.id);
  req.set_param(param);
  *req.mutable_value() = std::move(v);
  send<v1::SetParamReply>(self, std::move(req));
}

void trigger_node(self_ptr self, v1::TriggerRequest::Kind kind, uint32_t note, float velocity,
                  int64_t time_ns) {
  send<v1::TriggerReply>(
    self, trigger_request(self->state.own_text("target"), kind, note, velocity, time_ns));
}

/// The target's range fraction for a CC value through low/high and the curve.
double shaped(const midi_map_state& st, uint32_t value) {
  return shape_cc(value, static_cast<int>(st.own("curve", 0)), st.own("low", 0),
                  st.own("high", 1));
}

/// A CC on a `set` mapping: the parameter follows, once the knob has met it (pickup).
void on_cc(self_ptr self, uint32_t value) {
  auto& st = self->state;
  if (!st.tgt)
    return;
  const double in = shaped(st, value);
  const double now = fraction_in(*st.tgt, st.mirror.number(st.tgt->node, st.tgt->param, 0));
  if (!st.knob.admit(in, st.own("pickup", 1) >= 0.5 ? now : in))
    return;
  send<v1::SetParamReply>(self,
                          set_request(*st.tgt, st.tgt->lo + (st.tgt->hi - st.tgt->lo) * in));
}

/// A note on a note mapping: `on` is note-on with a velocity above 0.
void on_note(self_ptr self, bool on, uint32_t key, uint32_t velocity, int64_t time_ns) {
  auto& st = self->state;
  const int action = static_cast<int>(st.own("action", 0));
  if (action == play) {
    trigger_node(self, on ? v1::TriggerRequest::KIND_NOTE_ON : v1::TriggerRequest::KIND_NOTE_OFF,
                 key, static_cast<float>(velocity) / 127.0f, time_ns);
    return;
  }
  if (key != static_cast<uint32_t>(st.own("number", 0)))
    return;
  if (action == trigger && on) {
    trigger_node(self, v1::TriggerRequest::KIND_TRIGGER, 0, static_cast<float>(velocity) / 127.0f,
                 time_ns);
  } else if ((action == toggle && on) || action == momentary) {
    if (!st.tgt)
      return;
    const bool value = action == toggle ? st.mirror.number(st.tgt->node, st.tgt->param, 0) < 0.5
                                        : on;
    send<v1::SetParamReply>(self, set_request(*st.tgt, value ? 1 : 0));
  }
}

void on_program(self_ptr self, uint32_t program) {
  std::string name = self->state.own_text("preset");
  if (const auto at = name.find("{n}"); at != std::string::npos)
    name.replace(at, 3, std::to_string(program));
  v1::LoadPresetRequest req;
  req.set_name(name);
  send<v1::LoadPresetReply>(self, std::move(req));
}

/// Learn: the first matching kind of control moved sets channel and number, then learn ends.
bool learn(self_ptr self, int kind, uint32_t channel, uint32_t number) {
  auto& st = self->state;
  if (st.own("learn", 0) < 0.5 || kind != static_cast<int>(st.own("message", 0)))
    return false;
  v1::Value v;
  v.set_int_value(channel);
  commit_own(self, "channel", v);
  v.set_int_value(number);
  commit_own(self, "number", v);
  v.set_bool_value(false);
  commit_own(self, "learn", v);
  st.knob.reset();
  return true;
}

void on_midi(self_ptr self, const v1::MidiInput& m) {
  auto& st = self->state;
  if (m.device() != st.device || !st.mirror.seeded())
    return;
  const uint32_t type = m.status() & 0xF0, channel = (m.status() & 0x0F) + 1;
  const int kind = type == 0xB0                   ? cc
                   : type == 0x90 || type == 0x80 ? note
                   : type == 0xC0                 ? program
                                                  : -1;
  if (kind < 0)
    return;
  if (learn(self, kind, channel, kind == program ? 0 : m.data1()))
    return;
  const auto want_channel = static_cast<uint32_t>(st.own("channel", 0));
  if (kind != static_cast<int>(st.own("message", 0)) ||
      (want_channel != 0 && want_channel != channel))
    return;
  const int action = static_cast<int>(st.own("action", 0));
  if (kind == cc && action == set_param && m.data1() == static_cast<uint32_t>(st.own("number", 0)))
    on_cc(self, m.data2());
  else if (kind == note)
    on_note(self, type == 0x90 && m.data2() > 0, m.data1(), m.data2(), m.time_ns());
  else if (kind == program && action == load_preset)
    on_program(self, m.data1());
}

/// Resolves the target once seeded (a parameter for set/toggle/momentary; a node that takes
/// events for trigger/play) and reports FAILED or RUNNING once per change of reason.
void follow(self_ptr self) {
  auto& st = self->state;
  if (!st.mirror.seeded())
    return;
  if (const auto* n = st.mirror.node(st.id))
    st.device = n->device();
  const int action = static_cast<int>(st.own("action", 0));
  std::string why;
  const std::string text = st.own_text("target");
  if (action == set_param || action == toggle || action == momentary) {
    if (!st.tgt || st.tgt->node + "." + st.tgt->param != text) {
      auto resolved = resolve_target(st.mirror, text);
      st.tgt = resolved ? std::optional<target>(*resolved) : std::nullopt;
      if (!resolved)
        why = resolved.error();
    }
    if (st.tgt && action != set_param && st.tgt->info->type != param_type::boolean)
      why = "target: '" + text + "' is not a bool parameter (toggle and momentary need one)";
  } else if (action == trigger || action == play) {
    if (auto takes = check_event_node(st.mirror, text); !takes)
      why = "target: " + takes.error();
  }
  if (why != st.failure || !st.announced) {
    st.failure = why;
    st.announced = true;
    self->send(st.deps.hub, node_status(st.id, why));
  }
}

caf::behavior midi_map(self_ptr self, std::string id, controller_deps deps) {
  self->state.id = std::move(id);
  self->state.log = rate_limited_log("control.midi " + self->state.id);
  self->state.deps = std::move(deps);
  v1::SubscribeRequest filter;
  filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
  filter.add_kinds(v1::EVENT_KIND_SNAPSHOT);
  filter.add_kinds(v1::EVENT_KIND_MIDI);
  self->request(self->state.deps.hub, std::chrono::seconds(5), caf::subscribe_atom_v,
                caf::actor_cast<caf::actor>(self), std::move(filter))
    .then([](uint64_t) {});
  return {
    [self](const v1::Event& ev) {
      auto& st = self->state;
      if (ev.has_midi()) {
        on_midi(self, ev.midi());
        return;
      }
      const bool own = st.mirror.apply(ev, st.id);
      // Someone else moved the target: the knob has to meet it again.
      if (ev.has_param_changed() && st.tgt && ev.param_changed().node() == st.tgt->node &&
          ev.param_changed().param() == st.tgt->param &&
          ev.param_changed().origin().client_id() != st.client()) {
        st.knob.reset();  // where the knob was before does not count as meeting the new value
      }
      if (own || ev.has_snapshot())
        follow(self);
    },
  };
}

} // namespace

caf::actor spawn_midi_map(caf::actor_system& sys, const std::string& id,
                          const controller_deps& deps) {
  return sys.spawn(midi_map, id, deps);
}

} // namespace sg::ctl
