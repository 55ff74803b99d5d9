#include "actors/gateway/gateway.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <charconv>
#include <chrono>
#include <exception>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <unordered_set>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>

#include "actors/gateway/security.hpp"
#include "actors/runtime.hpp"
#include "graph/export.hpp"
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
/// Most entries in one SetParams.
constexpr int max_batch = 256;

/// Server reflection on or off for one builder. Linking gRPC's reflection library registers
/// its plugin for every server in the process, so "off" has to remove it.
class reflection_option final : public grpc::ServerBuilderOption {
public:
  explicit reflection_option(bool on) : on_(on) {}
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>* plugins) override {
    const std::string name = grpc::reflection::ProtoServerReflectionPlugin().name();
    std::erase_if(*plugins, [&](const auto& p) { return p->name() == name; });
    if (on_)
      plugins->push_back(std::make_unique<grpc::reflection::ProtoServerReflectionPlugin>());
  }

private:
  bool on_;
};

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

/// The origin rule: an intent without a client id gets `peer:<peer>` (one id per connection).
template <class Request>
Request with_origin(Request req, const grpc::ServerContext& ctx) {
  if (req.origin().client_id().empty())
    req.mutable_origin()->set_client_id("peer:" + ctx.peer());
  return req;
}

} // namespace

// --- shared state of the services -------------------------------------------------------------

/// What a call needs: inspecting (read-only tokens suffice) or changing something (control).
enum class access { read, control };

/// One client (a gRPC connection, named by its peer address) as the status reply shows it.
struct client_info {
  role granted = role::open;
  uint32_t subscriptions = 0;
  uint64_t calls = 0;
  uint64_t intents = 0;
  uint64_t limited = 0;
  std::chrono::steady_clock::time_point last;
  double bucket = 0;  // intents it may still send now (token bucket)
  std::chrono::steady_clock::time_point refilled;
};

/// A client that made no call for this long and holds no subscription is forgotten.
constexpr auto client_idle_forget = std::chrono::seconds(60);

/// What every service needs: the runtime, the access tokens, the clients and the registry of
/// open Subscribe streams.
struct gateway::impl {
  runtime& rt;
  gateway_options opts;
  std::vector<token_entry> tokens;  // empty: no authentication (loopback only)
  std::unique_ptr<grpc::Server> server;
  std::string address;
  std::atomic<bool> serving{false};

  mutable std::mutex clients_mtx;
  std::map<std::string, client_info> clients;  // by peer

  /// The service objects (defined below); they must outlive `server`.
  std::shared_ptr<void> services;

  mutable std::mutex mtx;
  std::unordered_set<std::shared_ptr<event_stream>> streams;
  size_t reserved = 0;  // subscriptions being opened
  bool stopping = false;

  impl(runtime& r, gateway_options o) : rt(r), opts(std::move(o)) {}

  /// Admits one call: authentication, role, and for intents the client's rate. Counts the
  /// call for the status reply.
  grpc::Status admit(const grpc::ServerContext& ctx, access need, const char* method,
                     bool intent = false) {
    role granted = role::open;
    if (auto s = authenticate(tokens, ctx, granted); !s.ok())
      return s;
    if (need == access::control && granted == role::read_only)
      return {grpc::StatusCode::PERMISSION_DENIED,
              std::string("authorization: a read-only token may not call ") + method +
                " (it needs a control token)"};
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(clients_mtx);
    if (clients.size() > 1024)
      forget_idle(now);
    auto& c = clients[ctx.peer()];
    if (c.calls == 0) {
      c.bucket = std::max(1.0, opts.max_intents_per_s);
      c.refilled = now;
    }
    c.granted = granted;
    c.last = now;
    ++c.calls;
    if (!intent)
      return grpc::Status::OK;
    if (opts.max_intents_per_s > 0) {
      const double burst = std::max(1.0, opts.max_intents_per_s);
      c.bucket = std::min(burst, c.bucket + std::chrono::duration<double>(now - c.refilled).count() *
                                             opts.max_intents_per_s);
      c.refilled = now;
      if (c.bucket < 1) {
        ++c.limited;
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                "intents: more than " + number_text(opts.max_intents_per_s) +
                  " intents per second from this client; slow down"};
      }
      c.bucket -= 1;
    }
    ++c.intents;
    return grpc::Status::OK;
  }

  static std::string number_text(double x) {
    std::ostringstream os;
    os << x;
    return os.str();
  }

  /// thread: any, with clients_mtx held.
  void forget_idle(std::chrono::steady_clock::time_point now) {
    for (auto it = clients.begin(); it != clients.end();)
      it = it->second.subscriptions == 0 && now - it->second.last > client_idle_forget
             ? clients.erase(it)
             : std::next(it);
  }

  /// The clients for a status reply.
  void describe_clients(v1::StatusReply& reply) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(clients_mtx);
    forget_idle(now);
    for (const auto& [peer, c] : clients) {
      auto* out = reply.add_clients();
      out->set_peer(peer);
      out->set_role(role_name(c.granted));
      out->set_subscriptions(c.subscriptions);
      out->set_calls(c.calls);
      out->set_intents(c.intents);
      out->set_limited(c.limited);
      out->set_idle_s(std::chrono::duration<double>(now - c.last).count());
    }
  }

  /// Registers a new stream, or says why not (stopping, too many subscribers).
  grpc::Status open_stream(const std::string& peer, const v1::SubscribeRequest& req,
                           std::shared_ptr<event_stream>& out) {
    {
      std::lock_guard lock(clients_mtx);
      auto& c = clients[peer];
      if (c.subscriptions >= opts.max_subscribers_per_client) {
        ++c.limited;
        return {grpc::StatusCode::RESOURCE_EXHAUSTED,
                "too many subscriptions from this client (limit " +
                  std::to_string(opts.max_subscribers_per_client) + ")"};
      }
      ++c.subscriptions;
    }
    auto status = open_stream(req, out);
    if (!status.ok())
      release_subscription(peer);
    return status;
  }

  void release_subscription(const std::string& peer) {
    std::lock_guard lock(clients_mtx);
    auto it = clients.find(peer);
    if (it != clients.end() && it->second.subscriptions > 0) {
      --it->second.subscriptions;
      it->second.last = std::chrono::steady_clock::now();
    }
  }

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
          v1::PresetService::service_full_name(), v1::PanelService::service_full_name()})
      health->SetServingStatus(name, on);
  }
};

namespace {

class graph_service final : public v1::GraphService::Service {
public:
  explicit graph_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status ValidateGraph(grpc::ServerContext* ctx, const v1::ValidateGraphRequest* req,
                             v1::ValidateGraphReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "GraphService.ValidateGraph"); !s.ok())
      return s;
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

  grpc::Status GetGraph(grpc::ServerContext* ctx, const v1::GetGraphRequest*,
                        v1::GetGraphReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "GraphService.GetGraph"); !s.ok())
      return s;
    return guarded([&] {
      *reply = gw_.rt.get_graph();
      return grpc::Status::OK;
    });
  }

  /// The running graph as a file; with `committed`, the session values (never overlays).
  grpc::Status ExportGraph(grpc::ServerContext* ctx, const v1::ExportGraphRequest* req,
                           v1::ExportGraphReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "GraphService.ExportGraph"); !s.ok())
      return s;
    return guarded([&] {
      auto running = gw_.rt.get_graph();
      if (running.graph().nodes().empty())
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "graph: no graph is running");
      auto spec = running.graph();
      if (req->committed())
        spec = with_session_values(std::move(spec), gw_.rt.snapshot());
      reply->set_yaml(export_graph_yaml(
        spec, "exported by studiograph " STUDIOGRAPH_VERSION " at graph_rev " +
                std::to_string(running.graph_rev()) +
                (req->committed() ? " with session values" : " as loaded")));
      reply->set_graph_rev(running.graph_rev());
      return grpc::Status::OK;
    });
  }

  /// The graph comes as YAML and is validated here in full before the runtime sees it; an
  /// invalid graph changes nothing and every diagnostic is in the status message.
  grpc::Status ApplyGraph(grpc::ServerContext* ctx, const v1::ApplyGraphRequest* req,
                          v1::ApplyGraphReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "GraphService.ApplyGraph"); !s.ok())
      return s;
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

  grpc::Status ListNodeTypes(grpc::ServerContext* ctx, const v1::ListNodeTypesRequest*,
                             v1::ListNodeTypesReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "NodeService.ListNodeTypes"); !s.ok())
      return s;
    return guarded([&] {
      *reply = gw_.rt.list_node_types();
      return grpc::Status::OK;
    });
  }

  grpc::Status ListNodes(grpc::ServerContext* ctx, const v1::ListNodesRequest*,
                         v1::ListNodesReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "NodeService.ListNodes"); !s.ok())
      return s;
    return guarded([&] {
      *reply = gw_.rt.list_nodes();
      return grpc::Status::OK;
    });
  }

  grpc::Status GetNode(grpc::ServerContext* ctx, const v1::GetNodeRequest* req,
                       v1::GetNodeReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "NodeService.GetNode"); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.get_node(*req), *reply); });
  }

  grpc::Status SetParam(grpc::ServerContext* ctx, const v1::SetParamRequest* req,
                        v1::SetParamReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "NodeService.SetParam", true); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->param().empty())
      return invalid("param", "must not be empty");
    if (req->value().kind_case() == v1::Value::KIND_NOT_SET)
      return invalid("value", "not set");
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    return guarded([&] { return unwrap(gw_.rt.set_param(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status Trigger(grpc::ServerContext* ctx, const v1::TriggerRequest* req,
                       v1::TriggerReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "NodeService.Trigger", true); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->kind() == v1::TriggerRequest::KIND_UNSPECIFIED)
      return invalid("kind", "not set (trigger, note_on, note_off or stop)");
    if (req->delay_ms() > 60000)
      return invalid("delay_ms", "longer than 60000 ms");
    return guarded([&] { return unwrap(gw_.rt.trigger(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status Settle(grpc::ServerContext* ctx, const v1::SettleRequest* req,
                      v1::SetParamReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "NodeService.Settle", true); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->source().empty())
      return invalid("source", "must not be empty");
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    return guarded([&] { return unwrap(gw_.rt.settle(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status SetParams(grpc::ServerContext* ctx, const v1::SetParamsRequest* req,
                         v1::SetParamsReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "NodeService.SetParams", true); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->params().empty())
      return invalid("params", "no parameters given");
    if (req->params_size() > max_batch)
      return {grpc::StatusCode::RESOURCE_EXHAUSTED,
              "params: more than " + std::to_string(max_batch) + " entries"};
    for (int i = 0; i < req->params_size(); ++i) {
      const std::string at = "params[" + std::to_string(i) + "]";
      if (req->params(i).param().empty())
        return invalid(at + ".param", "must not be empty");
      if (req->params(i).value().kind_case() == v1::Value::KIND_NOT_SET)
        return invalid(at + ".value", "not set");
    }
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    return guarded([&] { return unwrap(gw_.rt.set_params(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status Bypass(grpc::ServerContext* ctx, const v1::BypassRequest* req,
                      v1::BypassReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "NodeService.Bypass", true); !s.ok())
      return s;
    if (req->node().empty())
      return invalid("node", "must not be empty");
    if (req->origin().client_id().size() > max_client_id)
      return invalid("origin.client_id",
                     "longer than " + std::to_string(max_client_id) + " characters");
    return guarded([&] { return unwrap(gw_.rt.bypass(with_origin(*req, *ctx)), *reply); });
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
    if (auto s = gw_.admit(*ctx, access::read, "EventService.Subscribe"); !s.ok())
      return s;
    for (int i = 0; i < req->nodes_size(); ++i)
      if (req->nodes(i).empty())
        return invalid("nodes[" + std::to_string(i) + "]", "must not be empty");
    for (int i = 0; i < req->kinds_size(); ++i)
      if (req->kinds(i) == v1::EVENT_KIND_UNSPECIFIED || !v1::EventKind_IsValid(req->kinds(i)))
        return invalid("kinds[" + std::to_string(i) + "]",
                       "unknown event kind " + std::to_string(req->kinds(i)));
    std::shared_ptr<event_stream> stream;
    const std::string peer = ctx->peer();
    if (auto status = gw_.open_stream(peer, *req, stream); !status.ok())
      return status;
    auto status = pump(*ctx, *stream, *writer);
    gw_.close_stream(stream);
    gw_.release_subscription(peer);
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
      // One plain Write per event. A synchronous Write with buffer_hint waits until its
      // buffered message is flushed, which only a later Write would do: under load (several
      // events queued at once) the stream stalled for tens of seconds.
      if (!writer.Write(ev))
        return {grpc::StatusCode::CANCELLED, "client went away"};
    }
    return {grpc::StatusCode::CANCELLED, "cancelled by the client"};
  }

  gateway::impl& gw_;
};

/// Preset names: what a file name or a menu entry can hold.
expected<void> check_preset_name(const std::string& name) {
  if (name.empty())
    return unexpected("must not be empty");
  if (name.size() > 128)
    return unexpected("longer than 128 characters");
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != ' ' && c != '.' && c != '_' && c != '-')
      return unexpected("may hold letters, digits, space, '.', '_' and '-' only");
  return {};
}

class preset_service final : public v1::PresetService::Service {
public:
  explicit preset_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status SavePreset(grpc::ServerContext* ctx, const v1::SavePresetRequest* req,
                          v1::SavePresetReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PresetService.SavePreset"); !s.ok())
      return s;
    if (auto named = check_preset_name(req->name()); !named)
      return invalid("name", named.error());
    for (int i = 0; i < req->nodes_size(); ++i)
      if (req->nodes(i).empty())
        return invalid("nodes[" + std::to_string(i) + "]", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.save_preset(*req), *reply); });
  }

  grpc::Status LoadPreset(grpc::ServerContext* ctx, const v1::LoadPresetRequest* req,
                          v1::LoadPresetReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PresetService.LoadPreset", true); !s.ok())
      return s;
    if (auto named = check_preset_name(req->name()); !named)
      return invalid("name", named.error());
    return guarded([&] { return unwrap(gw_.rt.load_preset(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status ListPresets(grpc::ServerContext* ctx, const v1::ListPresetsRequest*,
                           v1::ListPresetsReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "PresetService.ListPresets"); !s.ok())
      return s;
    return guarded([&] { return unwrap(gw_.rt.list_presets(), *reply); });
  }

  grpc::Status DeletePreset(grpc::ServerContext* ctx, const v1::DeletePresetRequest* req,
                            v1::DeletePresetReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PresetService.DeletePreset"); !s.ok())
      return s;
    if (auto named = check_preset_name(req->name()); !named)
      return invalid("name", named.error());
    return guarded([&] { return unwrap(gw_.rt.delete_preset(*req), *reply); });
  }

private:
  gateway::impl& gw_;
};

class system_service final : public v1::SystemService::Service {
public:
  explicit system_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status GetStatus(grpc::ServerContext* ctx, const v1::StatusRequest*,
                         v1::StatusReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "SystemService.GetStatus"); !s.ok())
      return s;
    return guarded([&] {
      *reply = gw_.rt.status();
      gw_.describe_clients(*reply);
      reply->set_tls(!gw_.opts.tls_cert.empty());
      reply->set_auth(!gw_.tokens.empty());
      return grpc::Status::OK;
    });
  }

private:
  gateway::impl& gw_;
};

class panel_service final : public v1::PanelService::Service {
public:
  explicit panel_service(gateway::impl& gw) : gw_(gw) {}

  grpc::Status ListPanels(grpc::ServerContext* ctx, const v1::ListPanelsRequest*,
                          v1::ListPanelsReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "PanelService.ListPanels"); !s.ok())
      return s;
    return guarded([&] { return unwrap(gw_.rt.list_panels(), *reply); });
  }

  grpc::Status GetPanel(grpc::ServerContext* ctx, const v1::GetPanelRequest* req,
                        v1::PanelReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::read, "PanelService.GetPanel"); !s.ok())
      return s;
    if (req->id().empty())
      return invalid("id", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.get_panel(*req), *reply); });
  }

  grpc::Status PutPanel(grpc::ServerContext* ctx, const v1::PutPanelRequest* req,
                        v1::PanelReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PanelService.PutPanel", true); !s.ok())
      return s;
    return guarded([&] { return unwrap(gw_.rt.put_panel(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status ActivatePanel(grpc::ServerContext* ctx, const v1::ActivatePanelRequest* req,
                             v1::PanelReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PanelService.ActivatePanel", true); !s.ok())
      return s;
    if (req->id().empty())
      return invalid("id", "must not be empty");
    return guarded(
      [&] { return unwrap(gw_.rt.activate_panel(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status DeletePanel(grpc::ServerContext* ctx, const v1::DeletePanelRequest* req,
                           v1::PanelReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PanelService.DeletePanel", true); !s.ok())
      return s;
    if (req->id().empty())
      return invalid("id", "must not be empty");
    return guarded([&] { return unwrap(gw_.rt.delete_panel(with_origin(*req, *ctx)), *reply); });
  }

  grpc::Status Learn(grpc::ServerContext* ctx, const v1::LearnRequest* req,
                     v1::LearnReply* reply) override {
    if (auto s = gw_.admit(*ctx, access::control, "PanelService.Learn", true); !s.ok())
      return s;
    if (req->target().empty())
      return invalid("target", "expected NODE.PARAM (a knob) or NODE (a pad that triggers it)");
    return guarded([&] { return unwrap(gw_.rt.learn(with_origin(*req, *ctx)), *reply); });
  }

private:
  gateway::impl& gw_;
};

/// The services, kept alive as long as the server that references them.
struct services {
  graph_service graph;
  node_service node;
  event_service events;
  system_service system;
  preset_service presets;
  panel_service panels;
  explicit services(gateway::impl& gw)
    : graph(gw), node(gw), events(gw), system(gw), presets(gw), panels(gw) {}
};

} // namespace

// --- gateway ----------------------------------------------------------------------------

gateway::gateway(runtime& rt, gateway_options opts)
  : impl_(std::make_unique<impl>(rt, std::move(opts))) {}

gateway::~gateway() {
  stop();
}

expected<void> gateway::start() {
  if (impl_->server)
    return unexpected("gateway already started on " + impl_->address);
  if (auto checked = check_gateway_options(impl_->opts); !checked)
    return checked;
  auto hp = parse_listen(impl_->opts.listen);
  if (!hp)
    return unexpected(hp.error());
  std::vector<token_entry> tokens;
  if (!impl_->opts.token_file.empty()) {
    auto loaded = load_tokens(impl_->opts.token_file);
    if (!loaded)
      return unexpected(loaded.error());
    tokens = std::move(*loaded);
  }
  auto creds = make_credentials(impl_->opts);
  if (!creds)
    return unexpected(creds.error());
  impl_->tokens = std::move(tokens);

  grpc::EnableDefaultHealthCheckService(true);
  auto svc = std::make_shared<services>(*impl_);
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<reflection_option>(impl_->opts.reflection));
  int port = 0;
  builder.AddListeningPort(impl_->opts.listen, *creds, &port);
  // Without this a second server on the same port binds too and steals half the calls.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // Find vanished subscribers so their slots and threads come back.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.SetMaxReceiveMessageSize(
    static_cast<int>(std::min<size_t>(impl_->opts.max_message_bytes, INT_MAX)));
  builder.SetMaxSendMessageSize(
    static_cast<int>(std::min<size_t>(4 * impl_->opts.max_message_bytes, INT_MAX)));
  builder.RegisterService(&svc->graph);
  builder.RegisterService(&svc->node);
  builder.RegisterService(&svc->events);
  builder.RegisterService(&svc->system);
  builder.RegisterService(&svc->presets);
  builder.RegisterService(&svc->panels);
  auto server = builder.BuildAndStart();
  if (!server || port == 0)
    return unexpected("cannot bind " + impl_->opts.listen + " (address in use or not available)");

  std::lock_guard lock(impl_->mtx);
  impl_->stopping = false;
  impl_->server = std::move(server);
  impl_->services = std::move(svc);
  impl_->address = (hp->bracketed ? "[" + hp->host + "]" : hp->host) + ":" + std::to_string(port);
  impl_->apply_serving();
  impl_->rt.set_gateway_address(impl_->address);
  return {};
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
