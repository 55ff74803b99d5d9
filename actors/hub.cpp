#include "actors/hub.hpp"

#include <chrono>
#include <map>

#include "actors/state/layers.hpp"

namespace sg {

namespace {

struct subscriber {
  caf::actor sink;
  v1::SubscribeRequest filter;
  uint64_t next_seq = 1;
};

struct hub_state {
  v1::Snapshot mirror;
  std::map<std::string, int> node_index;  // node id -> index in mirror.nodes
  std::map<uint64_t, subscriber> subscribers;
  uint64_t next_id = 1;
  static inline const char* name = "event-hub";
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool wants(const subscriber& s, const v1::Event& ev) {
  const auto& f = s.filter;
  if (!f.kinds().empty()) {
    bool any = false;
    for (auto k : f.kinds())
      any |= k == kind_of(ev);
    if (!any)
      return false;
  }
  if (!f.nodes().empty() && !ev.node_id().empty()) {
    bool any = false;
    for (const auto& n : f.nodes())
      any |= n == ev.node_id();
    if (!any)
      return false;
  }
  return true;
}

// Keeps the mirror equal to "everything published so far", so a snapshot plus the deltas that
// follow it always reproduce the live state.
void update_mirror(hub_state& st, const v1::Event& ev) {
  switch (ev.body_case()) {
    case v1::Event::kParamChanged: {
      const auto& pc = ev.param_changed();
      auto it = st.node_index.find(pc.node());
      if (it != st.node_index.end())
        apply_change(*st.mirror.mutable_nodes(it->second), pc);
      return;
    }
    case v1::Event::kNodeStatus: {
      auto it = st.node_index.find(ev.node_status().node());
      if (it != st.node_index.end())
        st.mirror.mutable_nodes(it->second)->set_state(ev.node_status().state());
      return;
    }
    case v1::Event::kDeviceStatus: {
      for (auto& d : *st.mirror.mutable_devices())
        if (d.device() == ev.device_status().device()) {
          d = ev.device_status();
          return;
        }
      *st.mirror.add_devices() = ev.device_status();
      return;
    }
    case v1::Event::kBypassed: {
      auto it = st.node_index.find(ev.bypassed().node());
      if (it != st.node_index.end()) {
        auto& node = *st.mirror.mutable_nodes(it->second);
        node.set_bypassed(ev.bypassed().bypassed());
        node.set_node_rev(ev.bypassed().node_rev());
      }
      return;
    }
    case v1::Event::kPanel: {
      const auto& pc = ev.panel();
      auto* panels = st.mirror.mutable_panels();
      for (int i = 0; i < panels->size(); ++i)
        if (panels->Get(i).id() == pc.panel().id()) {
          if (pc.deleted())
            panels->DeleteSubrange(i, 1);
          else
            *panels->Mutable(i) = pc.panel();
          return;
        }
      if (!pc.deleted())
        *panels->Add() = pc.panel();
      return;
    }
    case v1::Event::kGraphApplied:
      st.mirror.set_graph_name(ev.graph_applied().name());
      st.mirror.set_graph_rev(ev.graph_applied().graph_rev());
      return;
    default: return;
  }
}

template <class Self>
void deliver(Self* self, subscriber& s, v1::Event ev) {
  ev.set_seq(s.next_seq++);
  caf::anon_send(s.sink, std::move(ev));
}

template <class Self>
void send_snapshot(Self* self, subscriber& s) {
  v1::Event ev;
  ev.set_time_unix_ns(now_ns());
  *ev.mutable_snapshot() = self->state.mirror;
  deliver(self, s, std::move(ev));
}

} // namespace

v1::EventKind kind_of(const v1::Event& ev) {
  switch (ev.body_case()) {
    case v1::Event::kParamChanged: return v1::EVENT_KIND_PARAM_CHANGED;
    case v1::Event::kNodeStatus: return v1::EVENT_KIND_NODE_STATUS;
    case v1::Event::kDeviceStatus: return v1::EVENT_KIND_DEVICE_STATUS;
    case v1::Event::kGraphApplied: return v1::EVENT_KIND_GRAPH_APPLIED;
    case v1::Event::kMeter: return v1::EVENT_KIND_METER;
    case v1::Event::kSnapshot: return v1::EVENT_KIND_SNAPSHOT;
    case v1::Event::kPresetLoaded: return v1::EVENT_KIND_PRESET_LOADED;
    case v1::Event::kDurable: return v1::EVENT_KIND_DURABLE;
    case v1::Event::kBypassed: return v1::EVENT_KIND_BYPASS;
    case v1::Event::kMidi: return v1::EVENT_KIND_MIDI;
    case v1::Event::kPanel: return v1::EVENT_KIND_PANEL;
    case v1::Event::kVideoLayout: return v1::EVENT_KIND_VIDEO_LAYOUT;
    case v1::Event::kVideoBus: return v1::EVENT_KIND_VIDEO_BUS;
    case v1::Event::kVideoFrame: return v1::EVENT_KIND_VIDEO_FRAME;
    default: return v1::EVENT_KIND_UNSPECIFIED;
  }
}

hub_actor spawn_hub(caf::actor_system& sys) {
  using self_ptr = hub_actor::stateful_pointer<hub_state>;
  return sys.spawn([](self_ptr self) -> hub_actor::behavior_type {
    self->set_down_handler([self](const caf::down_msg& dm) {
      auto& subs = self->state.subscribers;
      for (auto it = subs.begin(); it != subs.end();)
        it = it->second.sink.address() == dm.source ? subs.erase(it) : std::next(it);
    });
    return {
      [self](v1::Event& ev) {
        if (ev.time_unix_ns() == 0)
          ev.set_time_unix_ns(now_ns());
        update_mirror(self->state, ev);
        for (auto& [id, s] : self->state.subscribers)
          if (wants(s, ev))
            deliver(self, s, ev);
      },
      [self](v1::Snapshot& snap) {
        for (auto& d : *snap.mutable_devices())
          for (const auto& known : self->state.mirror.devices())
            if (known.device() == d.device())
              d = known;
        // Node actors keep their bypass across an apply; the host's rebuilt state has none.
        for (auto& n : *snap.mutable_nodes()) {
          auto known = self->state.node_index.find(n.id());
          if (known != self->state.node_index.end() &&
              self->state.mirror.nodes(known->second).bypassed())
            n.set_bypassed(true);
        }
        // Panels are not part of the graph: they outlive every apply.
        *snap.mutable_panels() = self->state.mirror.panels();
        self->state.node_index.clear();
        for (int i = 0; i < snap.nodes_size(); ++i)
          self->state.node_index[snap.nodes(i).id()] = i;
        self->state.mirror = std::move(snap);
        // The state was rebuilt (a graph apply): every subscriber reseeds from it.
        for (auto& [id, s] : self->state.subscribers)
          send_snapshot(self, s);
      },
      [self](caf::subscribe_atom, caf::actor sink, v1::SubscribeRequest& filter) -> uint64_t {
        auto id = self->state.next_id++;
        self->monitor(sink);
        auto& s = self->state.subscribers[id];
        s.sink = std::move(sink);
        s.filter = std::move(filter);
        send_snapshot(self, s);
        return id;
      },
      [self](caf::unsubscribe_atom, uint64_t id) { self->state.subscribers.erase(id); },
      [self](sg::resync_atom) {
        auto sender = self->current_sender();
        for (auto& [id, s] : self->state.subscribers)
          if (sender && s.sink.address() == sender->address())
            send_snapshot(self, s);
      },
      [self](caf::get_atom) { return self->state.mirror; },
    };
  });
}

} // namespace sg
