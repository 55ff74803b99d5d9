#pragma once

/// The actor system of one studiograph process, behind a plain C++ façade.
///
/// `runtime` owns the CAF actor system, the event hub and the host actor. Its methods are
/// thread-safe and blocking (each call is one request to an actor, bounded by a timeout), so
/// gRPC server threads, command-line programs and tests can use it without touching CAF.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/events.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

struct runtime_options {
  /// Upper bound for one request to an actor.
  std::chrono::milliseconds request_timeout{3000};
  /// Worker threads of the actor scheduler (0: one per core, at least two).
  size_t scheduler_threads = 0;
  /// Persistence database: "" lets the graph decide (its store.sqlite node, else
  /// $XDG_STATE_HOME/studiograph/<graph name>.sqlite), "none" disables persistence.
  std::string state_path;
  /// Settle time of overlay sources that do not give one.
  std::chrono::milliseconds overlay_settle{500};
  /// Intents held per node while a graph apply or preset load runs; more get UNAVAILABLE.
  size_t max_held_intents = 256;
};

/// The receiving end of one subscription: a bounded queue filled by the event hub. The first
/// event is always a Snapshot. When the consumer falls `capacity` events behind, queued deltas
/// are dropped and the hub sends a fresh Snapshot (a resync), so memory stays bounded.
class event_stream {
public:
  explicit event_stream(size_t capacity) : capacity_(capacity) {}

  /// thread: consumer. Waits up to `timeout`; false on timeout or once closed and drained.
  bool next(v1::Event& out, std::chrono::milliseconds timeout);
  /// thread: any. Stops the subscription; `next` returns false once the queue is drained.
  void close();
  bool closed() const;
  /// Number of resyncs so far.
  uint64_t resyncs() const;

  /// thread: hub side. Queues an event; false when the queue was full and got cleared (the
  /// caller then asks the hub for a resync; deltas are dropped until its Snapshot arrives).
  bool push(v1::Event ev);
  /// Called when the stream is closed (unsubscribes from the hub).
  void on_close(std::function<void()> f);

private:
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<v1::Event> queue_;
  size_t capacity_;
  bool closed_ = false;
  bool resync_pending_ = false;
  uint64_t resyncs_ = 0;
  std::function<void()> on_close_;
};

/// Thrown by runtime calls whose reply has no Status field when the actor system did not
/// answer in time (the gateway maps it to UNAVAILABLE).
class runtime_unavailable : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class runtime {
public:
  explicit runtime(runtime_options opts = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  /// Starts (or, later, diffs in) a validated graph: spawns devices and node actors.
  v1::ApplyGraphReply apply_graph(const v1::GraphSpec& spec);
  v1::ListNodeTypesReply list_node_types();
  v1::ListNodesReply list_nodes();
  v1::GetNodeReply get_node(const v1::GetNodeRequest& req);
  /// An intent for a node authority; the reply carries the applied ParamChanged or a Status
  /// (code 3 INVALID_ARGUMENT / 5 NOT_FOUND with `field` set) and then nothing changed.
  v1::SetParamReply set_param(const v1::SetParamRequest& req);
  /// The same intent without waiting for its outcome (controllers, automation, benchmarks):
  /// it is applied in order with the caller's other posts and echoed like any other; a
  /// refused intent is only visible as the absence of its echo. There is no backpressure:
  /// posts queue ahead of every later request to the host, so callers bound their rate or the
  /// number in flight (their echoes tell them what was applied).
  void post(const v1::SetParamRequest& req);
  /// A note or trigger for a node that accepts them.
  v1::TriggerReply trigger(const v1::TriggerRequest& req);
  /// Several parameters of one node, all or none (UNAVAILABLE while the node loads).
  v1::SetParamsReply set_params(const v1::SetParamsRequest& req);
  /// Switches a node's bypass (its kernel stops; outputs carry the inputs).
  v1::BypassReply bypass(const v1::BypassRequest& req);
  /// The hub's mirror: what a new subscriber's Snapshot would hold now.
  v1::Snapshot snapshot();
  /// An overlay source settles into a session-only committed value.
  v1::SetParamReply settle(const v1::SettleRequest& req);
  v1::SavePresetReply save_preset(const v1::SavePresetRequest& req);
  v1::LoadPresetReply load_preset(const v1::LoadPresetRequest& req);
  v1::ListPresetsReply list_presets();
  v1::DeletePresetReply delete_preset(const v1::DeletePresetRequest& req);
  /// Pad and knob panels (actors/controllers/panels.hpp): UNAVAILABLE before the first graph.
  v1::ListPanelsReply list_panels();
  v1::PanelReply get_panel(const v1::GetPanelRequest& req);
  v1::PanelReply put_panel(const v1::PutPanelRequest& req);
  v1::PanelReply activate_panel(const v1::ActivatePanelRequest& req);
  v1::PanelReply delete_panel(const v1::DeletePanelRequest& req);
  /// Blocks until a MIDI control moves and is bound, or `timeout_ms` (default 30 s) passes.
  v1::LearnReply learn(const v1::LearnRequest& req);
  /// Writes what the persistence writer holds now; returns its last durable batch (0: none).
  uint64_t flush_state();
  v1::GetGraphReply get_graph();
  v1::StatusReply status();
  /// Subscribes to ordered events (Snapshot first). Close the stream to unsubscribe.
  std::shared_ptr<event_stream> subscribe(const v1::SubscribeRequest& req,
                                          size_t capacity = 4096);
  /// Shown in status replies.
  void set_gateway_address(const std::string& address);
  /// Stops devices and actors; called by the destructor.
  void shutdown();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace sg
