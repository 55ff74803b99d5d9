#pragma once

/// The gateway's security, in one place: the listen-address policy (loopback unless tokens are
/// configured), access tokens and their roles, authentication of a call, and TLS credentials.
/// Errors name the file, line or option at fault; a token is never part of one, nor logged.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "actors/gateway/gateway.hpp"
#include "nodes/core/expected.hpp"

namespace sg {

// --- listen address -----------------------------------------------------------------------

struct host_port {
  std::string host;  // without brackets
  bool bracketed = false;
  int port = 0;
};

/// "host:port" or "[v6]:port"; fails saying what was expected.
expected<host_port> split_host_port(const std::string& text);
/// 127.x, [::1] or localhost.
bool is_loopback(const host_port& hp);
/// The listen address as gRPC wants it; fails naming the address and what is wrong.
expected<host_port> parse_listen(const std::string& listen);

// --- tokens and roles -----------------------------------------------------------------------

/// What a caller may do: `open` when the gateway has no token file (loopback only).
enum class role { open, read_only, control };
const char* role_name(role r);

struct token_entry {
  std::string token;
  role granted;
};

constexpr size_t min_token_chars = 16;

/// Parses a token file (mode 600, lines `ROLE TOKEN`); errors name the file and line.
expected<std::vector<token_entry>> load_tokens(const std::string& path);

/// Same length and content, in time independent of where they differ.
bool same_secret(std::string_view a, std::string_view b);

/// The role the call's bearer token grants (every token compared), or UNAUTHENTICATED naming
/// what is missing. Without tokens every caller is `open`.
grpc::Status authenticate(const std::vector<token_entry>& tokens,
                          const grpc::ServerContext& ctx, role& out);

// --- TLS ------------------------------------------------------------------------------------

/// A PEM file's text; the error names `what` and the path (unreadable, or not PEM).
/// Shared by the gateway and its clients (sgctl, the client library).
expected<std::string> read_pem(const std::string& path, const char* what);

/// Server credentials for `opts`: TLS (maybe mutual) or plaintext.
expected<std::shared_ptr<grpc::ServerCredentials>> make_credentials(const gateway_options& opts);

} // namespace sg
