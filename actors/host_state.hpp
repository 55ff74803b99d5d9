#pragma once

/// The host actor's state and the helpers its parts share (host.cpp: graph applies, routing,
/// supervision; host_presets.cpp: presets). Internal to the host: nothing else includes it
/// but its deterministic tests (tests/actors/host_test.cpp), which look up node actors here.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "actors/host.hpp"
#include "actors/node_actor.hpp"
#include "hardware/audio_domain.hpp"
#include "hardware/video_domain.hpp"

namespace sg::host_detail {

constexpr auto open_timeout = std::chrono::seconds(10);
constexpr auto node_timeout = std::chrono::seconds(5);
constexpr auto store_timeout = std::chrono::seconds(10);
constexpr const char* store_type = "store.sqlite";

struct node_entry {
  node_actor handle;
  kernel_binding binding;
};

/// An intent for a node that does not exist yet, held while a graph apply is in progress.
struct held_intent {
  std::variant<v1::SetParamRequest, v1::SettleRequest> intent;
  caf::typed_response_promise<v1::SetParamReply> rp;
};

struct host_state {
  host_state() = default;  // not an aggregate: CAF must not build it from the self pointer
  hub_actor hub;
  host_options options;
  store_actor store;
  std::string store_path;
  /// The panel authority, spawned with the first graph (once its store is known).
  panel_actor panels;
  v1::GraphSpec graph;
  uint64_t graph_rev = 0;
  std::map<std::string, node_entry> nodes;
  std::vector<device_actor> devices;
  std::vector<audio_domain> domains;
  /// Video domains of the devices after the audio ones in `devices`; `next_video` is what the
  /// next open_domains spawns.
  std::vector<video_domain> video_domains, next_video;
  /// A graph apply or preset load is in progress (the loading guard is up).
  bool busy = false;
  std::deque<held_intent> held;
  /// Controller actors of control.* nodes by node id, with the spec they started from
  /// (type and structural values: a change there restarts them).
  std::map<std::string, std::pair<std::string, caf::actor>> controllers;
  static inline const char* name = "host";
};

using self_ptr = host_actor::stateful_pointer<host_state>;

void publish(self_ptr self, v1::Event ev);

/// The descriptor of a node type the graph already validated.
const node_info& info_of(const std::string& type);

/// Sends `msg` to every node in `ids` and calls `done` with the replies by id once all answered
/// (a node that failed to answer is left out).
template <class Reply, class... Ts>
void ask_nodes(self_ptr self, const std::vector<std::string>& ids,
               std::function<void(std::map<std::string, Reply>)> done, Ts... msg) {
  struct pending {
    size_t left = 0;
    std::map<std::string, Reply> replies;
    std::function<void(std::map<std::string, Reply>)> done;
  };
  auto p = std::make_shared<pending>();
  p->done = std::move(done);
  for (const auto& id : ids)
    if (self->state.nodes.count(id))
      ++p->left;
  if (p->left == 0) {
    p->done({});
    return;
  }
  for (const auto& id : ids) {
    auto it = self->state.nodes.find(id);
    if (it == self->state.nodes.end())
      continue;
    auto finish = [p] {
      if (--p->left == 0)
        p->done(std::move(p->replies));
    };
    self->request(it->second.handle, node_timeout, msg...)
      .then([p, id, finish](Reply& r) { p->replies[id] = std::move(r), finish(); },
            [finish](caf::error&) { finish(); });
  }
}

/// Lets the nodes in `ids` apply the intents they held while loading.
void end_load(self_ptr self, const std::vector<std::string>& ids);

/// Routes the intents held for nodes a graph apply was adding.
void release_held(self_ptr self);

template <class Reply>
std::optional<Reply> no_store(const host_state& st) {
  if (st.store)
    return std::nullopt;
  return status_reply<Reply>(code_failed_precondition, "name",
                             "presets: persistence is disabled for this graph (--state none)");
}


// -- presets (host_presets.cpp) ---------------------------------------------------------------

caf::typed_response_promise<v1::SavePresetReply> save_preset(self_ptr self,
                                                             const v1::SavePresetRequest& req);
caf::typed_response_promise<v1::LoadPresetReply> load_preset(self_ptr self,
                                                             const v1::LoadPresetRequest& req);

} // namespace sg::host_detail
