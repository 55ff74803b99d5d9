#pragma once

/// sg::state_client — a gRPC client that keeps a state_mirror of a running studiograph:
/// intents go out with this client's origin, events come back on a background subscription
/// that reconnects with exponential backoff and reseeds from every new Snapshot
/// (docs/STATE_MODEL.md). Thread-safe: any thread may call any method, except that the
/// watch callbacks must not call stop() or watch() (request_stop() is fine).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "apps/client/state_mirror.hpp"
#include "nodes/core/expected.hpp"
#include "studiograph/v1/service.grpc.pb.h"

namespace sg {

/// How a client proves who it is and checks the server (docs/API.md, "Connecting and
/// security"). Empty: plaintext, no token (a loopback gateway without a token file).
struct client_security {
  std::string token;            ///< sent as `authorization: Bearer TOKEN` on every call
  bool tls = false;             ///< TLS; implied by any of the files below
  std::string tls_ca;           ///< PEM CA to verify the server (default: the system's roots)
  std::string tls_cert, tls_key;  ///< PEM client certificate and key (mutual TLS)
  std::string tls_server_name;  ///< the name the server certificate must carry, if not the host
};

/// The token of a token file: the first line that is not empty or a `#` comment, either
/// `TOKEN` or `ROLE TOKEN` (the server's file format). A failure's message never holds the token.
expected<std::string> read_token_file(const std::string& path);

/// Channel credentials for `sec`, or which file cannot be read (or which is missing).
expected<std::shared_ptr<grpc::ChannelCredentials>> channel_credentials(const client_security& sec);

/// Deadlines of the unary calls and the reconnection policy of `watch`.
struct client_options {
  std::chrono::milliseconds timeout{5000};  ///< per unary call
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{5000};
  double backoff_factor = 2;
  double jitter = 0.2;  ///< each delay is scaled by a random factor in [1 - jitter, 1 + jitter]
  client_security security;
};

/// Adds the bearer token of `opts` (if any) to a call.
void authorize(grpc::ClientContext& ctx, const client_options& opts);

/// A channel to `address` whose own reconnect backoff follows `opts`, with its own connection
/// (not shared with other channels to the same address), secured by `opts.security` (TLS
/// files that cannot be read give a channel whose calls fail with UNAVAILABLE naming the file;
/// check them first with `channel_credentials`).
std::shared_ptr<grpc::Channel> make_channel(const std::string& address,
                                            const client_options& opts = {});

/// The delay before reconnect attempt `failures` (0: the first after a loss):
/// initial * factor^failures, capped at max, then scaled by 1 + jitter * (2 * unit - 1) for a
/// `unit` in [0, 1).
std::chrono::milliseconds backoff_delay(const client_options& opts, unsigned failures,
                                        double unit);

class state_client {
public:
  /// Runs on the watch thread after the mirror applied `ev`; `applied` is
  /// state_mirror::apply's answer (false: a stale self-echo).
  using event_callback = std::function<void(const v1::Event& ev, bool applied)>;
  /// Runs on the watch thread when a subscription ends, before waiting `retry_in`. Returning
  /// false stops watching.
  using disconnect_callback =
    std::function<bool(const grpc::Status& status, std::chrono::milliseconds retry_in)>;

  /// Makes the channel for the first subscription and for every reconnect: a fresh channel
  /// reaches a restarted server at once, where a reused one may stay stuck in its own backoff.
  using channel_factory = std::function<std::shared_ptr<grpc::Channel>()>;

  /// `client_id` names this client in every origin; keep it unique per connection.
  /// Reconnects reuse `channel`.
  state_client(std::shared_ptr<grpc::Channel> channel, std::string client_id,
               client_options opts = {});
  /// Every subscription attempt gets a new channel from `make_channel`; intents go over the
  /// latest one.
  state_client(channel_factory make_channel, std::string client_id, client_options opts = {});
  /// Stops watching (cancels the stream, joins the thread).
  ~state_client();
  state_client(const state_client&) = delete;
  state_client& operator=(const state_client&) = delete;

  // --- intents (thread: any; block for one unary call) ---

  /// SetParam with this client's next origin; the mirror shows the value at once and falls
  /// back to the server state if the call fails.
  grpc::Status set(const std::string& node, const std::string& param, const v1::Value& value,
                   const set_options& opts = {}, v1::SetParamReply* reply = nullptr);
  /// Settle: `source`'s overlay becomes a session-only committed value. `param` empty: every
  /// parameter of `node` with an overlay from `source`.
  grpc::Status settle(const std::string& node, const std::string& param,
                      const std::string& source, v1::SetParamReply* reply = nullptr);
  /// LoadPreset with this client's next origin (the preset's values arrive as events).
  grpc::Status load_preset(const std::string& name, bool persist,
                           v1::LoadPresetReply* reply = nullptr);

  // --- the subscription ---

  /// Starts (or restarts) the background subscription with `filter`. Every event is applied
  /// to the mirror under the mutex, then passed to `on_event` outside it.
  void watch(event_callback on_event, v1::SubscribeRequest filter = {},
             disconnect_callback on_disconnect = {});
  /// Asks the watch thread to end without waiting for it (safe from the callbacks).
  void request_stop();
  /// Ends the subscription: cancels the call in flight and joins the thread.
  void stop();
  /// A subscription is open and its Snapshot has arrived.
  bool connected() const { return connected_; }
  /// Subscriptions opened after the first one.
  uint64_t reconnects() const { return reconnects_; }
  /// A copy of the mirror, taken under the mutex.
  state_mirror mirror() const;
  const std::string& client_id() const { return client_id_; }

private:
  void run(event_callback on_event, v1::SubscribeRequest filter,
           disconnect_callback on_disconnect);
  std::unique_ptr<grpc::ClientContext> unary_context() const;
  std::shared_ptr<grpc::Channel> channel() const;
  /// Reports a call's outcome to the mirror.
  void finish(uint64_t rev, const grpc::Status& status, const std::string& node,
              uint64_t node_rev);
  /// The current subscription delivers ParamChanged events of `node` (so an echo will come).
  bool echoes(const std::string& node) const;

  channel_factory make_channel_;
  std::string client_id_;
  client_options opts_;

  mutable std::mutex mtx_;
  std::shared_ptr<grpc::Channel> channel_;  // the latest one
  std::condition_variable wake_;
  state_mirror mirror_;
  v1::SubscribeRequest filter_;  // of the running watch
  bool watching_ = false;
  std::shared_ptr<grpc::ClientContext> stream_ctx_;  // the subscription in flight
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> reconnects_{0};
  std::thread thread_;
};

} // namespace sg
