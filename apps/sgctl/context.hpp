#pragma once

/// What every sgctl command shares: the global options, the exit codes, how a failed call is
/// reported, and the connection (channel, per-call context, state client, origin id).

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "apps/client/state_client.hpp"
#include "studiograph/v1/service.grpc.pb.h"

namespace sg::sgctl {

namespace v1 = studiograph::v1;

/// The process's exit code; `sgctl --help` lists them (exit_codes_help).
enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_rejected = 2,
  exit_not_found = 3,
  exit_unreachable = 4,
  exit_other = 5,
  exit_denied = 6,
  exit_limited = 7,
};

/// The footer of `sgctl --help`.
inline constexpr const char* exit_codes_help =
  "Exit codes:\n"
  "  0  ok\n"
  "  1  usage error\n"
  "  2  the server rejected the request (INVALID_ARGUMENT, FAILED_PRECONDITION);\n"
  "     validate, apply: the graph has errors\n"
  "  3  not found (NOT_FOUND)\n"
  "  4  cannot reach the server (UNAVAILABLE, DEADLINE_EXCEEDED)\n"
  "  5  any other error\n"
  "  6  not allowed (UNAUTHENTICATED, PERMISSION_DENIED)\n"
  "  7  a server limit (RESOURCE_EXHAUSTED: rate, size, subscribers)\n";

/// The options before the command, read by every command.
struct global_options {
  std::string addr = "127.0.0.1:50051";
  bool json = false;
  double timeout_s = 5;
  std::string token_file;
  sg::client_security security;  // the token is read from token_file after parsing
};

/// The exit code of a call that ended with `c`.
int exit_for(grpc::StatusCode c);

/// Prints "sgctl: CODE: message" and returns the matching exit code.
int fail(const grpc::Status& s);

/// Prints "sgctl: message" (a command line sgctl cannot use) and returns exit_usage.
int usage_error(const std::string& message);

/// The deadline and security of every call, from the global options.
sg::client_options client_options_of(const global_options& g);

/// A channel whose reconnect backoff is the watch's (100 ms .. 5 s), not gRPC's (up to 120 s).
std::shared_ptr<grpc::Channel> make_channel(const global_options& g);

/// A client context bounded by --timeout, carrying the token.
std::unique_ptr<grpc::ClientContext> make_context(const global_options& g);

/// The origin id of every intent this process sends: "sgctl-HOST-PID".
const std::string& client_id();

/// The state client: intents carry this process's origin; `watch` follows the event stream,
/// on a new connection after each loss.
std::unique_ptr<sg::state_client> make_client(const global_options& g);

} // namespace sg::sgctl
