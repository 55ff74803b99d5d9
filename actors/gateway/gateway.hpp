#pragma once

/// The gRPC gateway: serves `studiograph.v1` (GraphService, NodeService, EventService,
/// SystemService) and the standard `grpc.health.v1` health service on top of a `runtime`.
///
/// Each RPC runs on a gRPC server thread and is one blocking call into the runtime façade; the
/// gateway only validates request fields, fills a missing origin and maps `v1::Status` codes to
/// gRPC status codes unchanged (message "field: what"). Subscribe streams hold one server thread
/// each and poll their event stream with a short timeout so cancellation and shutdown are seen
/// promptly. Loopback only: binding any other address needs an access token, not supported yet.
///
/// Origin rule: a SetParam whose `origin.client_id` is empty gets `peer:<ServerContext::peer()>`
/// (one id per connection), so every ParamChanged echo carries an origin.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace sg {

class runtime;

struct gateway_options {
  /// "host:port" where host is 127.0.0.1 (any 127.x), ::1 in brackets, or localhost; port 0
  /// picks a free port (see `gateway::address`).
  std::string listen = "127.0.0.1:50051";
  /// Largest request accepted (graph YAML for ValidateGraph is the big one).
  size_t max_message_bytes = 4 << 20;
  /// Concurrent Subscribe streams; more get RESOURCE_EXHAUSTED.
  size_t max_subscribers = 256;
};

class gateway {
public:
  gateway(runtime& rt, gateway_options opts);
  /// Stops serving (see `stop`).
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// thread: control. Binds and starts serving; returns an error text (and serves nothing)
  /// when the address does not parse, is not loopback, or cannot be bound (also when another
  /// process already listens there: SO_REUSEPORT is off).
  std::optional<std::string> start();

  /// thread: any. grpc.health.v1 status for "" and every studiograph service: SERVING once the
  /// graph runs, NOT_SERVING while stopping. Before `start` the value is remembered; a gateway
  /// starts NOT_SERVING.
  void set_serving(bool serving);

  /// thread: control. Refuses new calls, closes every open Subscribe stream (their clients see
  /// UNAVAILABLE and may reconnect elsewhere), then shuts the server down with a short deadline
  /// so a stuck client cannot hold it. Idempotent.
  void stop();

  /// The bound "host:port" (port 0 resolved); empty before a successful `start`.
  std::string address() const;

  /// Open Subscribe streams right now.
  size_t subscribers() const;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace sg
