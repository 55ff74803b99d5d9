#include "actors/host.hpp"

#include <deque>
#include <map>
#include <set>
#include <variant>

#include <spdlog/spdlog.h>

#include "actors/controllers/controller.hpp"
#include "actors/controllers/panels.hpp"
#include "actors/devices/audio_device.hpp"
#include "actors/devices/midi_device.hpp"
#include "actors/devices/specs.hpp"
#include "actors/devices/video_device.hpp"
#include "actors/graph_apply.hpp"
#include "actors/host_state.hpp"
#include "actors/state/layers.hpp"
#include "actors/store/state_store.hpp"
#include "actors/store/writer.hpp"
#include "graph/params.hpp"
#include "hardware/audio_domain.hpp"
#include "nodes/control/control.hpp"

namespace sg {

namespace host_detail {

void publish(self_ptr self, v1::Event ev) {
  self->send(self->state.hub, std::move(ev));
}

/// Video nodes that reach no video.output run nowhere: said in the log and as their node status
/// (stopped), where a client watching the graph looks, instead of leaving them silently idle.
void announce_unplaced_video(self_ptr self, const v1::GraphSpec& graph) {
  for (const auto& id : unplaced_video_nodes(to_graph_spec(graph))) {
    const std::string why = "runs nowhere: it reaches no video.output";
    spdlog::warn("video node '{}' {}", id, why);
    v1::Event ev;
    ev.set_node_id(id);
    auto* ns = ev.mutable_node_status();
    ns->set_node(id);
    ns->set_state(v1::NodeStatus::STATE_STOPPED);
    ns->set_message(why);
    publish(self, std::move(ev));
  }
}

const node_info& info_of(const std::string& type) {
  return *node_registry::builtin().find(type);
}

// -- fan-in of requests to node actors --------------------------------------------------------

void end_load(self_ptr self, const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    auto it = self->state.nodes.find(id);
    if (it != self->state.nodes.end())
      self->send(it->second.handle, sg::end_load_atom_v);
  }
}

// -- routing of intents -----------------------------------------------------------------------

template <class Request>
void route_held(self_ptr self, const Request& req,
                caf::typed_response_promise<v1::SetParamReply> rp) {
  auto it = self->state.nodes.find(req.node());
  if (it == self->state.nodes.end()) {
    rp.deliver(status_reply<v1::SetParamReply>(code_not_found, "node",
                                               "node: no node '" + req.node() + "'"));
    return;
  }
  rp.delegate(it->second.handle, req);
}

/// An intent: straight to its node authority (which holds it while loading); for a node that
/// does not exist yet while a graph apply runs, held here until the apply ends.
template <class Request>
caf::typed_response_promise<v1::SetParamReply> route_intent(self_ptr self,
                                                            const Request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<v1::SetParamReply>();
  if (st.nodes.count(req.node()) || !st.busy) {
    route_held(self, req, rp);
  } else if (st.held.size() >= st.options.node.max_queued) {
    rp.deliver(status_reply<v1::SetParamReply>(
      code_unavailable, "node",
      "node: '" + req.node() + "' is not there yet (a graph apply is in progress) and " +
        std::to_string(st.options.node.max_queued) + " intents are already waiting"));
  } else {
    st.held.push_back({req, rp});
  }
  return rp;
}

/// A request a node answers at once (never held): NOT_FOUND for an unknown node, UNAVAILABLE
/// for one a running graph apply may still add.
template <class Reply, class Request>
caf::typed_response_promise<Reply> route_now(self_ptr self, const Request& req) {
  auto rp = self->make_response_promise<Reply>();
  auto it = self->state.nodes.find(req.node());
  if (it != self->state.nodes.end())
    rp.delegate(it->second.handle, req);
  else if (self->state.busy)
    rp.deliver(status_reply<Reply>(code_unavailable, "node",
                                   "node: '" + req.node() +
                                     "' is not there yet (a graph apply is in progress)"));
  else
    rp.deliver(status_reply<Reply>(code_not_found, "node", "node: no node '" + req.node() + "'"));
  return rp;
}

void release_held(self_ptr self) {
  auto held = std::move(self->state.held);
  self->state.held.clear();
  for (auto& h : held)
    std::visit([&](const auto& req) { route_held(self, req, h.rp); }, h.intent);
}

// -- persistence ------------------------------------------------------------------------------

/// Where the graph wants its state: the command line wins, then a store.sqlite node's `path`,
/// then a path derived from the graph name. Empty: persistence disabled.
std::string resolve_state_path(const host_options& opts, const v1::GraphSpec& spec) {
  if (opts.state_path == "none")
    return {};
  if (!opts.state_path.empty())
    return opts.state_path;
  for (const auto& n : spec.nodes())
    if (n.type() == store_type) {
      auto it = n.params().find("path");
      if (it != n.params().end() && it->second.string_value() == "none")
        return {};
      if (it != n.params().end() && !it->second.string_value().empty())
        return it->second.string_value();
    }
  return default_state_path(spec.name());
}

const v1::NodeSpec* store_node(const v1::GraphSpec& spec) {
  for (const auto& n : spec.nodes())
    if (n.type() == store_type)
      return &n;
  return nullptr;
}

/// Opens the database and spawns the writer (once per process). The graph gains an implicit
/// store.sqlite node when it declares none, so the writer shows up like every other node.
std::optional<v1::Status> start_store(self_ptr self, v1::GraphSpec& spec) {
  auto& st = self->state;
  const std::string path = resolve_state_path(st.options, spec);
  const v1::NodeSpec* declared = store_node(spec);
  double flush_ms = 5;
  bool full = true;
  if (declared) {
    auto values = to_param_values(info_of(store_type), *declared);
    flush_ms = values.numbers[info_of(store_type).param_index("flush_ms")];
    full = values.numbers[info_of(store_type).param_index("synchronous")] >= 1;
  }
  if (path.empty())
    return std::nullopt;
  if (!declared) {
    std::set<std::string> ids;
    for (const auto& n : spec.nodes())
      ids.insert(n.id());
    auto* n = spec.add_nodes();
    n->set_id(ids.count("store") ? "state_store" : "store");
    n->set_type(store_type);
  }
  for (auto& n : *spec.mutable_nodes())
    if (n.type() == store_type)
      (*n.mutable_params())["path"].set_string_value(path);
  if (st.store)
    return std::nullopt;
  if (st.options.boundary.store) {
    st.store = st.options.boundary.store(self->system(), path);
    st.store_path = path;
    return std::nullopt;
  }
  auto db = state_store::open(path, full);
  if (!db)
    return make_status(code_failed_precondition, "state: " + db.error(), "state");
  st.store = spawn_store_writer(self->system(), std::move(*db), st.hub,
                                std::chrono::milliseconds(static_cast<int64_t>(flush_ms)));
  st.store_path = path;
  return std::nullopt;
}

// -- graph apply ------------------------------------------------------------------------------

void stop_devices(self_ptr self) {
  for (auto& d : self->state.devices)
    self->send_exit(d, caf::exit_reason::user_shutdown);
  self->state.devices.clear();
  self->state.domains.clear();
  self->state.video_domains.clear();
}

/// The backend each device ran on, by device name.
using device_backends = std::map<std::string, std::string>;

/// Asks every device to close, one after the other, each waiting for its hardware to be let go
/// (a JACK client of this process cannot open while another one closes), then stops them; `done`
/// gets the backends they ran on. A device that does not answer in time is stopped anyway.
void close_devices(self_ptr self, size_t i, std::shared_ptr<device_backends> backends,
                   std::function<void(device_backends)> done) {
  auto& st = self->state;
  if (i == st.devices.size()) {
    stop_devices(self);
    done(std::move(*backends));
    return;
  }
  self->request(st.devices[i], open_timeout, caf::close_atom_v)
    .then(
      [self, i, backends, done](const v1::DeviceStatus& status) {
        if (!status.backend().empty())
          (*backends)[status.device()] = status.backend();
        close_devices(self, i + 1, backends, done);
      },
      [self, i, backends, done](const caf::error&) {
        close_devices(self, i + 1, backends, done);
      });
}

void close_devices(self_ptr self, std::function<void(device_backends)> done) {
  close_devices(self, 0, std::make_shared<device_backends>(), std::move(done));
}

/// A device changed live keeps the backend it ran on: `auto` is pinned to it, so a change never
/// lands on another backend (a fallback to `null`) without saying so; if that backend cannot
/// open, the apply fails.
void pin_backends(std::vector<audio_domain>& domains, const device_backends& running) {
  for (auto& d : domains) {
    auto it = running.find(d.device.name);
    if (it != running.end() && d.device.backend == "auto")
      d.device.backend = it->second;
  }
}

/// Spawns one device actor per domain and opens them in turn; `done` gets an error status or
/// nothing. On error every device of this batch is stopped again.
void open_domains(self_ptr self, std::shared_ptr<std::vector<audio_domain>> domains, size_t i,
                  std::function<void(std::optional<v1::Status>)> done) {
  auto& st = self->state;
  if (i == 0) {
    const auto& spawn_device = st.options.boundary.audio_device;
    for (const auto& d : *domains)
      st.devices.push_back(spawn_device ? spawn_device(self->system(), d, st.hub)
                                        : spawn_audio_device(self->system(), d, st.hub));
    st.domains = *domains;
    for (const auto& v : st.next_video)
      st.devices.push_back(
        caf::actor_cast<device_actor>(spawn_video_device(self->system(), v, st.hub)));
    st.video_domains = st.next_video;
  }
  if (i == st.devices.size()) {
    done(std::nullopt);
    return;
  }
  auto fail = [self, done](v1::Status status) {
    close_devices(self, [done, status](device_backends) { done(status); });
  };
  self->request(st.devices[i], open_timeout, caf::open_atom_v)
    .then(
      [self, domains, i, done, fail](v1::Status& status) {
        if (status.code() != code_ok)
          fail(std::move(status));
        else
          open_domains(self, domains, i + 1, done);
      },
      [fail](caf::error& err) {
        fail(make_status(code_unavailable, "device did not open: " + caf::to_string(err)));
      });
}

std::map<std::string, kernel_binding> bindings_of(const host_state& st) {
  std::map<std::string, kernel_binding> out;
  for (size_t d = 0; d < st.domains.size(); ++d)
    for (size_t i = 0; i < st.domains[d].nodes.size(); ++i)
      out[st.domains[d].nodes[i].id] = {st.devices[d], static_cast<uint32_t>(i)};
  for (size_t v = 0; v < st.video_domains.size(); ++v)
    for (size_t i = 0; i < st.video_domains[v].nodes.size(); ++i)
      out[st.video_domains[v].nodes[i].id] = {st.devices[st.domains.size() + v],
                                              static_cast<uint32_t>(i)};
  return out;
}

/// The devices run the new graph: swap the node side over. Nothing here can fail.
/// What restarts a controller: its type and structural (string) values.
std::string controller_key(const v1::NodeSpec& spec) {
  std::string key = spec.type();
  for (const auto& [name, value] : std::map(spec.params().begin(), spec.params().end()))
    if (value.has_string_value())
      key += "\n" + name + "=" + value.string_value();
  return key;
}

/// Starts, keeps, restarts or stops the controllers so there is one per control.* node of the
/// running graph. They follow their own live parameters through the hub.
void sync_controllers(self_ptr self) {
  auto& st = self->state;
  std::map<std::string, std::pair<std::string, caf::actor>> next;
  for (const auto& spec : st.graph.nodes()) {
    if (!is_controller_type(spec.type()))
      continue;
    const std::string key = controller_key(spec);
    auto it = st.controllers.find(spec.id());
    if (it != st.controllers.end() && it->second.first == key) {
      next[spec.id()] = std::move(it->second);
      st.controllers.erase(it);
      continue;
    }
    next[spec.id()] = {key, spawn_controller(self->system(), spec,
                                             controller_deps{caf::actor_cast<host_actor>(self),
                                                             st.hub})};
  }
  // MIDI devices live with the controllers: nothing in an audio domain depends on them.
  for (const auto& d : st.graph.devices()) {
    if (d.kind() != "midi")
      continue;
    const std::string id = "device:" + d.name(), key = d.SerializeAsString();
    auto it = st.controllers.find(id);
    if (it != st.controllers.end() && it->second.first == key) {
      next[id] = std::move(it->second);
      st.controllers.erase(it);
      continue;
    }
    next[id] = {key, spawn_midi_device(self->system(), d, st.hub)};
  }
  for (auto& [id, c] : st.controllers)
    self->send_exit(c.second, caf::exit_reason::user_shutdown);
  st.controllers = std::move(next);
}

void commit_plan(self_ptr self, apply_plan& plan) {
  auto& st = self->state;
  const auto bindings = bindings_of(st);
  for (const auto& id : plan.removed) {
    auto it = st.nodes.find(id);
    self->demonitor(it->second.handle.address());
    self->send_exit(it->second.handle, caf::exit_reason::user_shutdown);
    st.nodes.erase(it);
  }
  for (const auto& clear : plan.clears)
    if (st.store)
      self->send(st.store, clear);
  v1::Snapshot snap;
  snap.set_graph_name(plan.graph.name());
  snap.set_graph_rev(st.graph_rev + 1);
  for (const auto& spec : plan.graph.nodes()) {
    auto& state = plan.states.at(spec.id());
    auto b = bindings.count(spec.id()) ? bindings.at(spec.id()) : kernel_binding{};
    auto it = st.nodes.find(spec.id());
    if (it == st.nodes.end()) {
      node_entry e{spawn_node(self->system(), info_of(spec.type()), state, b, st.hub, st.store,
                              st.options.node),
                   b};
      self->monitor(e.handle);
      st.nodes[spec.id()] = std::move(e);
    } else {
      it->second.binding = b;
      self->send(it->second.handle, sg::rebind_atom_v, caf::actor_cast<caf::actor>(b.device),
                 b.slot, state);
    }
    *snap.add_nodes() = state;
  }
  // Devices by name; the hub keeps the statuses it already has for them.
  for (const auto& d : plan.graph.devices()) {
    auto* ds = snap.add_devices();
    ds->set_device(d.name());
    ds->set_state(v1::DeviceStatus::STATE_OPENING);
  }
  st.graph = std::move(plan.graph);
  ++st.graph_rev;
  // Subscribers reseed from the rebuilt state before any held intent is applied on top.
  self->send(st.hub, std::move(snap));
  sync_controllers(self);
}

v1::GraphApplied applied_summary(const host_state& st, const apply_plan& plan) {
  v1::GraphApplied ga;
  ga.set_name(st.graph.name());
  ga.set_nodes(st.graph.nodes_size());
  ga.set_edges(st.graph.edges_size());
  ga.set_devices(st.graph.devices_size());
  ga.set_graph_rev(st.graph_rev);
  for (const auto& x : plan.added)
    ga.add_added(x);
  for (const auto& x : plan.removed)
    ga.add_removed(x);
  for (const auto& x : plan.retyped)
    ga.add_retyped(x);
  for (const auto& x : plan.changed)
    ga.add_changed(x);
  ga.set_restored(plan.restored);
  return ga;
}

using apply_promise = caf::typed_response_promise<v1::ApplyGraphReply>;

/// The devices stay open: each gets its domain's new plan, compiled against the running one
/// (unchanged kernels keep their state) and swapped in at a block boundary. If one device
/// refuses, the ones that already swapped get their previous domain back, so the apply
/// changes nothing.
void swap_domains(self_ptr self, std::shared_ptr<std::vector<audio_domain>> domains,
                  std::function<void(std::optional<v1::Status>)> done) {
  struct pending {
    size_t left = 0;
    std::vector<std::optional<v1::Status>> results;
  };
  auto p = std::make_shared<pending>();
  auto& st = self->state;
  p->left = st.devices.size();
  p->results.resize(st.devices.size());
  auto previous = std::make_shared<std::vector<audio_domain>>(st.domains);
  for (size_t i = 0; i < st.devices.size(); ++i) {
    auto finish = [self, p, domains, previous, done] {
      if (--p->left != 0)
        return;
      std::optional<v1::Status> error;
      for (const auto& r : p->results)
        if (!r || r->code() != code_ok)
          error = r ? *r : make_status(code_unavailable, "a device did not answer the swap");
      if (!error) {
        self->state.domains = *domains;
        done(std::nullopt);
        return;
      }
      for (size_t j = 0; j < p->results.size(); ++j)
        if (p->results[j] && p->results[j]->code() == code_ok)
          self->request(self->state.devices[j], open_timeout, to_proto((*previous)[j]))
            .then([](v1::Status&) {}, [](caf::error&) {});
      done(error);
    };
    self->request(st.devices[i], open_timeout, to_proto((*domains)[i]))
      .then([p, i, finish](v1::Status& s) { p->results[i] = std::move(s), finish(); },
            [finish](caf::error&) { finish(); });
  }
}

/// The new devices did not open and the previous ones were reopened: every held node goes
/// back to its layers from before the apply, bound to the reopened devices (its kernel gets
/// the effective values pushed again).
void rebind_unchanged(self_ptr self, const apply_plan& plan) {
  const auto bindings = bindings_of(self->state);
  for (auto& [id, e] : self->state.nodes) {
    auto b = bindings.count(id) ? bindings.at(id) : kernel_binding{};
    e.binding = b;
    auto before = plan.before.find(id);
    if (before != plan.before.end())
      self->send(e.handle, sg::rebind_atom_v, caf::actor_cast<caf::actor>(b.device), b.slot,
                 before->second);
  }
}

void finish_apply(self_ptr self, const std::vector<std::string>& held_nodes, apply_promise rp,
                  v1::ApplyGraphReply reply) {
  end_load(self, held_nodes);
  self->state.busy = false;
  release_held(self);
  rp.deliver(std::move(reply));
}

/// Step 3: the audio side. Devices are kept when only values changed, else the old ones stop
/// and the new ones open; if they cannot, the previous devices are reopened and nothing of the
/// node side changes.
void switch_devices(self_ptr self, std::shared_ptr<apply_plan> plan,
                    std::vector<std::string> held_nodes, apply_promise rp) {
  auto& st = self->state;
  auto complete = [self, plan, held_nodes, rp]() {
    commit_plan(self, *plan);
    v1::ApplyGraphReply reply;
    reply.mutable_status()->set_code(code_ok);
    *reply.mutable_applied() = applied_summary(self->state, *plan);
    v1::Event ev;
    *ev.mutable_graph_applied() = reply.applied();
    publish(self, std::move(ev));
    announce_unplaced_video(self, self->state.graph);
    finish_apply(self, held_nodes, rp, std::move(reply));
  };
  if (!plan->rebuild_devices) {
    complete();
    return;
  }
  const graph_spec media = to_graph_spec(effective_graph(*plan));
  auto domains = std::make_shared<std::vector<audio_domain>>(split_domains(media));
  // Video pipelines are built (not played) first: a graph they cannot run fails the apply
  // before any running device is touched.
  auto video = split_video_domains(media);
  for (const auto& v : video)
    if (auto checked = check_video_domain(v); !checked) {
      finish_apply(
        self, held_nodes, rp,
        status_reply<v1::ApplyGraphReply>(code_invalid_argument, "graph", checked.error()));
      return;
    }
  const bool has_video = !video.empty() || !st.video_domains.empty();
  auto previous_video = st.video_domains;
  st.next_video = std::move(video);
  if (same_devices(st.graph, plan->graph) && domains->size() == st.devices.size() &&
      !st.devices.empty() && !has_video) {
    swap_domains(self, domains, [self, plan, held_nodes, rp, complete](std::optional<v1::Status> error) {
      if (!error) {
        complete();
        return;
      }
      v1::ApplyGraphReply reply;
      *reply.mutable_status() = *error;
      finish_apply(self, held_nodes, rp, std::move(reply));
    });
    return;
  }
  auto previous = std::make_shared<std::vector<audio_domain>>(st.domains);
  close_devices(self, [self, domains, previous, previous_video, plan, held_nodes, rp,
                       complete](device_backends running) {
    pin_backends(*domains, running);
    pin_backends(*previous, running);
    auto reopen_previous = [self, plan, previous, previous_video, held_nodes,
                            rp](v1::ApplyGraphReply reply) {
      if (previous->empty() && previous_video.empty()) {
        finish_apply(self, held_nodes, rp, std::move(reply));
        return;
      }
      self->state.next_video = previous_video;
      open_domains(self, previous, 0,
                   [self, plan, held_nodes, rp, reply](std::optional<v1::Status>) {
                     rebind_unchanged(self, *plan);
                     finish_apply(self, held_nodes, rp, reply);
                   });
    };
    open_domains(self, domains, 0,
                 [complete, reopen_previous](std::optional<v1::Status> error) {
                   if (!error) {
                     complete();
                     return;
                   }
                   v1::ApplyGraphReply reply;
                   *reply.mutable_status() = *error;
                   reopen_previous(std::move(reply));
                 });
  });
}

caf::typed_response_promise<v1::ApplyGraphReply> apply(self_ptr self,
                                                       const v1::ApplyGraphRequest& req) {
  auto rp = self->make_response_promise<v1::ApplyGraphReply>();
  auto& st = self->state;
  if (st.busy) {
    rp.deliver(status_reply<v1::ApplyGraphReply>(
      code_unavailable, "graph", "graph: another graph apply or preset load is in progress"));
    return rp;
  }
  v1::GraphSpec graph = req.graph();
  if (auto error = start_store(self, graph)) {
    auto reply = status_reply<v1::ApplyGraphReply>(code_ok, {}, "");
    *reply.mutable_status() = *error;
    rp.deliver(std::move(reply));
    return rp;
  }
  if (!st.panels)
    st.panels = spawn_panel_authority(self->system(), st.hub, self, st.store);
  st.busy = true;
  std::vector<std::string> held_nodes;
  for (const auto& [id, e] : st.nodes)
    held_nodes.push_back(id);
  // Step 1: hold every existing node; their replies are the layers to build on.
  auto with_before = [self, graph, held_nodes, rp](std::map<std::string, v1::NodeState> before) {
    // Step 2: the stored base values.
    auto with_stored = [self, graph, held_nodes, rp, before](v1::StoredState stored) {
      auto plan = std::make_shared<apply_plan>(
        make_plan(self->state.graph, !self->state.devices.empty(), graph, stored, before));
      switch_devices(self, plan, held_nodes, rp);
    };
    if (!self->state.store) {
      with_stored({});
      return;
    }
    self->request(self->state.store, store_timeout, caf::get_atom_v)
      .then([with_stored](v1::StoredState& s) { with_stored(std::move(s)); },
            [self, held_nodes, rp](caf::error& err) {
              finish_apply(
                self, held_nodes, rp,
                status_reply<v1::ApplyGraphReply>(code_unavailable, "state",
                                                  "state: the persistence writer did not answer: " +
                                                    caf::to_string(err)));
            });
  };
  ask_nodes<v1::NodeState>(self, held_nodes, with_before, sg::begin_load_atom_v);
  return rp;
}

/// Panels live in their authority, which starts with the first graph.
template <class Reply, class Request>
caf::typed_response_promise<Reply> forward_to_panels(self_ptr self, const Request& req) {
  auto rp = self->make_response_promise<Reply>();
  if (!self->state.panels)
    rp.deliver(status_reply<Reply>(code_unavailable, "panel", "panels: no graph is running yet"));
  else
    rp.delegate(self->state.panels, req);
  return rp;
}

template <class Reply, class Request>
caf::typed_response_promise<Reply> forward_to_store(self_ptr self, const Request& req) {
  auto rp = self->make_response_promise<Reply>();
  if (auto r = no_store<Reply>(self->state)) {
    rp.deliver(std::move(*r));
    return rp;
  }
  self->request(self->state.store, store_timeout, req)
    .then([rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [rp](caf::error& err) mutable {
            rp.deliver(status_reply<Reply>(code_unavailable, {}, "state: " + caf::to_string(err)));
          });
  return rp;
}

// -- supervision and status -------------------------------------------------------------------

// A node authority died: respawn it from the state the hub last published for it.
void restart_node(self_ptr self, const std::string& id) {
  self->request(self->state.hub, node_timeout, caf::get_atom_v)
    .then([self, id](v1::Snapshot& snap) {
      auto it = self->state.nodes.find(id);
      if (it == self->state.nodes.end())
        return;
      for (auto& n : *snap.mutable_nodes()) {
        if (n.id() != id)
          continue;
        auto& e = it->second;
        e.handle = spawn_node(self->system(), info_of(n.type()), n, e.binding, self->state.hub,
                              self->state.store, self->state.options.node);
        self->monitor(e.handle);
        v1::Event ev;
        ev.set_node_id(id);
        auto* ns = ev.mutable_node_status();
        ns->set_node(id);
        ns->set_state(v1::NodeStatus::STATE_RUNNING);
        ns->set_message("restarted from its last published state");
        publish(self, std::move(ev));
      }
    });
}

// Asks each device for its live status in turn (fresh counters, not the last event).
void collect_device_status(self_ptr self, size_t i, v1::StatusReply reply,
                           caf::typed_response_promise<v1::StatusReply> rp) {
  if (i >= self->state.devices.size()) {
    rp.deliver(std::move(reply));
    return;
  }
  self->request(self->state.devices[i], std::chrono::seconds(2), v1::StatusRequest{})
    .then(
      [self, i, reply, rp](v1::DeviceStatus& ds) mutable {
        *reply.add_devices() = std::move(ds);
        collect_device_status(self, i + 1, std::move(reply), rp);
      },
      [self, i, reply, rp](caf::error&) mutable {
        collect_device_status(self, i + 1, std::move(reply), rp);
      });
}

/// The nodes as the hub last announced them.
caf::typed_response_promise<v1::ListNodesReply> list_nodes(self_ptr self) {
  auto rp = self->make_response_promise<v1::ListNodesReply>();
  self->request(self->state.hub, node_timeout, caf::get_atom_v)
    .then([rp](v1::Snapshot& snap) mutable {
      v1::ListNodesReply reply;
      for (const auto& n : snap.nodes()) {
        auto* s = reply.add_nodes();
        s->set_id(n.id());
        s->set_type(n.type());
        s->set_device(n.device());
        s->set_node_rev(n.node_rev());
        s->set_state(n.state());
      }
      rp.deliver(std::move(reply));
    });
  return rp;
}

/// Hands `req` to the authority of `req.node()`, which answers; NOT_FOUND without one.
template <class Reply, class Request>
caf::typed_response_promise<Reply> delegate_to_node(self_ptr self, const Request& req) {
  auto rp = self->make_response_promise<Reply>();
  auto it = self->state.nodes.find(req.node());
  if (it == self->state.nodes.end())
    rp.deliver(status_reply<Reply>(code_not_found, "node", "node: no node '" + req.node() + "'"));
  else
    rp.delegate(it->second.handle, req);
  return rp;
}

/// The batch the writer last made durable (0 without a writer or when it does not answer).
caf::typed_response_promise<uint64_t> flush_store(self_ptr self) {
  auto rp = self->make_response_promise<uint64_t>();
  if (!self->state.store) {
    rp.deliver(uint64_t{0});
    return rp;
  }
  self->request(self->state.store, store_timeout, sg::flush_atom_v)
    .then([rp](uint64_t batch) mutable { rp.deliver(batch); },
          [rp](caf::error&) mutable { rp.deliver(uint64_t{0}); });
  return rp;
}

/// A node authority died: said to the hub as FAILED, then the node is restarted.
void on_node_down(self_ptr self, const caf::down_msg& dm) {
  for (auto& [id, e] : self->state.nodes)
    if (e.handle.address() == dm.source) {
      v1::Event ev;
      ev.set_node_id(id);
      ev.mutable_node_status()->set_node(id);
      ev.mutable_node_status()->set_state(v1::NodeStatus::STATE_FAILED);
      ev.mutable_node_status()->set_message(caf::to_string(dm.reason));
      publish(self, std::move(ev));
      restart_node(self, id);
      return;
    }
}

void stop_all(self_ptr self) {
  for (auto& [id, c] : self->state.controllers)
    self->send_exit(c.second, caf::exit_reason::user_shutdown);
  self->state.controllers.clear();
  for (auto& [id, e] : self->state.nodes) {
    self->demonitor(e.handle.address());
    self->send_exit(e.handle, caf::exit_reason::user_shutdown);
  }
  self->state.nodes.clear();
  if (self->state.panels)
    self->send_exit(self->state.panels, caf::exit_reason::user_shutdown);
  stop_devices(self);
  // Last: the writer flushes what the nodes sent it before they stopped.
  if (self->state.store)
    self->send_exit(self->state.store, caf::exit_reason::user_shutdown);
}

}  // namespace host_detail

using namespace host_detail;

namespace {

/// What the host answers: graph applies and presets itself, intents and triggers through
/// the node authorities, stored things through the writer, panels through their authority.
host_actor::behavior_type host_behavior(self_ptr self) {
  return {
    [self](const v1::ApplyGraphRequest& req) { return apply(self, req); },
    [self](const v1::ListNodesRequest&) { return list_nodes(self); },
    [self](const v1::GetNodeRequest& req) { return delegate_to_node<v1::GetNodeReply>(self, req); },
    [self](const v1::SetParamRequest& req) { return route_intent(self, req); },
    [self](const v1::SettleRequest& req) { return route_intent(self, req); },
    [self](const v1::SetParamsRequest& req) { return route_now<v1::SetParamsReply>(self, req); },
    [self](const v1::BypassRequest& req) { return route_now<v1::BypassReply>(self, req); },
    [self](const v1::TriggerRequest& req) { return delegate_to_node<v1::TriggerReply>(self, req); },
    [self](const v1::GetGraphRequest&) {
      v1::GetGraphReply reply;
      *reply.mutable_graph() = self->state.graph;
      reply.set_graph_rev(self->state.graph_rev);
      return reply;
    },
    [self](const v1::StatusRequest&) {
      auto rp = self->make_response_promise<v1::StatusReply>();
      v1::StatusReply reply;
      reply.set_graph_name(self->state.graph.name());
      collect_device_status(self, 0, std::move(reply), rp);
      return rp;
    },
    [self](const v1::SavePresetRequest& req) { return save_preset(self, req); },
    [self](const v1::LoadPresetRequest& req) { return load_preset(self, req); },
    [self](const v1::ListPresetsRequest& req) {
      return forward_to_store<v1::ListPresetsReply>(self, req);
    },
    [self](const v1::DeletePresetRequest& req) {
      return forward_to_store<v1::DeletePresetReply>(self, req);
    },
    [self](const v1::ListPanelsRequest& req) {
      return forward_to_panels<v1::ListPanelsReply>(self, req);
    },
    [self](const v1::GetPanelRequest& req) { return forward_to_panels<v1::PanelReply>(self, req); },
    [self](const v1::PutPanelRequest& req) { return forward_to_panels<v1::PanelReply>(self, req); },
    [self](const v1::ActivatePanelRequest& req) {
      return forward_to_panels<v1::PanelReply>(self, req);
    },
    [self](const v1::DeletePanelRequest& req) {
      return forward_to_panels<v1::PanelReply>(self, req);
    },
    [self](const v1::LearnRequest& req) { return forward_to_panels<v1::LearnReply>(self, req); },
    [self](sg::flush_atom) { return flush_store(self); },
  };
}

}  // namespace

host_actor spawn_host(caf::actor_system& sys, hub_actor hub, host_options options) {
  auto fn = [](self_ptr self, hub_actor hub, host_options options) -> host_actor::behavior_type {
    self->state.hub = std::move(hub);
    self->state.options = std::move(options);
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      stop_all(self);
      self->quit(msg.reason);
    });
    self->set_down_handler([self](const caf::down_msg& dm) { on_node_down(self, dm); });
    return host_behavior(self);
  };
  return sys.spawn(fn, std::move(hub), std::move(options));
}

} // namespace sg
