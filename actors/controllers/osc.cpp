// control.osc: an OSC server on UDP (liblo for the message format). A receiver thread owns
// the socket, bound exactly where `listen` says (loopback by default); it decodes datagrams
// (messages and bundles) and hands them to the controller actor, which turns them into
// intents with the mirror's parameter types and echoes changes to registered clients.
//
// Addresses: /sg/NODE/PARAM value        an overlay of source "osc" (settles after settle_ms)
//            /sg/NODE/PARAM/commit value a committed value
//            /sg/register port           echo every change to the sender's host at `port`

#include "actors/controllers/osc.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lo/lo.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <spdlog/spdlog.h>

#include "actors/controllers/common.hpp"
#include "graph/params.hpp"

namespace sg::ctl {

namespace {

constexpr auto request_timeout = std::chrono::seconds(2);
constexpr size_t max_datagram = 65536;

/// "host:port" -> sockaddr, or what is wrong with it.
expected<sockaddr_in> parse_endpoint(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return unexpected("expected HOST:PORT, got \"" + text + "\"");
  const std::string host = text.substr(0, colon) == "localhost" ? "127.0.0.1"
                                                                 : text.substr(0, colon);
  char* end = nullptr;
  const long port = std::strtol(text.c_str() + colon + 1, &end, 10);
  if (*end != '\0' || port < 0 || port > 65535)
    return unexpected("port: expected 0..65535 in \"" + text + "\"");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    return unexpected("host: expected an IPv4 address or localhost, got \"" + host + "\"");
  return a;
}

/// One decoded message as the receiver hands it over: the address split into node, param
/// and whether it commits, with the value in the kind OSC gave it. Travels as a
/// SetParamRequest (overlay_source "osc" unless it commits).
expected<v1::SetParamRequest> decode_set(const std::string& path, lo_message m) {
  // /sg/NODE/PARAM or /sg/NODE/PARAM/commit
  std::vector<std::string> parts;
  size_t start = 1;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash == std::string::npos ? std::string::npos
                                                                  : slash - start));
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  const bool commit = parts.size() == 4 && parts[3] == "commit";
  if (path.empty() || path[0] != '/' || parts.empty() || parts[0] != "sg" ||
      (parts.size() != 3 && !commit) || parts[1].empty() || parts[2].empty())
    return unexpected("unknown address " + path +
                      ": expected /sg/NODE/PARAM or /sg/NODE/PARAM/commit");
  const int argc = lo_message_get_argc(m);
  const char* types = lo_message_get_types(m);
  if (argc != 1 || !types)
    return unexpected(path + ": expected one value, got " + std::to_string(argc));
  lo_arg* a = lo_message_get_argv(m)[0];
  v1::SetParamRequest req;
  req.set_node(parts[1]);
  req.set_param(parts[2]);
  switch (types[0]) {
    case LO_INT32: req.mutable_value()->set_int_value(a->i); break;
    case LO_INT64: req.mutable_value()->set_int_value(a->h); break;
    case LO_FLOAT: req.mutable_value()->set_double_value(a->f); break;
    case LO_DOUBLE: req.mutable_value()->set_double_value(a->d); break;
    case LO_TRUE: req.mutable_value()->set_bool_value(true); break;
    case LO_FALSE: req.mutable_value()->set_bool_value(false); break;
    case LO_STRING:
    case LO_SYMBOL: req.mutable_value()->set_string_value(&a->s); break;
    default:
      return unexpected(path + ": unsupported OSC type '" + std::string(1, types[0]) + "'");
  }
  if (!commit)
    req.set_overlay_source("osc");
  return req;
}

/// The receiving side: a socket of our own and a thread reading it.
class receiver {
public:
  receiver(caf::actor sink, int fd) : sink_(std::move(sink)), fd_(fd) {
    thread_ = std::thread([this] { run(); });
  }
  ~receiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }

private:
  void run() {
    std::vector<char> buf(max_datagram);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0)
        continue;
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), 0,
                                   reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0)
        continue;
      char host[INET_ADDRSTRLEN] = {};
      inet_ntop(AF_INET, &from.sin_addr, host, sizeof host);
      packet(buf.data(), static_cast<size_t>(n), host, 0);
    }
  }

  void fail(std::string why) {
    v1::Status s;
    s.set_code(3);
    s.set_message(std::move(why));
    caf::anon_send(sink_, std::move(s));
  }

  /// A message or a bundle (elements decoded in order; nested bundles up to 8 deep).
  void packet(char* data, size_t size, const char* host, int depth) {
    if (size >= 16 && std::memcmp(data, "#bundle", 8) == 0) {
      if (depth >= 8)
        return fail("bundle nested deeper than 8");
      size_t at = 16;  // "#bundle\0" + time tag (applied at once: no scheduling here)
      while (at + 4 <= size) {
        uint32_t len = 0;
        std::memcpy(&len, data + at, 4);
        len = ntohl(len);
        at += 4;
        if (len > size - at || len % 4 != 0)
          return fail("malformed bundle element");
        packet(data + at, len, host, depth + 1);
        at += len;
      }
      return;
    }
    int result = 0;
    lo_message m = lo_message_deserialise(data, size, &result);
    if (!m)
      return fail("malformed OSC packet (" + std::to_string(size) + " bytes, liblo error " +
                  std::to_string(result) + ")");
    const std::string path(data, strnlen(data, size));
    message(path, m, host);
    lo_message_free(m);
  }

  void message(const std::string& path, lo_message m, const char* host) {
    if (path == "/sg/register") {
      const char* types = lo_message_get_types(m);
      if (lo_message_get_argc(m) != 1 || !types || types[0] != LO_INT32)
        return fail("/sg/register: expected one int32 port");
      const int port = lo_message_get_argv(m)[0]->i;
      if (port <= 0 || port > 65535)
        return fail("/sg/register: port out of range");
      caf::anon_send(sink_, caf::subscribe_atom_v, std::string(host) + ":" + std::to_string(port));
      return;
    }
    if (auto req = decode_set(path, m))
      caf::anon_send(sink_, std::move(*req));
    else
      fail(req.error());
  }

  caf::actor sink_;
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct osc_state {
  std::string id;
  controller_deps deps;
  param_mirror mirror;
  std::unique_ptr<receiver> rx;
  std::vector<lo_address> echo;
  std::vector<std::string> echo_names;
  uint64_t rev = 0;
  rate_limited_log log{"control.osc"};
  static inline const char* name = "control.osc";

  ~osc_state() {  // runs when the actor exits: the receiver thread stops first
    rx.reset();
    for (auto a : echo)
      lo_address_free(a);
  }
};

using self_ptr = caf::stateful_actor<osc_state>*;

void add_echo(osc_state& st, const std::string& endpoint) {
  if (std::find(st.echo_names.begin(), st.echo_names.end(), endpoint) != st.echo_names.end())
    return;
  const auto colon = endpoint.rfind(':');
  lo_address a = lo_address_new(endpoint.substr(0, colon).c_str(),
                                 endpoint.substr(colon + 1).c_str());
  if (!a)
    return;
  st.echo.push_back(a);
  st.echo_names.push_back(endpoint);
}

/// Binds the socket and starts the receiver, or says why it cannot.
expected<void> start(self_ptr self) {
  auto& st = self->state;
  const auto* p = st.mirror.param(st.id, "listen");
  const std::string listen = p ? p->value().string_value() : "127.0.0.1:9000";
  auto addr = parse_endpoint(listen);
  if (!addr)
    return unexpected("listen: " + addr.error());
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return unexpected(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return unexpected("listen: cannot bind " + listen + ": " + why);
  }
  if ((ntohl(addr->sin_addr.s_addr) >> 24) != 127)
    spdlog::warn("{}: OSC listens on {}, beyond this machine; OSC carries no credentials, so "
                 "anyone who can reach it controls the graph",
                 st.id, listen);
  st.rx = std::make_unique<receiver>(caf::actor_cast<caf::actor>(self), fd);
  const auto* e = st.mirror.param(st.id, "echo_to");
  const std::string echo = e ? e->value().string_value() : std::string();
  size_t from = 0;
  while (from < echo.size()) {
    const size_t comma = echo.find(',', from);
    const std::string one = echo.substr(from, comma == std::string::npos ? std::string::npos
                                                                         : comma - from);
    if (!one.empty()) {
      auto endpoint = parse_endpoint(one);
      if (!endpoint)
        return unexpected("echo_to: " + endpoint.error());
      add_echo(st, one);
    }
    if (comma == std::string::npos)
      break;
    from = comma + 1;
  }
  return {};
}

/// The value as the target parameter's type wants it (OSC has no enums or booleans as such);
/// fails when it cannot be one.
expected<v1::Value> typed(const param_mirror& m, const v1::SetParamRequest& req) {
  const auto* node = m.node(req.node());
  if (!node)
    return unexpected("no node '" + req.node() + "'");
  const auto* info = node_registry::builtin().find(node->type());
  const int index = info ? info->param_index(req.param()) : -1;
  if (index < 0)
    return unexpected("node '" + req.node() + "' (" + node->type() + ") has no parameter '" +
                      req.param() + "'");
  const auto& p = info->params[index];
  const auto& v = req.value();
  const bool numeric = v.has_double_value() || v.has_int_value() || v.has_bool_value();
  const double x = v.has_double_value() ? v.double_value()
                   : v.has_int_value()  ? static_cast<double>(v.int_value())
                                        : (v.bool_value() ? 1.0 : 0.0);
  v1::Value out;
  switch (p.type) {
    case param_type::real:
      if (!numeric)
        break;
      out.set_double_value(x);
      return out;
    case param_type::integer:
      if (!numeric || x != std::floor(x))
        break;
      out.set_int_value(static_cast<int64_t>(x));
      return out;
    case param_type::boolean:
      if (!numeric)
        break;
      out.set_bool_value(x != 0);
      return out;
    case param_type::enumeration:
      if (v.has_string_value())
        out.set_enum_value(v.string_value());
      else if (numeric && x == std::floor(x) && x >= 0 && x < static_cast<double>(p.choices.size()))
        out.set_enum_value(p.choices[static_cast<size_t>(x)]);
      else
        break;
      return out;
    case param_type::string:
      if (!v.has_string_value())
        break;
      out.set_string_value(v.string_value());
      return out;
  }
  return unexpected("/sg/" + req.node() + "/" + req.param() + ": wrong type of value for a " +
                    std::string(sg::type_name(p.type)) + " parameter");
}

/// Echoes the effective value of a changed parameter to every registered client.
void echo_change(self_ptr self, const v1::ParamChanged& pc) {
  auto& st = self->state;
  if (st.echo.empty())
    return;
  const auto* p = st.mirror.param(pc.node(), pc.param());
  if (!p)
    return;
  lo_message m = lo_message_new();
  const auto& v = p->value();
  if (v.has_double_value())
    lo_message_add_float(m, static_cast<float>(v.double_value()));
  else if (v.has_int_value())
    lo_message_add_int32(m, static_cast<int32_t>(v.int_value()));
  else if (v.has_bool_value())
    v.bool_value() ? lo_message_add_true(m) : lo_message_add_false(m);
  else if (v.has_enum_value())
    lo_message_add_string(m, v.enum_value().c_str());
  else
    lo_message_add_string(m, v.string_value().c_str());
  const std::string path = "/sg/" + pc.node() + "/" + pc.param();
  for (auto a : st.echo)
    lo_send_message(a, path.c_str(), m);
  lo_message_free(m);
}

caf::behavior osc(self_ptr self, std::string id, controller_deps deps) {
  self->state.id = std::move(id);
  self->state.deps = std::move(deps);
  subscribe(self, self->state.deps.hub);
  return {
    [self](const v1::Event& ev) {
      auto& st = self->state;
      const bool first = !st.mirror.seeded();
      st.mirror.apply(ev, st.id);
      if (first && st.mirror.seeded()) {
        const auto started = start(self);
        self->send(st.deps.hub, node_status(st.id, started ? std::string() : started.error()));
        if (!started)
          st.log.error(st.id + ": " + started.error());
      }
      if (ev.has_param_changed())
        echo_change(self, ev.param_changed());
    },
    [self](v1::SetParamRequest& req) {
      auto& st = self->state;
      auto value = typed(st.mirror, req);
      if (!value) {
        st.log.error(value.error());
        return;
      }
      *req.mutable_value() = std::move(*value);
      if (!req.overlay_source().empty())
        req.set_settle_ms(static_cast<uint32_t>(st.mirror.number(st.id, "settle_ms", 500)));
      req.mutable_origin()->set_client_id("ctl/" + st.id);
      req.mutable_origin()->set_client_rev(++st.rev);
      self->request(st.deps.host, request_timeout, std::move(req))
        .then(
          [self](const v1::SetParamReply& r) {
            if (r.status().code() != 0)
              self->state.log.error(r.status().message());
          },
          [self](const caf::error& e) { self->state.log.error(caf::to_string(e)); });
    },
    [self](const v1::Status& malformed) { self->state.log.error(malformed.message()); },
    [self](caf::subscribe_atom, const std::string& endpoint) {
      add_echo(self->state, endpoint);
    },
  };
}

} // namespace

caf::actor spawn_osc(caf::actor_system& sys, const std::string& id, const controller_deps& deps) {
  return sys.spawn(osc, id, deps);
}

} // namespace sg::ctl
