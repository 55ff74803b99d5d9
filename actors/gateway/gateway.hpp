#pragma once

/// The gRPC gateway: serves `studiograph.v1` (GraphService, NodeService, EventService,
/// SystemService) and the standard `grpc.health.v1` health service on top of a `runtime`.
///
/// Each RPC runs on a gRPC server thread and is one blocking call into the runtime façade; the
/// gateway only validates request fields, fills a missing origin and maps `v1::Status` codes to
/// gRPC status codes unchanged (message "field: what"). Subscribe streams hold one server thread
/// each and poll their event stream with a short timeout so cancellation and shutdown are seen
/// promptly.
///
/// Security: loopback by default; any other address needs a token file. With a token file every
/// call carries `authorization: Bearer TOKEN` metadata and the token's role decides what it may
/// do (read-only: inspect and subscribe; control: everything). TLS with a certificate and key,
/// optionally requiring client certificates signed by a CA. Per client (gRPC connection):
/// intents per second and open subscriptions are bounded (RESOURCE_EXHAUSTED). Tokens and
/// metadata are never logged or echoed.
///
/// Origin rule: a SetParam whose `origin.client_id` is empty gets `peer:<ServerContext::peer()>`
/// (one id per connection), so every ParamChanged echo carries an origin.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "nodes/core/expected.hpp"

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
  /// Concurrent Subscribe streams of one client (connection).
  size_t max_subscribers_per_client = 64;
  /// Intents (SetParam, SetParams, Settle, Trigger, Bypass, LoadPreset) per second of one
  /// client, with a burst of one second's worth; 0: unlimited.
  double max_intents_per_s = 2000;
  /// Access tokens, one per line: `ROLE TOKEN` with ROLE `control` or `read-only`; `#`
  /// comments. Required to listen on anything but loopback. The file must not be readable by
  /// group or others, and tokens have at least 16 characters.
  std::string token_file;
  /// PEM certificate chain and private key: serve TLS instead of plaintext.
  std::string tls_cert, tls_key;
  /// PEM CA: clients must present a certificate it signed (mutual TLS).
  std::string tls_client_ca;
  /// Serve grpc.reflection.v1alpha (service and message descriptors) for grpcurl and friends.
  bool reflection = false;
};

/// thread: any. Everything that can be wrong with `opts` before anything starts (address,
/// non-loopback without a token file, token file, TLS files).
expected<void> check_gateway_options(const gateway_options& opts);

/// True when `listen` ("host:port") names a loopback address.
bool is_loopback_listen(const std::string& listen);

class gateway {
public:
  gateway(runtime& rt, gateway_options opts);
  /// Stops serving (see `stop`).
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// thread: control. Binds and starts serving; fails (and serves nothing) when
  /// `check_gateway_options` refuses the options or the address cannot be bound (also when
  /// another process already listens there: SO_REUSEPORT is off).
  expected<void> start();

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
