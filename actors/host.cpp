#include "actors/host.hpp"

#include <map>

#include "actors/node_actor.hpp"
#include "hardware/audio_device_actor.hpp"
#include "hardware/domain.hpp"

namespace sg {

namespace {

constexpr auto open_timeout = std::chrono::seconds(10);

struct node_entry {
  node_actor handle;
  const node_info* info = nullptr;
  kernel_binding binding;
};

struct host_state {
  host_state() = default;  // not an aggregate: CAF must not build it from the self pointer
  hub_actor hub;
  v1::GraphSpec graph;
  uint64_t graph_rev = 0;
  bool running = false;
  std::map<std::string, node_entry> nodes;
  std::vector<device_actor> devices;
  static inline const char* name = "host";
};

using self_ptr = host_actor::stateful_pointer<host_state>;

v1::Snapshot initial_snapshot(const v1::GraphSpec& spec) {
  v1::Snapshot snap;
  snap.set_graph_name(spec.name());
  for (const auto& n : spec.nodes())
    *snap.add_nodes() = initial_node_state(*node_registry::builtin().find(n.type()), n);
  return snap;
}

void stop_all(self_ptr self) {
  for (auto& [id, e] : self->state.nodes) {
    self->demonitor(e.handle.address());
    self->send_exit(e.handle, caf::exit_reason::user_shutdown);
  }
  for (auto& d : self->state.devices)
    self->send_exit(d, caf::exit_reason::user_shutdown);
  self->state.nodes.clear();
  self->state.devices.clear();
}

// Every device opened: spawn the node authorities, bound to their kernels' slots.
void start_nodes(self_ptr self, const std::vector<audio_domain>& domains) {
  auto& st = self->state;
  std::map<std::string, kernel_binding> bindings;
  for (size_t d = 0; d < domains.size(); ++d)
    for (size_t i = 0; i < domains[d].nodes.size(); ++i)
      bindings[domains[d].nodes[i].id()] = {st.devices[d], static_cast<uint32_t>(i)};
  for (const auto& n : st.graph.nodes()) {
    node_entry e;
    e.info = node_registry::builtin().find(n.type());
    e.binding = bindings[n.id()];
    e.handle = spawn_node(self->system(), *e.info, initial_node_state(*e.info, n), e.binding,
                          st.hub);
    self->monitor(e.handle);
    st.nodes[n.id()] = std::move(e);
  }
  st.running = true;
  ++st.graph_rev;
}

v1::GraphApplied applied_summary(const host_state& st) {
  v1::GraphApplied ga;
  ga.set_name(st.graph.name());
  ga.set_nodes(st.graph.nodes_size());
  ga.set_edges(st.graph.edges_size());
  ga.set_devices(st.graph.devices_size());
  ga.set_graph_rev(st.graph_rev);
  return ga;
}

// Opens devices one after the other, then starts the nodes and answers the promise.
void open_devices(self_ptr self, std::shared_ptr<std::vector<audio_domain>> domains, size_t i,
                  caf::typed_response_promise<v1::ApplyGraphReply> rp) {
  if (i == self->state.devices.size()) {
    start_nodes(self, *domains);
    v1::ApplyGraphReply reply;
    reply.mutable_status()->set_code(code_ok);
    *reply.mutable_applied() = applied_summary(self->state);
    v1::Event ev;
    *ev.mutable_graph_applied() = reply.applied();
    self->send(self->state.hub, std::move(ev));
    rp.deliver(std::move(reply));
    return;
  }
  auto fail = [self, rp](v1::Status status) mutable {
    stop_all(self);
    self->send(self->state.hub, v1::Snapshot{});
    v1::ApplyGraphReply reply;
    *reply.mutable_status() = std::move(status);
    rp.deliver(std::move(reply));
  };
  self->request(self->state.devices[i], open_timeout, caf::open_atom_v)
    .then(
      [self, domains, i, rp, fail](v1::Status& status) mutable {
        if (status.code() != code_ok)
          fail(std::move(status));
        else
          open_devices(self, domains, i + 1, rp);
      },
      [fail](caf::error& err) mutable {
        fail(make_status(code_unavailable, "device did not open: " + caf::to_string(err)));
      });
}

caf::typed_response_promise<v1::ApplyGraphReply> apply(self_ptr self,
                                                       const v1::ApplyGraphRequest& req) {
  auto rp = self->make_response_promise<v1::ApplyGraphReply>();
  auto& st = self->state;
  if (st.running) {
    v1::ApplyGraphReply reply;
    *reply.mutable_status() = make_status(
      code_failed_precondition, "graph: a graph is already running in this process", "graph");
    rp.deliver(std::move(reply));
    return rp;
  }
  st.graph = req.graph();
  self->send(st.hub, initial_snapshot(st.graph));
  auto domains = std::make_shared<std::vector<audio_domain>>(
    split_domains(st.graph, node_registry::builtin()));
  for (const auto& d : *domains)
    st.devices.push_back(spawn_audio_device(self->system(), d, st.hub));
  open_devices(self, domains, 0, rp);
  return rp;
}

// A node authority died: respawn it from the state the hub last published for it.
void restart_node(self_ptr self, const std::string& id) {
  self->request(self->state.hub, std::chrono::seconds(5), caf::get_atom_v)
    .then([self, id](v1::Snapshot& snap) {
      auto it = self->state.nodes.find(id);
      if (it == self->state.nodes.end())
        return;
      for (auto& n : *snap.mutable_nodes()) {
        if (n.id() != id)
          continue;
        auto& e = it->second;
        e.handle = spawn_node(self->system(), *e.info, n, e.binding, self->state.hub);
        self->monitor(e.handle);
        v1::Event ev;
        ev.set_node_id(id);
        auto* ns = ev.mutable_node_status();
        ns->set_node(id);
        ns->set_state(v1::NodeStatus::STATE_RUNNING);
        ns->set_message("restarted from its last published state");
        self->send(self->state.hub, std::move(ev));
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

template <class Reply>
Reply not_found(const std::string& id) {
  Reply reply;
  *reply.mutable_status() = make_status(code_not_found, "node: no node '" + id + "'", "node");
  return reply;
}

} // namespace

host_actor spawn_host(caf::actor_system& sys, hub_actor hub) {
  auto fn = [](self_ptr self, hub_actor hub) -> host_actor::behavior_type {
    self->state.hub = std::move(hub);
    self->set_exit_handler([self](const caf::exit_msg& msg) {
      stop_all(self);
      self->quit(msg.reason);
    });
    self->set_down_handler([self](const caf::down_msg& dm) {
      for (auto& [id, e] : self->state.nodes)
        if (e.handle.address() == dm.source) {
          v1::Event ev;
          ev.set_node_id(id);
          ev.mutable_node_status()->set_node(id);
          ev.mutable_node_status()->set_state(v1::NodeStatus::STATE_FAILED);
          ev.mutable_node_status()->set_message(caf::to_string(dm.reason));
          self->send(self->state.hub, std::move(ev));
          restart_node(self, id);
          return;
        }
    });
    return {
      [self](const v1::ApplyGraphRequest& req) { return apply(self, req); },
      [self](const v1::ListNodesRequest&) {
        auto rp = self->make_response_promise<v1::ListNodesReply>();
        self->request(self->state.hub, std::chrono::seconds(5), caf::get_atom_v)
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
      },
      [self](const v1::GetNodeRequest& req)
        -> caf::delegated<v1::GetNodeReply> {
        auto it = self->state.nodes.find(req.node());
        if (it == self->state.nodes.end()) {
          auto rp = self->make_response_promise<v1::GetNodeReply>();
          rp.deliver(not_found<v1::GetNodeReply>(req.node()));
          return {};
        }
        return self->delegate(it->second.handle, req);
      },
      [self](const v1::SetParamRequest& req)
        -> caf::delegated<v1::SetParamReply> {
        auto it = self->state.nodes.find(req.node());
        if (it == self->state.nodes.end()) {
          auto rp = self->make_response_promise<v1::SetParamReply>();
          rp.deliver(not_found<v1::SetParamReply>(req.node()));
          return {};
        }
        return self->delegate(it->second.handle, req);
      },
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
    };
  };
  return sys.spawn(fn, std::move(hub));
}

} // namespace sg
