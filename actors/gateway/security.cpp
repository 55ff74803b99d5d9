#include "actors/gateway/security.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sg {

// --- listen address ---------------------------------------------------------------------------

expected<host_port> split_host_port(const std::string& text) {
  host_port hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return unexpected("expected [v6-address]:port");
    hp.host = text.substr(1, close - 1);
    hp.bracketed = true;
    port = std::string_view(text).substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return unexpected("expected host:port");
    hp.host = text.substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
  }
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || hp.port < 0 ||
      hp.port > 65535)
    return unexpected("port '" + std::string(port) + "' is not a number in 0..65535");
  return hp;
}

bool is_loopback(const host_port& hp) {
  if (hp.host == "localhost")
    return true;
  in_addr v4{};
  if (!hp.bracketed && inet_pton(AF_INET, hp.host.c_str(), &v4) == 1)
    return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return hp.bracketed && inet_pton(AF_INET6, hp.host.c_str(), &v6) == 1 &&
         IN6_IS_ADDR_LOOPBACK(&v6);
}

expected<host_port> parse_listen(const std::string& listen) {
  auto hp = split_host_port(listen);
  if (!hp)
    return unexpected("listen address '" + listen + "' does not parse: " + hp.error());
  return hp;
}

// --- access tokens and TLS files ------------------------------------------------------------

const char* role_name(role r) {
  switch (r) {
    case role::read_only: return "read-only";
    case role::control: return "control";
    default: return "open";
  }
}

expected<std::vector<token_entry>> load_tokens(const std::string& path) {
  std::vector<token_entry> out;
  struct stat info {};
  if (stat(path.c_str(), &info) != 0)
    return unexpected("token file '" + path + "' cannot be read");
  if (info.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return unexpected("token file '" + path + "' is readable by group or others (mode " + mode +
                      "): chmod 600 it");
  }
  std::ifstream in(path);
  if (!in)
    return unexpected("token file '" + path + "' cannot be read");
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream words(line);
    std::string kind, token, extra;
    if (!(words >> kind) || kind.front() == '#')
      continue;
    const std::string at = "token file '" + path + "' line " + std::to_string(n) + ": ";
    if (!(words >> token) || (words >> extra))
      return unexpected(at + "expected 'ROLE TOKEN' (ROLE: control or read-only)");
    if (kind != "control" && kind != "read-only")
      return unexpected(at + "unknown role '" + kind + "': expected control or read-only");
    if (token.size() < min_token_chars)
      return unexpected(at + "the token is shorter than " + std::to_string(min_token_chars) +
                        " characters");
    for (const auto& t : out)
      if (t.token == token)
        return unexpected(at + "the same token appears twice");
    out.push_back({token, kind == "control" ? role::control : role::read_only});
  }
  if (out.empty())
    return unexpected("token file '" + path + "' holds no token");
  return out;
}

expected<std::string> read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return unexpected(std::string(what) + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos)
    return unexpected(std::string(what) + " '" + path + "' is not PEM");
  return text.str();
}

expected<std::shared_ptr<grpc::ServerCredentials>> make_credentials(const gateway_options& opts) {
  if (opts.tls_cert.empty() && opts.tls_key.empty()) {
    if (!opts.tls_client_ca.empty())
      return unexpected("--tls-client-ca needs --tls-cert and --tls-key");
    return grpc::InsecureServerCredentials();
  }
  if (opts.tls_cert.empty() || opts.tls_key.empty())
    return unexpected("TLS needs both --tls-cert and --tls-key");
  auto cert = read_pem(opts.tls_cert, "TLS certificate");
  if (!cert)
    return unexpected(cert.error());
  auto key = read_pem(opts.tls_key, "TLS key");
  if (!key)
    return unexpected(key.error());
  grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!opts.tls_client_ca.empty()) {
    auto ca = read_pem(opts.tls_client_ca, "TLS client CA");
    if (!ca)
      return unexpected(ca.error());
    ssl.pem_root_certs = std::move(*ca);
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  ssl.pem_key_cert_pairs.push_back({std::move(*key), std::move(*cert)});
  return grpc::SslServerCredentials(ssl);
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

grpc::Status authenticate(const std::vector<token_entry>& tokens,
                          const grpc::ServerContext& ctx, role& out) {
  if (tokens.empty()) {
    out = role::open;
    return grpc::Status::OK;
  }
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return {grpc::StatusCode::UNAUTHENTICATED,
            "authorization: missing; send 'authorization: Bearer TOKEN' metadata"};
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.substr(0, scheme.size()) != scheme)
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization: expected 'Bearer TOKEN'"};
  value.remove_prefix(scheme.size());
  // Every token is compared, so the time taken does not tell which one came close.
  const token_entry* match = nullptr;
  for (const auto& t : tokens)
    if (same_secret(t.token, value))
      match = &t;
  if (!match)
    return {grpc::StatusCode::UNAUTHENTICATED, "authorization: unknown token"};
  out = match->granted;
  return grpc::Status::OK;
}

bool is_loopback_listen(const std::string& listen) {
  auto hp = split_host_port(listen);
  return hp && is_loopback(*hp);
}

expected<void> check_gateway_options(const gateway_options& opts) {
  auto hp = parse_listen(opts.listen);
  if (!hp)
    return unexpected(hp.error());
  if (!is_loopback(*hp) && opts.token_file.empty())
    return unexpected("listen address '" + opts.listen +
                      "' is not loopback: serving other addresses requires access tokens "
                      "(--token-file FILE with lines 'control TOKEN' or 'read-only TOKEN'; see "
                      "docs/API.md), and TLS (--tls-cert, --tls-key) is strongly advised; or use "
                      "127.0.0.1, [::1] or localhost");
  if (!opts.token_file.empty())
    if (auto tokens = load_tokens(opts.token_file); !tokens)
      return unexpected(tokens.error());
  if (auto creds = make_credentials(opts); !creds)
    return unexpected(creds.error());
  return {};
}

} // namespace sg
