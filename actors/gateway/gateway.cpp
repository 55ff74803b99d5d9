#include "actors/gateway/gateway.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <charconv>
#include <chrono>
#include <exception>
#include <mutex>
#include <unordered_set>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "actors/runtime.hpp"
#include "graph/loader.hpp"
#include "studiograph/v1/service.grpc.pb.h"

namespace sg {

namespace {

using namespace std::chrono_literals;

/// How often a Subscribe handler wakes up to look for cancellation.
constexpr auto poll_interval = 100ms;
/// How long `stop` lets calls finish before gRPC cancels them.
constexpr auto shutdown_grace = 1s;
/// Longest accepted `origin.client_id` (it travels in every echo).
constexpr size_t max_client_id = 256;

// --- listen address ---------------------------------------------------------------------------

struct host_port {
  std::string host;  // without brackets
  bool bracketed = false;
  int port = 0;
};

std::optional<host_port> split_host_port(const std::string& text, std::string& error) {
  host_port hp;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected [v6-address]:port";
      return std::nullopt;
    }
    hp.host = text.substr(1, close - 1);
    hp.bracketed = true;
    port = std::string_view(text).substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      error = "expected host:port";
      return std::nullopt;
    }
    hp.host = text.substr(0, colon);
    port = std::string_view(text).substr(colon + 1);
  }
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), hp.port);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size() || hp.port < 0 ||
      hp.port > 65535) {
    error = "port '" + std::string(port) + "' is not a number in 0..65535";
    return std::nullopt;
  }
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

/// The listen address as gRPC wants it, or an error text naming what is wrong.
std::optional<host_port> check_listen(const std::string& listen, std::string& error) {
  auto hp = split_host_port(listen, error);
  if (!hp) {
    error = "listen address '" + listen + "' does not parse: " + error;
    return std::nullopt;
  }
  if (!is_loopback(*hp)) {
    error = "listen address '" + listen +
            "' is not loopback: serving other addresses requires an access token, which is "
            "not supported yet; use 127.0.0.1, [::1] or localhost";
    return std::nullopt;
  }
  return hp;
}

// --- status mapping -----------------------------------------------------------------------

grpc::Status invalid(const std::string& field, const std::string& what) {
  return {grpc::StatusCode::INVALID_ARGUMENT, field + ": " + what};
}

/// v1::Status uses google.rpc.Code numbering, which is grpc::StatusCode's: mapped unchanged.
grpc::Status to_grpc(const v1::Status& s) {
  if (s.code() == 0)
    return grpc::Status::OK;
  std::string message = s.message();
  if (!s.field().empty() && message.rfind(s.field() + ":", 0) != 0)
    message = s.field() + ": " + message;
  auto code = s.code() > 0 && s.code() <= grpc::StatusCode::UNAUTHENTICATED
                  ? static_cast<grpc::StatusCode>(s.code())
                  : grpc::StatusCode::UNKNOWN;
  return {code, message};
}

/// A runtime reply on the wire: failures travel as the gRPC status (the body is then empty),
/// so `status` inside a reply is never set.
template <class Reply>
grpc::Status unwrap(Reply from_runtime, Reply& reply) {
  auto status = to_grpc(from_runtime.status());
  if (status.ok()) {
    from_runtime.clear_status();
    reply = std::move(from_runtime);
  }
  return status;
}

/// Runs one runtime call; an exception from the runtime becomes INTERNAL instead of killing
/// the server thread.
template <class F>
grpc::Status guarded(F&& f) {
  try {
    return f();
  } catch (const runtime_unavailable& e) {
    return {grpc::StatusCode::UNAVAILABLE, e.what()};
  } catch (const std::exception& e) {
    return {grpc::StatusCode::INTERNAL, std::string("runtime: ") + e.what()};
  } catch (...) {
    return {grpc::StatusCode::INTERNAL, "runtime: unknown error"};
  }
}

} // namespace

// --- shared state of the services -------------------------------------------------------------

/// What every service needs: the runtime and the registry of open Subscribe streams.
struct gateway::impl {
  runtime& rt;
  gateway_options opts;
  std::unique_ptr<grpc::Server> server;
  std::string address;
  std::atomic<bool> serving{false};

  /// The service objects (defined below); they must outlive `server`.
  std::shared_ptr<void> services;

  mutable std::mutex mtx;
  std::unordered_set<std::shared_ptr<event_stream>> streams;
  size_t reserved = 0;  // subscriptions being opened
  bool stopping = false;

  impl(runtime& r, gateway_options o) : rt(r), opts(std::move(o)) {}

  /// Registers a new stream, or says why not (stopping, too many subscribers).
  grpc::Status open_stream(const v1::SubscribeRequest& req, std::shared_ptr<event_stream>& out) {
    {
      std::lock_guard lock(mtx);
      if (stopping)
        return {grpc::StatusCode::UNAVAILABLE, "server is stopping"};
      if (streams.size() + reserved >= opts.max_subscribers)
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                "too many subscribers (limit " + std::to_string(opts.max_subscribers) + ")"};
      // Reserve the slot before the (blocking) subscribe so concurrent calls respect the limit.
      ++reserved;
    }
    auto status = guarded([&] {
      out = rt.subscribe(req);
      return out ? grpc::Status::OK
                 : grpc::Status(grpc::StatusCode::UNAVAILABLE, "runtime is not running");
    });
    std::lock_guard lock(mtx);
    --reserved;
    if (status.ok() && stopping) {
      out->close();
      return {grpc::StatusCode::UNAVAILABLE, "server is stopping"};
    }
    if (status.ok())
      streams.insert(out);
    return status;
  }

  bool is_stopping() const {
    std::lock_guard lock(mtx);
    return stopping;
  }

  void close_stream(const std::shared_ptr<event_stream>& s) {
    s->close();
    std::lock_guard lock(mtx);
    streams.erase(s);
  }

  void apply_serving() {
    if (!server)
      return;
    auto* health = server->GetHealthCheckService();
    if (!health)
      return;
    bool on = serving.load();
    health->SetServingStatus("", on);
    for (const char* name :
         {v1::GraphService::service_full_name(), v1::NodeService::service_full_name(),
          v1::EventService::service_full_name(), v1::SystemService::service_full_name(),
          v1::PresetService::service_full_name()})
      health->SetServingStatus(name, on);
  }
};

namespace {

class graph_service final : public v1::GraphService::Service {
public:
  explicit graph_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status ValidateGraph(grpc::ServerContext*, const v1::ValidateGraphRequest* req,
                             v1::ValidateGraphReply* reply) override {
    if (req->yaml().empty())
      return invalid("yaml", "empty graph text");
    const std::string file = req->file_name().empty() ? "<request>" : req->file_name();
    return guarded([&] {
      auto result = load_graph_string(req->yaml(), file);
      reply->set_ok(result.ok());
      for (auto& d : result.errors)
        *reply->add_diagnostics() = std::move(d);
      return grpc::Status::OK;
    });
  }

  grpc::Status GetGraph(grpc::ServerContext*, const v1::GetGraphRequest*,
                        v1::GetGraphReply* reply) override {
    return guarded([&] {
      *reply = gw_.rt.get_graph();
      return grpc::Status::OK;
    });
  }

  /// The graph comes as YAML and is validated here in full before the runtime sees it; an
  /// invalid graph changes nothing and every diagnostic is in the status message.
  grpc::Status ApplyGraph(grpc::ServerContext*, const v1::ApplyGraphRequest* req,
                          v1::ApplyGraphReply* reply) override {
    if (req->yaml().empty())
      return invalid("yaml", "empty graph text (the graph travels as YAML)");
    if (req->has_graph())
      return invalid("graph", "send the graph as `yaml` only");
    const std::string file = req->file_name().empty() ? "<request>" : req->file_name();
    return guarded([&] {
      auto result = load_graph_string(req->yaml(), file);
      if (!result.ok()) {
        std::string text = std::to_string(result.errors.size()) + " error(s) in the graph";
        for (const auto& d : result.errors)
          text += "\n" + d.file() + ":" + std::to_string(d.line()) + ":" +
                  std::to_string(d.column()) + ": " + d.message();
        return invalid("yaml", text);
      }
      return unwrap(gw_.rt.apply_graph(result.spec), *reply);
    });
  }

private:
  gateway::impl& gw_;
};

class node_service final : public v1::NodeService::Service {
public:
  explicit node_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status ListNodeTypes(grpc::ServerContext*, const v1::ListNodeTypesRequest*,
                             v1::ListNodeTypesReply* reply) override {
    return guarded([&] {
      *reply = gw_.rt.list_node_types();
      return grpc::Status::OK;
    });
  }

  grpc::Status ListNodes(grpc::ServerContext*, const v1::ListNodesRequest*,
                         v1::ListNodesReply* reply) override {
    return guarded([&] {
      *reply = gw_.rt.list_nodes();
      return grpc::Status::OK;
    });
  }

  grpc::Status GetNode(grpc::ServerContext*, const v1::GetNodeRequest* req,
                       v1::GetNodeReply* reply) override {
    if (req->node().empty())
      return invalid("node", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.get_node(*req), *reply); });
  }

  grpc::Status SetParam(grpc::ServerContext* ctx, const v1::SetParamRequest* req,
                        v1::SetParamReply* reply) override {
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->param().empty())
      return invalid("param", "must not be empty");
    if (req->value().kind_case() == v1::Value::KIND_NOT_SET)
      return invalid("value", "not set");
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    v1::SetParamRequest intent = *req;
    if (intent.origin().client_id().empty())
      intent.mutable_origin()->set_client_id("peer:" + ctx->peer());
    return guarded([&] { return unwrap(gw_.rt.set_param(intent), *reply); });
  }

  grpc::Status Trigger(grpc::ServerContext* ctx, const v1::TriggerRequest* req,
                       v1::TriggerReply* reply) override {
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->kind() == v1::TriggerRequest::KIND_UNSPECIFIED)
      return invalid("kind", "not set (trigger, note_on, note_off or stop)");
    if (req->delay_ms() > 60000)
      return invalid("delay_ms", "longer than 60000 ms");
    v1::TriggerRequest intent = *req;
    if (intent.origin().client_id().empty())
      intent.mutable_origin()->set_client_id("peer:" + ctx->peer());
    return guarded([&] { return unwrap(gw_.rt.trigger(intent), *reply); });
  }

  grpc::Status Settle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                      v1::SetParamReply* reply) override {
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->source().empty())
      return invalid("source", "must not be empty");
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    v1::SettleRequest intent = *req;
    if (intent.origin().client_id().empty())
      intent.mutable_origin()->set_client_id("peer:" + ctx->peer());
    return guarded([&] { return unwrap(gw_.rt.settle(intent), *reply); });
  }

private:
  gateway::impl& gw_;
};

class event_service final : public v1::EventService::Service {
public:
  explicit event_service(gateway::impl& gw) : gw_(gw) {}

  /// Filters are the runtime's (the hub numbers each subscription's events contiguously after
  /// filtering and never filters the Snapshot); the gateway only checks them.
  grpc::Status Subscribe(grpc::ServerContext* ctx, const v1::SubscribeRequest* req,
                         grpc::ServerWriter<v1::Event>* writer) override {
    for (int i = 0; i < req->nodes_size(); ++i)
      if (req->nodes(i).empty())
        return invalid("nodes[" + std::to_string(i) + "]", "must not be empty");
    for (int i = 0; i < req->kinds_size(); ++i)
      if (req->kinds(i) == v1::EVENT_KIND_UNSPECIFIED || !v1::EventKind_IsValid(req->kinds(i)))
        return invalid("kinds[" + std::to_string(i) + "]",
                       "unknown event kind " + std::to_string(req->kinds(i)));
    std::shared_ptr<event_stream> stream;
    if (auto status = gw_.open_stream(*req, stream); !status.ok())
      return status;
    auto status = pump(*ctx, *stream, *writer);
    gw_.close_stream(stream);
    return status;
  }

private:
  grpc::Status pump(grpc::ServerContext& ctx, event_stream& stream,
                    grpc::ServerWriter<v1::Event>& writer) {
    v1::Event ev;
    while (!ctx.IsCancelled()) {
      if (!stream.next(ev, poll_interval)) {
        if (stream.closed())
          return {grpc::StatusCode::UNAVAILABLE, gw_.is_stopping()
                                                   ? "server is stopping"
                                                   : "event stream closed by the runtime"};
        continue;
      }
      if (!writer.Write(ev))
        return {grpc::StatusCode::CANCELLED, "client went away"};
    }
    return {grpc::StatusCode::CANCELLED, "cancelled by the client"};
  }

  gateway::impl& gw_;
};

/// Preset names: what a file name or a menu entry can hold.
std::optional<std::string> check_preset_name(const std::string& name) {
  if (name.empty())
    return "must not be empty";
  if (name.size() > 128)
    return "longer than 128 characters";
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != ' ' && c != '.' && c != '_' && c != '-')
      return "may hold letters, digits, space, '.', '_' and '-' only";
  return std::nullopt;
}

class preset_service final : public v1::PresetService::Service {
public:
  explicit preset_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status SavePreset(grpc::ServerContext*, const v1::SavePresetRequest* req,
                          v1::SavePresetReply* reply) override {
    if (auto why = check_preset_name(req->name()))
      return invalid("name", *why);
    for (int i = 0; i < req->nodes_size(); ++i)
      if (req->nodes(i).empty())
        return invalid("nodes[" + std::to_string(i) + "]", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.save_preset(*req), *reply); });
  }

  grpc::Status LoadPreset(grpc::ServerContext* ctx, const v1::LoadPresetRequest* req,
                          v1::LoadPresetReply* reply) override {
    if (auto why = check_preset_name(req->name()))
      return invalid("name", *why);
    v1::LoadPresetRequest intent = *req;
    if (intent.origin().client_id().empty())
      intent.mutable_origin()->set_client_id("peer:" + ctx->peer());
    return guarded([&] { return unwrap(gw_.rt.load_preset(intent), *reply); });
  }

  grpc::Status ListPresets(grpc::ServerContext*, const v1::ListPresetsRequest*,
                           v1::ListPresetsReply* reply) override {
    return guarded([&] { return unwrap(gw_.rt.list_presets(), *reply); });
  }

  grpc::Status DeletePreset(grpc::ServerContext*, const v1::DeletePresetRequest* req,
                            v1::DeletePresetReply* reply) override {
    if (auto why = check_preset_name(req->name()))
      return invalid("name", *why);
    return guarded([&] { return unwrap(gw_.rt.delete_preset(*req), *reply); });
  }

private:
  gateway::impl& gw_;
};

class system_service final : public v1::SystemService::Service {
public:
  explicit system_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::StatusRequest*,
                         v1::StatusReply* reply) override {
    return guarded([&] {
      *reply = gw_.rt.status();
      return grpc::Status::OK;
    });
  }

private:
  gateway::impl& gw_;
};

/// The four services, kept alive as long as the server that references them.
struct services {
  graph_service graph;
  node_service node;
  event_service events;
  system_service system;
  preset_service presets;
  explicit services(gateway::impl& gw)
    : graph(gw), node(gw), events(gw), system(gw), presets(gw) {}
};

} // namespace

// --- gateway ----------------------------------------------------------------------------

gateway::gateway(runtime& rt, gateway_options opts)
  : impl_(std::make_unique<impl>(rt, std::move(opts))) {}

gateway::~gateway() {
  stop();
}

std::optional<std::string> gateway::start() {
  if (impl_->server)
    return "gateway already started on " + impl_->address;
  std::string error;
  auto hp = check_listen(impl_->opts.listen, error);
  if (!hp)
    return error;

  grpc::EnableDefaultHealthCheckService(true);
  auto svc = std::make_shared<services>(*impl_);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(impl_->opts.listen, grpc::InsecureServerCredentials(), &port);
  // Without this a second server on the same port binds too and steals half the calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Find vanished subscribers so their slots and threads come back.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.SetMaxReceiveMessageSize(
    static_cast<int>(std::min<size_t>(impl_->opts.max_message_bytes, INT_MAX)));
  builder.RegisterService(&svc->graph);
  builder.RegisterService(&svc->node);
  builder.RegisterService(&svc->events);
  builder.RegisterService(&svc->system);
  builder.RegisterService(&svc->presets);
  auto server = builder.BuildAndStart();
  if (!server || port == 0)
    return "cannot bind " + impl_->opts.listen + " (address in use or not available)";

  std::lock_guard lock(impl_->mtx);
  impl_->stopping = false;
  impl_->server = std::move(server);
  impl_->services = std::move(svc);
  impl_->address = (hp->bracketed ? "[" + hp->host + "]" : hp->host) + ":" + std::to_string(port);
  impl_->apply_serving();
  impl_->rt.set_gateway_address(impl_->address);
  return std::nullopt;
}

void gateway::set_serving(bool serving) {
  impl_->serving = serving;
  std::lock_guard lock(impl_->mtx);
  if (!impl_->stopping)
    impl_->apply_serving();
}

void gateway::stop() {
  std::unordered_set<std::shared_ptr<event_stream>> open;
  {
    std::lock_guard lock(impl_->mtx);
    if (!impl_->server || impl_->stopping)
      return;
    impl_->stopping = true;
    open = impl_->streams;
  }
  impl_->serving = false;
  if (auto* health = impl_->server->GetHealthCheckService()) {
    impl_->apply_serving();
    health->Shutdown();
  }
  for (auto& s : open)
    s->close();
  impl_->server->Shutdown(std::chrono::system_clock::now() + shutdown_grace);
  impl_->server->Wait();
  impl_->rt.set_gateway_address({});
  std::lock_guard lock(impl_->mtx);
  impl_->server.reset();
  impl_->services.reset();
  impl_->address.clear();
}

std::string gateway::address() const {
  std::lock_guard lock(impl_->mtx);
  return impl_->address;
}

size_t gateway::subscribers() const {
  std::lock_guard lock(impl_->mtx);
  return impl_->streams.size();
}

} // namespace sg
