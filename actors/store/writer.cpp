#include "actors/store/writer.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <spdlog/spdlog.h>
#include <string>
#include <utility>
#include <vector>

#include "actors/store/state_store.hpp"

namespace sg {

namespace {

constexpr auto min_retry = std::chrono::milliseconds(50);
constexpr auto max_retry = std::chrono::milliseconds(1000);
constexpr size_t max_preset_name = 128;
constexpr const char* status_node = "store";

/// The first retry after a failed write comes one flush interval later, but never sooner than
/// `min_retry` (no busy loop) nor later than `max_retry` (a long interval must not delay
/// recovery); each further failure doubles it up to `max_retry`.
std::chrono::milliseconds first_retry(std::chrono::milliseconds interval) {
  return std::clamp(interval, min_retry, max_retry);
}

using param_key = std::pair<std::string, std::string>;  // (node, param)

struct writer_state {
  writer_state() = default;
  ~writer_state();

  std::shared_ptr<state_store> store;  // shared only to pass spawn's copyable arguments
  hub_actor hub;
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds retry{0};  // delay before the next retry while writes fail
  /// Pending writes. Every pending upsert is newer than every pending clear that covers it (a
  /// clear drops the upserts it covers), so writing clears first keeps arrival order.
  std::map<param_key, v1::PersistParam> upserts;
  std::vector<v1::PersistClear> clears;
  uint64_t absorbed = 0;  // PersistParam messages since the last durable batch
  uint64_t batch = 0;     // last durable batch
  /// When the soonest scheduled flush tick is due; empty once that time has passed.
  std::optional<std::chrono::steady_clock::time_point> tick_due;
  std::string failure;  // the last write error published; empty while writes succeed
  static inline const char* name = "store-writer";

  bool pending() const { return !upserts.empty() || !clears.empty(); }
  size_t pending_count() const { return upserts.size() + clears.size(); }

  /// Writes every pending item in one transaction and forgets them, returning the upserts
  /// written; on failure they all stay pending.
  expected<std::vector<v1::PersistParam>> write_pending() {
    std::vector<v1::PersistParam> batch_upserts;
    batch_upserts.reserve(upserts.size());
    for (auto& [key, u] : upserts)
      batch_upserts.push_back(std::move(u));
    if (auto written = store->write(batch_upserts, clears); !written) {
      auto it = upserts.begin();  // the map was not touched: same keys, same order
      for (auto& u : batch_upserts)
        (it++)->second = std::move(u);
      return unexpected(written.error());
    }
    upserts.clear();
    clears.clear();
    return batch_upserts;
  }
};

// Last chance when the actor ends without an exit message (the exit handler flushes and
// reports otherwise): nothing pending may vanish silently.
writer_state::~writer_state() {
  if (!store || !pending())
    return;
  if (auto written = write_pending(); !written)
    spdlog::error("store: {} pending value(s) lost: {}", pending_count(), written.error());
}

using self_ptr = store_actor::stateful_pointer<writer_state>;

void publish_status(self_ptr self, v1::NodeStatus::State state, const std::string& message) {
  v1::Event ev;
  ev.set_node_id(status_node);
  auto* ns = ev.mutable_node_status();
  ns->set_node(status_node);
  ns->set_state(state);
  ns->set_message(message);
  self->send(self->state.hub, std::move(ev));
}

void publish_durable(self_ptr self, const std::vector<v1::PersistParam>& written) {
  auto& st = self->state;
  v1::Event ev;
  auto* d = ev.mutable_durable();
  d->set_batch(++st.batch);
  for (const auto& u : written) {
    auto* e = d->add_entries();
    e->set_node(u.node());
    e->set_param(u.param());
    e->set_node_rev(u.node_rev());
  }
  d->set_coalesced(static_cast<uint32_t>(
    std::min<uint64_t>(st.absorbed, std::numeric_limits<uint32_t>::max())));
  d->set_path(st.store->path());
  st.absorbed = 0;
  self->send(st.hub, std::move(ev));
}

/// Schedules a flush `delay` from now unless one is due sooner. The tick is an anonymous
/// flush_atom, so its reply goes nowhere. A tick that a sooner one superseded still arrives
/// later and flushes whatever is pending then: early, never late, so it needs no filtering.
void arm_timer(self_ptr self, std::chrono::milliseconds delay) {
  auto& due = self->state.tick_due;
  auto at = std::chrono::steady_clock::now() + delay;
  if (due && *due <= at)
    return;
  due = at;
  caf::delayed_anon_send(caf::actor_cast<store_actor>(self), delay, sg::flush_atom_v);
}

/// Forgets the scheduled tick once it is due (it is in the mailbox or being handled), so the
/// next pending value schedules a new one.
void expire_tick(writer_state& st) {
  if (st.tick_due && std::chrono::steady_clock::now() >= *st.tick_due)
    st.tick_due.reset();
}

/// Writes what is pending as one batch and publishes the outcome. On failure everything stays
/// pending, a retry is scheduled with backoff, and the failure carries the SQLite message.
expected<void> flush(self_ptr self) {
  auto& st = self->state;
  if (!st.pending())
    return {};
  auto written = st.write_pending();
  if (!written) {
    const auto& error = written.error();
    if (error != st.failure)  // one event per distinct failure, not one per retry
      publish_status(self, v1::NodeStatus::STATE_FAILED, error);
    st.failure = error;
    arm_timer(self, st.retry);
    st.retry = std::min(st.retry * 2, max_retry);
    return unexpected(error);
  }
  publish_durable(self, *written);
  st.retry = first_retry(st.interval);
  if (!st.failure.empty()) {
    st.failure.clear();
    publish_status(self, v1::NodeStatus::STATE_RUNNING, "writes resumed");
  }
  return {};
}

void absorb(writer_state& st, v1::PersistParam& p) {
  ++st.absorbed;
  auto it = st.upserts.find(param_key{p.node(), p.param()});
  if (it == st.upserts.end())
    st.upserts.emplace(param_key{p.node(), p.param()}, std::move(p));
  else if (p.node_rev() >= it->second.node_rev())
    it->second = std::move(p);
}

void absorb(writer_state& st, v1::PersistClear& c) {
  if (c.params().empty()) {
    auto it = st.upserts.lower_bound(param_key{c.node(), std::string()});
    while (it != st.upserts.end() && it->first.first == c.node())
      it = st.upserts.erase(it);
  } else {
    for (const auto& param : c.params())
      st.upserts.erase(param_key{c.node(), param});
  }
  st.clears.push_back(std::move(c));
}

/// The stored values with the pending writes applied over them: what a reader must see even
/// when the last write failed.
std::vector<v1::StoredParam> merged_with_pending(const writer_state& st,
                                                 std::vector<v1::StoredParam> stored) {
  std::map<param_key, v1::StoredParam> merged;
  for (auto& p : stored)
    merged.emplace(param_key{p.node(), p.param()}, std::move(p));
  for (const auto& c : st.clears) {
    for (auto it = merged.begin(); it != merged.end();) {
      bool hit = it->first.first == c.node() &&
                 (c.params().empty() ||
                  std::find(c.params().begin(), c.params().end(), it->first.second) !=
                    c.params().end());
      it = hit ? merged.erase(it) : std::next(it);
    }
  }
  for (const auto& [key, u] : st.upserts) {
    auto& p = merged[key];
    p.set_node(u.node());
    p.set_type(u.type());
    p.set_param(u.param());
    *p.mutable_value() = u.value();
  }
  std::vector<v1::StoredParam> out;
  out.reserve(merged.size());
  for (auto& [key, p] : merged)
    out.push_back(std::move(p));
  return out;
}

v1::StoredState stored_state(self_ptr self) {
  auto& st = self->state;
  v1::StoredState reply;
  reply.set_path(st.store->path());
  auto flushed = flush(self);
  auto params = st.store->load_params();
  if (!params) {
    *reply.mutable_status() = make_status(code_unavailable, params.error());
    return reply;
  }
  if (!flushed) {
    *params = merged_with_pending(st, std::move(*params));
    *reply.mutable_status() =
      make_status(code_unavailable, flushed.error() + " (pending values not durable yet)");
  } else {
    *reply.mutable_status() = make_status(code_ok, "");
  }
  reply.mutable_params()->Reserve(static_cast<int>(params->size()));
  for (auto& p : *params)
    *reply.add_params() = std::move(p);
  return reply;
}

v1::Status check_preset_name(const std::string& name) {
  if (name.empty())
    return make_status(code_invalid_argument, "preset: name must not be empty", "name");
  if (name.size() > max_preset_name)
    return make_status(code_invalid_argument,
                       "preset: name longer than " + std::to_string(max_preset_name) +
                         " bytes",
                       "name");
  // UTF-8 is welcome; control characters would corrupt listings and logs.
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      return make_status(code_invalid_argument, "preset: name contains a control character",
                         "name");
  return make_status(code_ok, "");
}

v1::Status no_preset(const std::string& name) {
  return make_status(code_not_found, "preset: no preset '" + name + "'", "name");
}

// -- the writer's requests, one function each ---------------------------------------------

/// Flushes at once (a request or the timer's tick): the batch number durable now, or the
/// write's failure.
caf::result<uint64_t> on_flush(self_ptr self) {
  expire_tick(self->state);
  if (auto flushed = flush(self); !flushed)
    return caf::make_error(caf::sec::runtime_error, flushed.error());
  return self->state.batch;
}

v1::Status on_save_preset(self_ptr self, const v1::Preset& preset) {
  auto status = check_preset_name(preset.name());
  if (status.code() != code_ok)
    return status;
  if (auto saved = self->state.store->save_preset(preset); !saved)
    return make_status(code_unavailable, saved.error());
  return status;
}

v1::PresetReply on_load_preset(self_ptr self, const std::string& name) {
  v1::PresetReply reply;
  auto preset = self->state.store->load_preset(name);
  if (!preset) {
    *reply.mutable_status() = make_status(code_unavailable, preset.error());
  } else if (!*preset) {
    *reply.mutable_status() = no_preset(name);
  } else {
    *reply.mutable_status() = make_status(code_ok, "");
    *reply.mutable_preset() = std::move(**preset);
  }
  return reply;
}

v1::ListPresetsReply on_list_presets(self_ptr self) {
  v1::ListPresetsReply reply;
  auto presets = self->state.store->list_presets();
  if (!presets) {
    *reply.mutable_status() = make_status(code_unavailable, presets.error());
    return reply;
  }
  for (auto& info : *presets)
    *reply.add_presets() = std::move(info);
  *reply.mutable_status() = make_status(code_ok, "");
  return reply;
}

v1::DeletePresetReply on_delete_preset(self_ptr self, const v1::DeletePresetRequest& req) {
  v1::DeletePresetReply reply;
  auto deleted = self->state.store->delete_preset(req.name());
  if (!deleted)
    *reply.mutable_status() = make_status(code_unavailable, deleted.error());
  else
    *reply.mutable_status() = *deleted ? make_status(code_ok, "") : no_preset(req.name());
  return reply;
}

v1::StoredPanels on_list_panels(self_ptr self) {
  v1::StoredPanels reply;
  auto panels = self->state.store->load_panels();
  if (!panels) {
    *reply.mutable_status() = make_status(code_unavailable, panels.error());
    return reply;
  }
  for (auto& panel : *panels)
    *reply.add_panels() = std::move(panel);
  *reply.mutable_status() = make_status(code_ok, "");
  return reply;
}

v1::Status on_write_panels(self_ptr self, const v1::PanelWrite& w) {
  if (auto written = self->state.store->write_panels(w); !written)
    return make_status(code_unavailable, written.error());
  return make_status(code_ok, "");
}

/// An exit message: flushes first, so a clean shutdown loses nothing; what still cannot be
/// written is reported (event and log) and dropped before the actor quits.
void on_exit(self_ptr self, const caf::exit_msg& msg) {
  auto& st = self->state;
  if (auto flushed = flush(self); !flushed) {
    std::string lost =
      std::to_string(st.pending_count()) + " pending value(s) lost at shutdown: " + flushed.error();
    publish_status(self, v1::NodeStatus::STATE_FAILED, lost);
    spdlog::error("store: {}", lost);
    st.upserts.clear();
    st.clears.clear();
  }
  self->quit(msg.reason);
}

store_actor::behavior_type writer_behavior(self_ptr self) {
  return {
    [self](v1::PersistParam& p) {
      absorb(self->state, p);
      arm_timer(self, self->state.interval);
    },
    [self](v1::PersistClear& c) {
      absorb(self->state, c);
      arm_timer(self, self->state.interval);
    },
    [self](caf::get_atom) { return stored_state(self); },
    [self](sg::flush_atom) { return on_flush(self); },
    [self](const v1::Preset& preset) { return on_save_preset(self, preset); },
    [self](caf::get_atom, const std::string& name) { return on_load_preset(self, name); },
    [self](const v1::ListPresetsRequest&) { return on_list_presets(self); },
    [self](const v1::ListPanelsRequest&) { return on_list_panels(self); },
    [self](const v1::PanelWrite& w) { return on_write_panels(self, w); },
    [self](const v1::DeletePresetRequest& req) { return on_delete_preset(self, req); },
  };
}

} // namespace

store_actor spawn_store_writer(caf::actor_system& sys, std::unique_ptr<state_store> store,
                               hub_actor hub, std::chrono::milliseconds flush_interval) {
  auto fn = [](self_ptr self, std::shared_ptr<state_store> store, hub_actor hub,
               std::chrono::milliseconds interval) -> store_actor::behavior_type {
    auto& st = self->state;
    st.store = std::move(store);
    st.hub = std::move(hub);
    st.interval = interval;
    st.retry = first_retry(interval);
    self->set_exit_handler([self](const caf::exit_msg& msg) { on_exit(self, msg); });
    return writer_behavior(self);
  };
  return sys.spawn<caf::detached>(fn, std::shared_ptr<state_store>(std::move(store)),
                                  std::move(hub), flush_interval);
}

} // namespace sg
