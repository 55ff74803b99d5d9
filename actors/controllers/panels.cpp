// The panel authority (panels.hpp): pad and knob panels, their persistence, MIDI routing
// through the active ones, and MIDI learn.

#include "actors/controllers/panels.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <spdlog/spdlog.h>
#include <variant>

#include "actors/controllers/common.hpp"

namespace sg {

namespace {

using namespace ctl;

constexpr auto request_timeout = std::chrono::seconds(2);
constexpr auto store_timeout = std::chrono::seconds(10);
constexpr int max_panels = 1024;
constexpr int max_mappings = 512;
constexpr uint32_t default_learn_ms = 30000;
constexpr uint32_t max_learn_ms = 300000;

struct pending_learn {
  uint64_t id = 0;
  v1::LearnRequest req;
  caf::typed_response_promise<v1::LearnReply> promise;
};

struct panels_state {
  panels_state() = default;  // not an aggregate: CAF must not build it from the self pointer
  hub_actor hub;
  host_actor host;
  store_actor store;
  std::map<std::string, v1::Panel> panels;
  param_mirror mirror;
  // Soft takeover per (panel, mapping index).
  std::map<std::pair<std::string, int>, pickup> knobs;
  std::optional<pending_learn> learn;
  uint64_t next_learn = 1;
  uint64_t rev = 0;  // client_rev of the intents the panels send
  rate_limited_log log{"panels"};
  static inline const char* name = "panels";
};

using self_ptr = panel_actor::stateful_pointer<panels_state>;

// -- validation ------------------------------------------------------------------------------

bool valid_id(const std::string& id) {
  static const std::regex re("[A-Za-z0-9._-]{1,64}");
  return std::regex_match(id, re);
}

bool is_bool_param(const target& t) { return t.info->type == param_type::boolean; }

/// A resolve_target message without its leading "target: ".
std::string without_field(const std::string& message) {
  return message.substr(message.find(": ") + 2);
}

/// The action a mapping performs, with UNSPECIFIED resolved for its panel type.
v1::MappingAction action_of(const v1::Panel& p, const v1::PanelMapping& m) {
  if (m.action() != v1::MAPPING_ACTION_UNSPECIFIED)
    return m.action();
  return p.type() == v1::PANEL_TYPE_KNOB ? v1::MAPPING_ACTION_SET : v1::MAPPING_ACTION_TRIGGER;
}

/// Everything wrong with `p` (the first thing), field named from "panel.".
std::optional<v1::Status> check_panel(const param_mirror& m, const v1::Panel& p) {
  auto bad = [](const std::string& field, const std::string& what) {
    return make_status(code_invalid_argument, field + ": " + what, field);
  };
  if (!valid_id(p.id()))
    return bad("panel.id", "expected 1-64 characters of [A-Za-z0-9._-], got \"" + p.id() + "\"");
  if (p.type() != v1::PANEL_TYPE_PAD && p.type() != v1::PANEL_TYPE_KNOB)
    return bad("panel.type", "expected PANEL_TYPE_PAD or PANEL_TYPE_KNOB");
  if (p.bank().empty() || p.bank().size() > 64)
    return bad("panel.bank", "expected a bank name of 1-64 characters");
  if (!p.device().empty() && !valid_id(p.device()))
    return bad("panel.device", "expected a MIDI device id of the graph, got \"" + p.device() +
                                 "\"");
  if (p.mappings_size() > max_mappings)
    return bad("panel.mappings", "at most " + std::to_string(max_mappings) + " mappings");
  std::set<std::pair<uint32_t, uint32_t>> seen;
  const bool knob = p.type() == v1::PANEL_TYPE_KNOB;
  for (int i = 0; i < p.mappings_size(); ++i) {
    const auto& mp = p.mappings(i);
    const std::string f = "panel.mappings[" + std::to_string(i) + "]";
    if (mp.number() > 127)
      return bad(f + ".number", "expected 0..127 (a " + std::string(knob ? "CC" : "note") +
                                  " number), got " + std::to_string(mp.number()));
    if (mp.channel() > 16)
      return bad(f + ".channel", "expected 1..16 or 0 (any), got " +
                                   std::to_string(mp.channel()));
    // One mapping per control: a number on "any channel" excludes it on every channel.
    bool clash = seen.count({mp.number(), mp.channel()}) || seen.count({mp.number(), 0});
    if (mp.channel() == 0)
      for (uint32_t ch = 1; ch <= 16 && !clash; ++ch)
        clash = seen.count({mp.number(), ch}) > 0;
    if (clash)
      return bad(f + ".number", "control " + std::to_string(mp.number()) +
                                  (mp.channel() ? " on channel " + std::to_string(mp.channel())
                                                : std::string(" on any channel")) +
                                  " is already mapped in this panel");
    seen.insert({mp.number(), mp.channel()});
    if (!std::isfinite(mp.low()) || !std::isfinite(mp.high()) || mp.low() < 0 ||
        mp.low() > 1 || mp.high() < 0 || mp.high() > 1)
      return bad(f + ".low", "low and high are fractions of the target's range, 0..1");
    const auto action = action_of(p, mp);
    switch (action) {
      case v1::MAPPING_ACTION_SET:
        if (!knob)
          return bad(f + ".action", "SET is for knobs; pads TRIGGER, TOGGLE, MOMENTARY or PLAY");
        if (auto t = resolve_target(m, mp.target()); !t)
          return bad(f + ".target", without_field(t.error()));
        break;
      case v1::MAPPING_ACTION_TOGGLE:
      case v1::MAPPING_ACTION_MOMENTARY: {
        auto t = resolve_target(m, mp.target());
        if (!t)
          return bad(f + ".target", without_field(t.error()));
        if (!is_bool_param(*t))
          return bad(f + ".target", "'" + mp.target() +
                                      "' is not a bool parameter (TOGGLE and MOMENTARY need one)");
        break;
      }
      case v1::MAPPING_ACTION_TRIGGER:
      case v1::MAPPING_ACTION_PLAY:
        if (knob)
          return bad(f + ".action", "TRIGGER and PLAY are for pads; knobs SET, TOGGLE or "
                                    "MOMENTARY");
        if (auto takes = check_event_node(m, mp.target()); !takes)
          return bad(f + ".target", takes.error());
        break;
      default: return bad(f + ".action", "unknown action " + std::to_string(mp.action()));
    }
  }
  return std::nullopt;
}

// -- changes ---------------------------------------------------------------------------------

v1::Event changed_event(const v1::Panel& p, const std::string& reason, bool deleted,
                        bool persisted) {
  v1::Event ev;
  ev.set_node_id(p.id());
  auto& pc = *ev.mutable_panel();
  *pc.mutable_panel() = p;
  pc.set_reason(reason);
  pc.set_deleted(deleted);
  pc.set_persisted(persisted);
  return ev;
}

struct change {
  std::vector<std::pair<v1::Panel, std::string>> upserts;  // new state, reason
  std::vector<v1::Panel> deletes;                           // last state
};

/// Writes `c` to the store (when there is one), then applies it, announces it and answers
/// through `done(status, persisted)`. Nothing changes when the write fails. The store reply
/// is awaited: no other request runs in between.
void commit_change(self_ptr self, change c, std::function<void(v1::Status, bool)> done) {
  auto apply = [self, c, done](bool persisted) {
    auto& st = self->state;
    for (const auto& p : c.deletes) {
      st.panels.erase(p.id());
      self->send(st.hub, changed_event(p, "deleted", true, persisted));
    }
    for (const auto& [p, reason] : c.upserts) {
      st.panels[p.id()] = p;
      // A changed or (de)activated panel meets its knobs' values again.
      for (auto it = st.knobs.lower_bound({p.id(), 0});
           it != st.knobs.end() && it->first.first == p.id();)
        it = st.knobs.erase(it);
      self->send(st.hub, changed_event(p, reason, false, persisted));
    }
    done(make_status(code_ok, ""), persisted);
  };
  if (!self->state.store) {
    apply(false);
    return;
  }
  v1::PanelWrite w;
  for (const auto& [p, reason] : c.upserts)
    *w.add_upserts() = p;
  for (const auto& p : c.deletes)
    w.add_deletes(p.id());
  self->request(self->state.store, store_timeout, std::move(w))
    .await(
      [apply, done](const v1::Status& s) {
        if (s.code() != code_ok) {
          done(make_status(code_unavailable, "panels: not saved, nothing changed: " + s.message()),
               false);
          return;
        }
        apply(true);
      },
      [done](const caf::error& e) {
        done(make_status(code_unavailable, "panels: the store did not answer, nothing changed: " +
                                             caf::to_string(e)),
             false);
      });
}

/// The panels `p` being active switches off (same type and bank, another id).
std::vector<v1::Panel> displaced(const panels_state& st, const v1::Panel& p,
                                 const v1::Origin& origin) {
  std::vector<v1::Panel> out;
  if (!p.active())
    return out;
  for (const auto& [id, other] : st.panels)
    if (id != p.id() && other.active() && other.type() == p.type() && other.bank() == p.bank()) {
      auto off = other;
      off.set_active(false);
      off.set_rev(other.rev() + 1);
      *off.mutable_origin() = origin;
      out.push_back(std::move(off));
    }
  return out;
}

/// Creates or replaces panel `in` (rev and origin stamped), switching off the panel it
/// displaces; `done` gets the reply.
void put(self_ptr self, const v1::Panel& in, const std::string& reason, const v1::Origin& origin,
         std::function<void(v1::PanelReply)> done) {
  auto& st = self->state;
  auto existing = st.panels.find(in.id());
  v1::Panel p = in;
  p.set_rev(existing == st.panels.end() ? 1 : existing->second.rev() + 1);
  *p.mutable_origin() = origin;
  change c;
  v1::PanelReply reply;
  for (auto& off : displaced(st, p, origin)) {
    reply.add_deactivated(off.id());
    c.upserts.emplace_back(std::move(off), "deactivated");
  }
  c.upserts.emplace_back(p, reason);
  commit_change(self, std::move(c),
                [reply, p, done = std::move(done)](v1::Status s, bool persisted) mutable {
                  *reply.mutable_status() = s;
                  if (s.code() == code_ok) {
                    *reply.mutable_panel() = p;
                    reply.set_persisted(persisted);
                  } else {
                    reply.clear_deactivated();
                  }
                  done(std::move(reply));
                });
}

// -- input -----------------------------------------------------------------------------------

void stamp(self_ptr self, const std::string& panel, v1::Origin& o) {
  o.set_client_id("panel/" + panel);
  o.set_client_rev(++self->state.rev);
}

/// Sends an intent stamped with panel `panel`'s origin.
template <class Reply, class Request>
void send(self_ptr self, const std::string& panel, Request req) {
  stamp(self, panel, *req.mutable_origin());
  ask_host<Reply>(self, self->state.host, std::move(req), self->state.log);
}

/// One mapping of an active panel acting on its control's input. `on`: a note-on with
/// velocity > 0, or a CC at 64 or above (buttons sending CCs).
void act(self_ptr self, const v1::Panel& p, int index, const v1::MidiInput& in, bool cc) {
  auto& st = self->state;
  const auto& mp = p.mappings(index);
  const auto action = action_of(p, mp);
  const bool on = cc ? in.data2() >= 64 : (in.status() & 0xF0) == 0x90 && in.data2() > 0;
  if (action == v1::MAPPING_ACTION_TRIGGER || action == v1::MAPPING_ACTION_PLAY) {
    if (action == v1::MAPPING_ACTION_TRIGGER && !on)
      return;
    const auto kind = action == v1::MAPPING_ACTION_TRIGGER ? v1::TriggerRequest::KIND_TRIGGER
                      : on                                 ? v1::TriggerRequest::KIND_NOTE_ON
                                                           : v1::TriggerRequest::KIND_NOTE_OFF;
    send<v1::TriggerReply>(self, p.id(),
                           trigger_request(mp.target(), kind, in.data1(),
                                           static_cast<float>(in.data2()) / 127.0f, in.time_ns()));
    return;
  }
  auto t = resolve_target(st.mirror, mp.target());
  if (!t) {
    st.log.error("panel " + p.id() + ": " + t.error());
    return;
  }
  const double now = st.mirror.number(t->node, t->param, t->lo);
  switch (action) {
    case v1::MAPPING_ACTION_SET: {
      const bool whole = mp.low() == 0 && mp.high() == 0;
      const double in_frac =
        shape_cc(in.data2(), mp.curve(), whole ? 0 : mp.low(), whole ? 1 : mp.high());
      auto& knob = st.knobs[{p.id(), index}];
      if (!knob.admit(in_frac, mp.no_pickup() ? in_frac : fraction_in(*t, now)))
        return;
      send<v1::SetParamReply>(self, p.id(), set_request(*t, t->lo + (t->hi - t->lo) * in_frac));
      return;
    }
    case v1::MAPPING_ACTION_TOGGLE:
      if (on)
        send<v1::SetParamReply>(self, p.id(), set_request(*t, now < 0.5 ? 1 : 0));
      return;
    case v1::MAPPING_ACTION_MOMENTARY:
      send<v1::SetParamReply>(self, p.id(), set_request(*t, on ? 1 : 0));
      return;
    default: return;
  }
}

/// What kind of control a MIDI message is: a knob (CC), a pad (note), or neither.
v1::PanelType kind_of(const v1::MidiInput& in) {
  const uint32_t type = in.status() & 0xF0;
  if (type == 0xB0)
    return v1::PANEL_TYPE_KNOB;
  if (type == 0x90 || type == 0x80)
    return v1::PANEL_TYPE_PAD;
  return v1::PANEL_TYPE_UNSPECIFIED;
}

bool device_matches(const v1::Panel& p, const v1::MidiInput& in) {
  return p.device().empty() || p.device() == in.device();
}

void finish_learn(self_ptr self, v1::LearnReply reply) {
  auto& st = self->state;
  if (!st.learn)
    return;
  auto promise = st.learn->promise;
  st.learn.reset();
  promise.deliver(std::move(reply));
}

/// The mapping the pending learn makes of control `in` (a knob or a note-on pad), or nothing
/// when the control does not fit the target: knobs set parameters; pads trigger nodes or switch
/// bools.
std::optional<v1::PanelMapping> learned_mapping(const panels_state& st, const v1::MidiInput& in,
                                                v1::PanelType kind) {
  const auto& req = st.learn->req;
  const bool node_target = req.target().find('.') == std::string::npos;
  std::optional<target> t;
  if (!node_target)
    if (auto resolved = resolve_target(st.mirror, req.target()))
      t = *resolved;
  v1::PanelMapping mp;
  mp.set_number(in.data1());
  mp.set_channel((in.status() & 0x0F) + 1);
  mp.set_target(req.target());
  if (kind == v1::PANEL_TYPE_KNOB) {
    if (node_target || !t)
      return std::nullopt;
    mp.set_action(v1::MAPPING_ACTION_SET);
  } else if (node_target) {
    mp.set_action(v1::MAPPING_ACTION_TRIGGER);
  } else if (t && is_bool_param(*t)) {
    mp.set_action(v1::MAPPING_ACTION_TOGGLE);
  } else {
    return std::nullopt;
  }
  return mp;
}

/// Where a learn of `kind` writes: the panel asked for, else the active one of this kind on the
/// device, else learned-knobs / learned-pads (made when missing). A LearnReply is a refusal that
/// ends the learn; nothing means the control does not fit the panel asked for.
std::variant<std::monostate, v1::Panel, v1::LearnReply>
learn_panel(const panels_state& st, const v1::MidiInput& in, v1::PanelType kind) {
  const auto& req = st.learn->req;
  if (!req.panel().empty()) {
    auto it = st.panels.find(req.panel());
    if (it == st.panels.end())
      return status_reply<v1::LearnReply>(
        code_not_found, "panel", "panel: '" + req.panel() + "' was deleted while learning");
    if (it->second.type() != kind || !device_matches(it->second, in))
      return std::monostate{};
    return it->second;
  }
  const v1::Panel* found = nullptr;
  for (const auto& [id, other] : st.panels)
    if (other.active() && other.type() == kind && device_matches(other, in) &&
        (!found || (found->device().empty() && !other.device().empty())))
      found = &other;
  if (found)
    return *found;
  const bool knob = kind == v1::PANEL_TYPE_KNOB;
  const std::string id = knob ? "learned-knobs" : "learned-pads";
  v1::Panel p;
  if (auto it = st.panels.find(id); it != st.panels.end()) {
    if (it->second.type() != kind)
      return status_reply<v1::LearnReply>(code_failed_precondition, "panel",
                                          "panel: '" + id + "' exists and is not a " +
                                            (knob ? "knob" : "pad") +
                                            " panel; name a panel to learn into");
    p = it->second;
  } else {
    p.set_id(id);
    p.set_type(kind);
    p.set_bank("learned");
    p.set_device(in.device());
  }
  p.set_active(true);
  return p;
}

/// The pending learn with input `in`: true when it took the input.
bool learn_from(self_ptr self, const v1::MidiInput& in) {
  auto& st = self->state;
  const auto kind = kind_of(in);
  const bool note_on = kind == v1::PANEL_TYPE_PAD && (in.status() & 0xF0) == 0x90 && in.data2() > 0;
  if (kind == v1::PANEL_TYPE_UNSPECIFIED || (kind == v1::PANEL_TYPE_PAD && !note_on))
    return false;
  const auto mp = learned_mapping(st, in, kind);
  if (!mp)
    return false;
  auto place = learn_panel(st, in, kind);
  if (std::holds_alternative<std::monostate>(place))
    return false;
  if (auto* refusal = std::get_if<v1::LearnReply>(&place)) {
    finish_learn(self, std::move(*refusal));
    return true;
  }
  auto p = std::get<v1::Panel>(std::move(place));
  // The control replaces whatever it did in that panel.
  auto* maps = p.mutable_mappings();
  for (int i = maps->size() - 1; i >= 0; --i)
    if (maps->Get(i).number() == mp->number() &&
        (maps->Get(i).channel() == mp->channel() || maps->Get(i).channel() == 0))
      maps->DeleteSubrange(i, 1);
  *p.add_mappings() = *mp;
  if (p.mappings_size() > max_mappings) {
    finish_learn(self, status_reply<v1::LearnReply>(code_resource_exhausted, "panel",
                                                    "panel: '" + p.id() +
                                                      "' has no room for another mapping"));
    return true;
  }
  v1::LearnReply learned;
  *learned.mutable_mapping() = *mp;
  learned.set_device(in.device());
  const auto origin = st.learn->req.origin();
  const std::string reason = st.panels.count(p.id()) ? "learned" : "created";
  put(self, p, reason, origin, [self, learned](v1::PanelReply r) mutable {
    *learned.mutable_status() = r.status();
    if (r.status().code() == code_ok)
      *learned.mutable_panel() = r.panel();
    finish_learn(self, std::move(learned));
  });
  return true;
}

/// MIDI input: a pending learn takes it, else every active panel of its kind and device acts.
void on_midi(self_ptr self, const v1::MidiInput& in) {
  auto& st = self->state;
  if (!st.mirror.seeded())
    return;
  if (st.learn && learn_from(self, in))
    return;
  const auto kind = kind_of(in);
  if (kind == v1::PANEL_TYPE_UNSPECIFIED)
    return;
  const uint32_t channel = (in.status() & 0x0F) + 1;
  for (const auto& [id, p] : st.panels) {
    if (!p.active() || p.type() != kind || !device_matches(p, in))
      continue;
    for (int i = 0; i < p.mappings_size(); ++i) {
      const auto& mp = p.mappings(i);
      if (mp.number() == in.data1() && (mp.channel() == 0 || mp.channel() == channel))
        act(self, p, i, in, kind == v1::PANEL_TYPE_KNOB);
    }
  }
}

/// Someone else moved a parameter: knobs mapped to it must meet it again.
void on_foreign_change(self_ptr self, const v1::ParamChanged& pc) {
  auto& st = self->state;
  const std::string text = pc.node() + "." + pc.param();
  for (auto& [key, knob] : st.knobs) {
    auto it = st.panels.find(key.first);
    if (it == st.panels.end() || key.second >= it->second.mappings_size())
      continue;
    if (it->second.mappings(key.second).target() != text)
      continue;
    if (pc.origin().client_id() == "panel/" + key.first)
      continue;  // the panel's own write: its knob is where the value is
    knob.reset();
  }
}

v1::Origin origin_or(const v1::Origin& o, const char* fallback) {
  if (!o.client_id().empty())
    return o;
  v1::Origin out;
  out.set_client_id(fallback);
  return out;
}

/// Runs `f` once the mirror holds at least what the hub held when the request arrived: a change
/// right after a graph apply is validated against that graph, not against an older reseed still
/// on its way. (The hub handled the host's new Snapshot before this request was even sent.)
template <class F>
void with_fresh_mirror(self_ptr self, F f) {
  self->request(self->state.hub, request_timeout, caf::get_atom_v)
    .await(
      [self, f](v1::Snapshot& snap) mutable {
        v1::Event ev;
        *ev.mutable_snapshot() = std::move(snap);
        self->state.mirror.apply(ev, {});
        f();
      },
      [f](const caf::error&) mutable { f(); });
}

void start_learn(self_ptr self, const v1::LearnRequest& req,
                 caf::typed_response_promise<v1::LearnReply> promise) {
  auto& st = self->state;
  auto refuse_learn = [&promise](status_code code, const std::string& field, const std::string& w) {
    promise.deliver(status_reply<v1::LearnReply>(code, field, field + ": " + w));
  };
  if (req.target().find('.') == std::string::npos) {
    if (auto takes = check_event_node(st.mirror, req.target()); !takes)
      return refuse_learn(code_invalid_argument, "target",
                          takes.error() + " (a node target is for pads: NODE takes triggers, "
                                          "NODE.PARAM is for knobs and bool switches)");
  } else if (auto t = resolve_target(st.mirror, req.target()); !t) {
    return refuse_learn(code_invalid_argument, "target", without_field(t.error()));
  }
  if (!req.panel().empty() && !st.panels.count(req.panel()))
    return refuse_learn(code_not_found, "panel", "no panel '" + req.panel() + "'");
  if (req.timeout_ms() > max_learn_ms)
    return refuse_learn(code_invalid_argument, "timeout_ms",
                        "at most " + std::to_string(max_learn_ms) + " ms");
  if (st.learn)
    return refuse_learn(code_failed_precondition, "target",
                        "another learn is waiting (for " + st.learn->req.target() + ")");
  pending_learn pl;
  pl.id = st.next_learn++;
  pl.req = req;
  *pl.req.mutable_origin() = origin_or(req.origin(), "learn");
  pl.promise = promise;
  const auto id = pl.id;
  st.learn = std::move(pl);
  const auto wait =
    std::chrono::milliseconds(req.timeout_ms() ? req.timeout_ms() : default_learn_ms);
  self->delayed_send(self, wait, caf::timeout_atom_v, id);
}

/// Creates or updates a panel once the mirror is fresh enough to check it against.
caf::typed_response_promise<v1::PanelReply> on_put(self_ptr self, const v1::PutPanelRequest& req) {
  auto rp = self->make_response_promise<v1::PanelReply>();
  with_fresh_mirror(self, [self, req, rp]() mutable {
    auto& st = self->state;
    const bool exists = st.panels.count(req.panel().id()) > 0;
    if (auto bad = check_panel(st.mirror, req.panel())) {
      v1::PanelReply r;
      *r.mutable_status() = *bad;
      rp.deliver(r);
    } else if (req.create() && exists) {
      rp.deliver(status_reply<v1::PanelReply>(code_already_exists, "panel.id",
                                              "panel.id: panel '" + req.panel().id() +
                                                "' exists (update it instead)"));
    } else if (!req.create() && !exists) {
      rp.deliver(status_reply<v1::PanelReply>(code_not_found, "panel.id",
                                              "panel.id: no panel '" + req.panel().id() +
                                                "' (create it first)"));
    } else if (req.create() && static_cast<int>(st.panels.size()) >= max_panels) {
      rp.deliver(status_reply<v1::PanelReply>(code_resource_exhausted, "panel.id",
                                              "panel.id: at most " + std::to_string(max_panels) +
                                                " panels"));
    } else {
      put(self, req.panel(), req.create() ? "created" : "updated",
          origin_or(req.origin(), "panels"), [rp](v1::PanelReply r) mutable { rp.deliver(r); });
    }
  });
  return rp;
}

/// Deletes a panel: the store first, then the hub hears it.
caf::result<v1::PanelReply> on_delete(self_ptr self, const v1::DeletePanelRequest& req) {
  auto it = self->state.panels.find(req.id());
  if (it == self->state.panels.end())
    return status_reply<v1::PanelReply>(code_not_found, "id", "id: no panel '" + req.id() + "'");
  auto last = it->second;
  last.set_rev(last.rev() + 1);
  *last.mutable_origin() = origin_or(req.origin(), "panels");
  change c;
  c.deletes.push_back(last);
  auto rp = self->make_response_promise<v1::PanelReply>();
  commit_change(self, std::move(c), [rp, last](v1::Status s, bool persisted) mutable {
    v1::PanelReply r;
    *r.mutable_status() = s;
    if (s.code() == code_ok) {
      *r.mutable_panel() = last;
      r.set_persisted(persisted);
    }
    rp.deliver(r);
  });
  return rp;
}

panel_actor::behavior_type behavior(self_ptr self) {
  return {
    [self](const v1::ListPanelsRequest&) {
      v1::ListPanelsReply r;
      *r.mutable_status() = make_status(code_ok, "");
      for (const auto& [id, p] : self->state.panels)
        *r.add_panels() = p;
      return r;
    },
    [self](const v1::GetPanelRequest& req) {
      auto it = self->state.panels.find(req.id());
      if (it == self->state.panels.end())
        return status_reply<v1::PanelReply>(code_not_found, "id",
                                            "id: no panel '" + req.id() + "'");
      v1::PanelReply r;
      *r.mutable_status() = make_status(code_ok, "");
      *r.mutable_panel() = it->second;
      r.set_persisted(static_cast<bool>(self->state.store));
      return r;
    },
    [self](const v1::PutPanelRequest& req) { return on_put(self, req); },
    [self](const v1::ActivatePanelRequest& req) -> caf::result<v1::PanelReply> {
      auto it = self->state.panels.find(req.id());
      if (it == self->state.panels.end())
        return status_reply<v1::PanelReply>(code_not_found, "id",
                                            "id: no panel '" + req.id() + "'");
      auto p = it->second;
      p.set_active(req.active());
      auto rp = self->make_response_promise<v1::PanelReply>();
      put(self, p, req.active() ? "activated" : "deactivated", origin_or(req.origin(), "panels"),
          [rp](v1::PanelReply r) mutable { rp.deliver(r); });
      return rp;
    },
    [self](const v1::DeletePanelRequest& req) { return on_delete(self, req); },
    [self](const v1::LearnRequest& req) {
      auto promise = self->make_response_promise<v1::LearnReply>();
      with_fresh_mirror(self, [self, req, promise]() mutable { start_learn(self, req, promise); });
      return promise;
    },
    [self](caf::timeout_atom, uint64_t id) {
      auto& st = self->state;
      if (!st.learn || st.learn->id != id)
        return;
      finish_learn(self, status_reply<v1::LearnReply>(code_deadline_exceeded, "timeout_ms",
                                                      "timeout_ms: no MIDI control moved in time"));
    },
    [self](const v1::Event& ev) {
      auto& st = self->state;
      if (ev.has_midi()) {
        on_midi(self, ev.midi());
        return;
      }
      st.mirror.apply(ev, {});
      if (ev.has_param_changed())
        on_foreign_change(self, ev.param_changed());
    },
  };
}

} // namespace

panel_actor spawn_panel_authority(caf::actor_system& sys, const hub_actor& hub,
                                  const host_actor& host, const store_actor& store) {
  auto fn = [](self_ptr self, hub_actor hub, host_actor host,
               store_actor store) -> panel_actor::behavior_type {
    auto& st = self->state;
    st.hub = std::move(hub);
    st.host = std::move(host);
    st.store = std::move(store);
    v1::SubscribeRequest filter;
    filter.add_kinds(v1::EVENT_KIND_PARAM_CHANGED);
    filter.add_kinds(v1::EVENT_KIND_SNAPSHOT);
    filter.add_kinds(v1::EVENT_KIND_MIDI);
    self->request(st.hub, std::chrono::seconds(5), caf::subscribe_atom_v,
                  caf::actor_cast<caf::actor>(self), std::move(filter))
      .then([](uint64_t) {});
    if (st.store) {
      // Stored panels first: no request is answered before they are back.
      self->request(st.store, store_timeout, v1::ListPanelsRequest{})
        .await(
          [self](v1::StoredPanels& stored) {
            auto& st = self->state;
            if (stored.status().code() != code_ok) {
              spdlog::error("panels: {}", stored.status().message());
              return;
            }
            std::set<std::pair<int, std::string>> active;
            for (auto& p : *stored.mutable_panels()) {
              // Two active panels of one (type, bank) cannot come from us; keep the first.
              if (p.active() && !active.insert({p.type(), p.bank()}).second)
                p.set_active(false);
              self->send(st.hub, changed_event(p, "restored", false, true));
              st.panels[p.id()] = std::move(p);
            }
          },
          [](const caf::error& e) {
            spdlog::error("panels: the store did not answer: {}", caf::to_string(e));
          });
    }
    return behavior(self);
  };
  return sys.spawn(fn, hub, host, store);
}

} // namespace sg
