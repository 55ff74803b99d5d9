#pragma once

/// sg::state_mirror — a client's copy of the live state, kept consistent by the rules of
/// docs/STATE_MODEL.md. Pure logic: no gRPC, no threads, not thread-safe by itself
/// (sg::state_client guards one with a mutex).
///
/// It keeps two copies of every node:
/// - the *authority*: the last Snapshot plus every event after it, in order, exactly as the
///   server applied them (own echoes included);
/// - the *view*: the authority with this client's unanswered intents re-applied on top, in
///   client_rev order. This is what a user interface shows.
/// An own echo whose client_rev is older than an intent still pending for the same parameter
/// is stale: it updates the authority but cannot override the newer intent in the view
/// (`apply` returns false). Once nothing is pending the view equals the server state.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "studiograph/v1/events.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// How a write is layered (SetParamRequest's persist / overlay_source / settle_ms).
struct set_options {
  /// Committed writes: also store the value (a StateDurable event acknowledges it).
  bool persist = false;
  /// Non-empty: write this source's overlay (automation) instead of the committed layer.
  std::string overlay_source;
  /// Overlay writes: settle into a session-only committed value after this long without
  /// updates from the source; 0 means the server's default (500 ms).
  uint32_t settle_ms = 0;
};

class state_mirror {
public:
  /// `client_id` is the origin id this client puts on its intents (one per connection).
  explicit state_mirror(std::string client_id);

  /// Folds one event of the subscription into the mirror, in `seq` order. Returns false when
  /// the event is a stale self-echo (an own ParamChanged older than an intent still pending for
  /// that parameter) or names a node the mirror does not have; true otherwise.
  bool apply(const v1::Event& ev);

  /// Records an intent about to be sent and shows it in the view at once. Returns its
  /// client_rev: monotonic for this client, from 1.
  uint64_t note_intent(const std::string& node, const std::string& param, const v1::Value& value,
                       const set_options& opts = {});

  /// Records a Settle about to be sent: the view moves the source's overlay value into a
  /// session-only committed value. `param` empty: every parameter of `node` with an overlay
  /// from `source`. Returns its client_rev.
  uint64_t note_settle(const std::string& node, const std::string& param,
                       const std::string& source);

  /// A client_rev for a request that the view cannot predict (a preset load).
  uint64_t next_rev();

  /// The server accepted intent `rev` and reported `node_rev` for it. The view keeps showing
  /// the intent until the authority reaches that node_rev (its echo, or a Snapshot that holds
  /// it). `node_rev` 0: nothing will be echoed, forget the intent now.
  void acknowledge(uint64_t rev, uint64_t node_rev);

  /// The server refused intent `rev`: the view falls back to the authority.
  void reject(uint64_t rev);

  // --- accessors (pointers are valid until the next non-const call) ---

  const std::string& client_id() const { return client_id_; }
  /// A Snapshot has been applied.
  bool seeded() const { return seeded_; }
  /// The view: every node as this client should show it.
  const v1::Snapshot& snapshot() const { return view_; }
  /// The server state as of the last applied event.
  const v1::Snapshot& authority() const { return authority_; }
  const v1::NodeState* node(const std::string& node) const;
  const v1::ParamState* param(const std::string& node, const std::string& param) const;
  /// overlay ?? committed ?? base, as the view shows it.
  std::optional<v1::Value> effective(const std::string& node, const std::string& param) const;
  std::optional<uint64_t> node_rev(const std::string& node) const;
  /// The latest client_rev this client sent for a parameter (0: none).
  uint64_t latest_own_rev(const std::string& node, const std::string& param) const;
  /// The last client_rev handed out (0: none).
  uint64_t last_rev() const { return last_rev_; }
  /// Intents sent and not yet answered or echoed.
  size_t pending() const;

private:
  using param_key = std::pair<std::string, std::string>;

  /// An intent shown in the view before the authority confirms it, as the changes the
  /// authority is expected to broadcast for it (a settle: overlay cleared, then committed).
  struct pending_op {
    std::vector<v1::ParamChanged> changes;
    uint64_t acked_node_rev = 0;  // 0: no reply yet
  };

  void apply_snapshot(const v1::Snapshot& snap);
  bool apply_param_changed(const v1::ParamChanged& pc);
  void remove_node(const std::string& node);
  /// Drops acknowledged intents of `node` that the authority has caught up with.
  void prune(const std::string& node);
  /// Recomputes one parameter of the view: authority + pending intents.
  void rebuild(const param_key& key);
  void add_pending(const param_key& key, uint64_t rev, pending_op op);
  /// Where `node` is in both copies, or -1.
  int node_index(const std::string& node) const;

  std::string client_id_;
  uint64_t last_rev_ = 0;
  bool seeded_ = false;
  v1::Snapshot authority_;
  v1::Snapshot view_;  // same nodes in the same order as authority_
  std::map<std::string, int> index_;
  std::map<param_key, uint64_t> latest_rev_;
  std::map<param_key, std::map<uint64_t, pending_op>> pending_;
};

} // namespace sg
