#include "apps/sgctl/context.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "apps/sgctl/output.hpp"

namespace sg::sgctl {

int exit_for(grpc::StatusCode c) {
  switch (c) {
  case grpc::StatusCode::OK:
    return exit_ok;
  case grpc::StatusCode::INVALID_ARGUMENT:
  case grpc::StatusCode::FAILED_PRECONDITION:
    return exit_rejected;
  case grpc::StatusCode::NOT_FOUND:
    return exit_not_found;
  case grpc::StatusCode::UNAVAILABLE:
  case grpc::StatusCode::DEADLINE_EXCEEDED:
    return exit_unreachable;
  case grpc::StatusCode::UNAUTHENTICATED:
  case grpc::StatusCode::PERMISSION_DENIED:
    return exit_denied;
  case grpc::StatusCode::RESOURCE_EXHAUSTED:
    return exit_limited;
  default:
    return exit_other;
  }
}

int fail(const grpc::Status& s) {
  std::cerr << "sgctl: " << code_name(s.error_code()) << ": " << s.error_message() << '\n';
  return exit_for(s.error_code());
}

int usage_error(const std::string& message) {
  std::cerr << "sgctl: " << message << '\n';
  return exit_usage;
}

sg::client_options client_options_of(const global_options& g) {
  sg::client_options opts;
  opts.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(g.timeout_s));
  opts.security = g.security;
  return opts;
}

std::shared_ptr<grpc::Channel> make_channel(const global_options& g) {
  return sg::make_channel(g.addr, client_options_of(g));
}

std::unique_ptr<grpc::ClientContext> make_context(const global_options& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  const auto opts = client_options_of(g);
  ctx->set_deadline(std::chrono::system_clock::now() + opts.timeout);
  sg::authorize(*ctx, opts);
  return ctx;
}

const std::string& client_id() {
  static const std::string id = [] {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0)
      std::snprintf(host, sizeof host, "unknown");
    return "sgctl-" + std::string(host) + "-" + std::to_string(getpid());
  }();
  return id;
}

std::unique_ptr<sg::state_client> make_client(const global_options& g) {
  return std::make_unique<sg::state_client>([g] { return make_channel(g); }, client_id(),
                                            client_options_of(g));
}

} // namespace sg::sgctl
