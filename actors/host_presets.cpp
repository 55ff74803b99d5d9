// Presets: a named snapshot of some nodes' committed values, saved through the store and
// loaded back as one step (the nodes hold intents meanwhile; one PresetLoaded event says what
// changed and what was skipped).

#include <chrono>

#include "actors/host_state.hpp"
#include "graph/params.hpp"

namespace sg::host_detail {

caf::typed_response_promise<v1::SavePresetReply> save_preset(self_ptr self,
                                                             const v1::SavePresetRequest& req) {
  auto rp = self->make_response_promise<v1::SavePresetReply>();
  if (auto r = no_store<v1::SavePresetReply>(self->state)) {
    rp.deliver(std::move(*r));
    return rp;
  }
  for (int i = 0; i < req.nodes_size(); ++i)
    if (!self->state.nodes.count(req.nodes(i))) {
      rp.deliver(status_reply<v1::SavePresetReply>(code_not_found, "nodes",
                                                   "nodes[" + std::to_string(i) + "]: no node '" +
                                                     req.nodes(i) + "'"));
      return rp;
    }
  // The hub's mirror is the published state: committed ?? base of every live parameter
  // (overlays are transient and never saved).
  self->request(self->state.hub, node_timeout, caf::get_atom_v)
    .then(
      [self, req, rp](v1::Snapshot& snap) mutable {
        std::set<std::string> wanted(req.nodes().begin(), req.nodes().end());
        v1::Preset preset;
        preset.set_name(req.name());
        preset.set_saved_unix_ns(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
        v1::PresetInfo info;
        info.set_name(req.name());
        info.set_saved_unix_ns(preset.saved_unix_ns());
        for (const auto& n : snap.nodes()) {
          if (!wanted.empty() && !wanted.count(n.id()))
            continue;
          const auto& ninfo = info_of(n.type());
          v1::PresetNode pn;
          pn.set_id(n.id());
          pn.set_type(n.type());
          for (const auto& ps : n.params()) {
            const int index = ninfo.param_index(ps.name());
            if (index < 0 || !ninfo.params[index].live)
              continue;
            auto* pp = pn.add_params();
            pp->set_name(ps.name());
            *pp->mutable_value() = ps.has_committed() ? ps.committed() : ps.base();
          }
          if (pn.params_size() == 0)
            continue;
          info.add_nodes(n.id());
          info.set_params(info.params() + pn.params_size());
          *preset.add_nodes() = std::move(pn);
        }
        self->request(self->state.store, store_timeout, preset)
          .then(
            [rp, info](v1::Status& status) mutable {
              v1::SavePresetReply reply;
              *reply.mutable_status() = status;
              if (status.code() == code_ok)
                *reply.mutable_preset() = info;
              rp.deliver(std::move(reply));
            },
            [rp](caf::error& err) mutable {
              rp.deliver(status_reply<v1::SavePresetReply>(code_unavailable, {},
                                                           "state: " + caf::to_string(err)));
            });
      },
      [rp](caf::error& err) mutable {
        rp.deliver(
          status_reply<v1::SavePresetReply>(code_unavailable, {}, "hub: " + caf::to_string(err)));
      });
  return rp;
}

using load_promise = caf::typed_response_promise<v1::LoadPresetReply>;

/// With the preset read: hold its nodes, apply it to each, announce it, release.
void run_preset(self_ptr self, const v1::LoadPresetRequest& req, v1::Preset preset,
                load_promise rp) {
  auto& st = self->state;
  auto loaded = std::make_shared<v1::PresetLoaded>();
  loaded->set_name(preset.name());
  *loaded->mutable_origin() = req.origin();
  std::vector<std::string> affected;
  std::map<std::string, v1::PresetNode> by_node;
  for (auto& pn : *preset.mutable_nodes()) {
    auto it = st.nodes.find(pn.id());
    if (it == st.nodes.end()) {
      for (const auto& pp : pn.params())
        loaded->add_skipped(pn.id() + "." + pp.name());
      continue;
    }
    std::string type = pn.type();
    for (const auto& n : st.graph.nodes())
      if (n.id() == pn.id())
        type = n.type();
    const auto& info = info_of(type);
    for (const auto& pp : pn.params()) {
      const int index = info.param_index(pp.name());
      if (index < 0 || !info.params[index].live || !check_value(info.params[index], pp.value()))
        loaded->add_skipped(pn.id() + "." + pp.name());
    }
    affected.push_back(pn.id());
    loaded->add_nodes(pn.id());
    by_node[pn.id()] = std::move(pn);
  }
  auto after_hold = [self, req, affected, by_node, loaded,
                     rp](std::map<std::string, v1::NodeState>) mutable {
    auto after_apply = [self, affected, loaded, rp](std::map<std::string, uint32_t> counts) mutable {
      for (const auto& [id, n] : counts)
        loaded->set_params(loaded->params() + n);
      v1::Event ev;
      *ev.mutable_preset_loaded() = *loaded;
      publish(self, std::move(ev));
      end_load(self, affected);
      self->state.busy = false;
      release_held(self);
      v1::LoadPresetReply reply;
      reply.mutable_status()->set_code(code_ok);
      *reply.mutable_loaded() = *loaded;
      rp.deliver(std::move(reply));
    };
    // One message per node, each with its own part of the preset.
    struct pending {
      size_t left = 0;
      std::map<std::string, uint32_t> counts;
      std::function<void(std::map<std::string, uint32_t>)> done;
    };
    auto p = std::make_shared<pending>();
    p->done = after_apply;
    p->left = affected.size();
    if (p->left == 0) {
      p->done({});
      return;
    }
    for (const auto& id : affected) {
      auto finish = [p] {
        if (--p->left == 0)
          p->done(std::move(p->counts));
      };
      self->request(self->state.nodes.at(id).handle, node_timeout, by_node.at(id), req)
        .then([p, id, finish](uint32_t n) { p->counts[id] = n, finish(); },
              [finish](caf::error&) { finish(); });
    }
  };
  ask_nodes<v1::NodeState>(self, affected, after_hold, sg::begin_load_atom_v);
}

load_promise load_preset(self_ptr self, const v1::LoadPresetRequest& req) {
  auto rp = self->make_response_promise<v1::LoadPresetReply>();
  auto& st = self->state;
  if (auto r = no_store<v1::LoadPresetReply>(st)) {
    rp.deliver(std::move(*r));
    return rp;
  }
  if (st.busy) {
    rp.deliver(status_reply<v1::LoadPresetReply>(
      code_unavailable, "name", "preset: another graph apply or preset load is in progress"));
    return rp;
  }
  st.busy = true;
  self->request(st.store, store_timeout, caf::get_atom_v, req.name())
    .then(
      [self, req, rp](v1::PresetReply& r) mutable {
        if (r.status().code() != code_ok) {
          self->state.busy = false;
          release_held(self);
          v1::LoadPresetReply reply;
          *reply.mutable_status() = r.status();
          rp.deliver(std::move(reply));
          return;
        }
        run_preset(self, req, std::move(*r.mutable_preset()), rp);
      },
      [self, rp](caf::error& err) mutable {
        self->state.busy = false;
        release_held(self);
        rp.deliver(
          status_reply<v1::LoadPresetReply>(code_unavailable, {}, "state: " + caf::to_string(err)));
      });
  return rp;
}

} // namespace sg::host_detail
