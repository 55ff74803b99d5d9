#include "apps/client/state_client.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "actors/gateway/security.hpp"

namespace sg {

expected<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return unexpected("token file '" + path + "' cannot be read");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first, second;
    if (!(words >> first) || first.front() == '#')
      continue;
    return (words >> second) ? second : first;
  }
  return unexpected("token file '" + path + "' holds no token");
}

expected<std::shared_ptr<grpc::ChannelCredentials>>
channel_credentials(const client_security& sec) {
  if (!sec.tls && sec.tls_ca.empty() && sec.tls_cert.empty() && sec.tls_key.empty())
    return grpc::InsecureChannelCredentials();
  if (sec.tls_cert.empty() != sec.tls_key.empty())
    return unexpected("a TLS client certificate needs both --tls-cert and --tls-key");
  grpc::SslCredentialsOptions ssl;
  if (!sec.tls_ca.empty()) {
    auto ca = read_pem(sec.tls_ca, "TLS CA");
    if (!ca)
      return unexpected(ca.error());
    ssl.pem_root_certs = std::move(*ca);
  }
  if (!sec.tls_cert.empty()) {
    auto cert = read_pem(sec.tls_cert, "TLS certificate");
    if (!cert)
      return unexpected(cert.error());
    auto key = read_pem(sec.tls_key, "TLS key");
    if (!key)
      return unexpected(key.error());
    ssl.pem_cert_chain = std::move(*cert);
    ssl.pem_private_key = std::move(*key);
  }
  return grpc::SslCredentials(ssl);
}

void authorize(grpc::ClientContext& ctx, const client_options& opts) {
  if (!opts.security.token.empty())
    ctx.AddMetadata("authorization", "Bearer " + opts.security.token);
}

std::chrono::milliseconds backoff_delay(const client_options& opts, unsigned failures,
                                        double unit) {
  double ms = static_cast<double>(opts.backoff_initial.count()) *
              std::pow(opts.backoff_factor, static_cast<double>(std::min(failures, 64u)));
  ms = std::min(ms, static_cast<double>(opts.backoff_max.count()));
  ms *= 1 + opts.jitter * (2 * std::clamp(unit, 0.0, 1.0) - 1);
  return std::chrono::milliseconds(static_cast<int64_t>(std::max(ms, 0.0)));
}

std::shared_ptr<grpc::Channel> make_channel(const std::string& address,
                                            const client_options& opts) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(opts.backoff_initial.count()));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(opts.backoff_max.count()));
  // GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays unset: gRPC also uses it as the connect timeout
  // (20 s by default), and a short one aborts handshakes on a busy machine.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (!opts.security.tls_server_name.empty())
    args.SetSslTargetNameOverride(opts.security.tls_server_name);
  auto creds = channel_credentials(opts.security);
  // Unreadable files: calls fail instead of going plain.
  return grpc::CreateCustomChannel(address, creds ? *creds : grpc::SslCredentials({}), args);
}

state_client::state_client(std::shared_ptr<grpc::Channel> channel, std::string client_id,
                           client_options opts)
  : state_client([channel] { return channel; }, std::move(client_id), opts) {}

state_client::state_client(channel_factory make_channel, std::string client_id,
                           client_options opts)
  : make_channel_(std::move(make_channel)),
    client_id_(std::move(client_id)),
    opts_(opts),
    channel_(make_channel_()),
    mirror_(client_id_) {}

state_client::~state_client() {
  stop();
}

std::unique_ptr<grpc::ClientContext> state_client::unary_context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  authorize(*ctx, opts_);
  ctx->set_deadline(std::chrono::system_clock::now() + opts_.timeout);
  return ctx;
}

std::shared_ptr<grpc::Channel> state_client::channel() const {
  std::lock_guard lock(mtx_);
  return channel_;
}

bool state_client::echoes(const std::string& node) const {
  if (!watching_)
    return false;
  const auto& kinds = filter_.kinds();
  const auto& nodes = filter_.nodes();
  return (kinds.empty() ||
          std::find(kinds.begin(), kinds.end(), v1::EVENT_KIND_PARAM_CHANGED) != kinds.end()) &&
         (nodes.empty() || std::find(nodes.begin(), nodes.end(), node) != nodes.end());
}

void state_client::finish(uint64_t rev, const grpc::Status& status, const std::string& node,
                          uint64_t node_rev) {
  std::lock_guard lock(mtx_);
  if (!status.ok())
    mirror_.reject(rev);  // if it was applied after all, its echo still arrives
  else
    mirror_.acknowledge(rev, echoes(node) ? node_rev : 0);
}

grpc::Status state_client::set(const std::string& node, const std::string& param,
                               const v1::Value& value, const set_options& opts,
                               v1::SetParamReply* reply) {
  v1::SetParamRequest req;
  req.set_node(node);
  req.set_param(param);
  *req.mutable_value() = value;
  req.set_persist(opts.persist);
  req.set_overlay_source(opts.overlay_source);
  req.set_settle_ms(opts.settle_ms);
  req.mutable_origin()->set_client_id(client_id_);
  {
    std::lock_guard lock(mtx_);
    req.mutable_origin()->set_client_rev(mirror_.note_intent(node, param, value, opts));
  }
  v1::SetParamReply local;
  auto* out = reply ? reply : &local;
  auto status = v1::NodeService::NewStub(channel())->SetParam(unary_context().get(), req, out);
  finish(req.origin().client_rev(), status, node, out->applied().node_rev());
  return status;
}

grpc::Status state_client::settle(const std::string& node, const std::string& param,
                                  const std::string& source, v1::SetParamReply* reply) {
  v1::SettleRequest req;
  req.set_node(node);
  req.set_param(param);
  req.set_source(source);
  req.mutable_origin()->set_client_id(client_id_);
  {
    std::lock_guard lock(mtx_);
    req.mutable_origin()->set_client_rev(mirror_.note_settle(node, param, source));
  }
  v1::SetParamReply local;
  auto* out = reply ? reply : &local;
  auto status = v1::NodeService::NewStub(channel())->Settle(unary_context().get(), req, out);
  finish(req.origin().client_rev(), status, node, out->applied().node_rev());
  return status;
}

grpc::Status state_client::load_preset(const std::string& name, bool persist,
                                       v1::LoadPresetReply* reply) {
  v1::LoadPresetRequest req;
  req.set_name(name);
  req.set_persist(persist);
  req.mutable_origin()->set_client_id(client_id_);
  {
    std::lock_guard lock(mtx_);
    req.mutable_origin()->set_client_rev(mirror_.next_rev());
  }
  v1::LoadPresetReply local;
  auto stub = v1::PresetService::NewStub(channel());
  return stub->LoadPreset(unary_context().get(), req, reply ? reply : &local);
}

void state_client::watch(event_callback on_event, v1::SubscribeRequest filter,
                         disconnect_callback on_disconnect) {
  stop();
  std::lock_guard lock(mtx_);
  stopping_ = false;
  watching_ = true;
  filter_ = filter;
  thread_ = std::thread([this, on_event = std::move(on_event), filter = std::move(filter),
                         on_disconnect = std::move(on_disconnect)]() mutable {
    run(std::move(on_event), std::move(filter), std::move(on_disconnect));
  });
}

void state_client::run(event_callback on_event, v1::SubscribeRequest filter,
                       disconnect_callback on_disconnect) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  unsigned failures = 0;
  for (bool first = true; !stopping_; first = false) {
    auto ctx = std::make_shared<grpc::ClientContext>();
    authorize(*ctx, opts_);
    auto channel = first ? this->channel() : make_channel_();
    {
      std::lock_guard lock(mtx_);
      if (stopping_)
        break;
      stream_ctx_ = ctx;
      channel_ = channel;
    }
    if (!first)
      ++reconnects_;
    auto reader = v1::EventService::NewStub(channel)->Subscribe(ctx.get(), filter);
    v1::Event ev;
    while (reader->Read(&ev)) {
      bool applied = false;
      {
        std::lock_guard lock(mtx_);
        applied = mirror_.apply(ev);
      }
      if (ev.has_snapshot()) {
        connected_ = true;
        failures = 0;
      }
      if (on_event)
        on_event(ev, applied);
    }
    connected_ = false;
    const auto status = reader->Finish();
    {
      std::lock_guard lock(mtx_);
      stream_ctx_.reset();
    }
    if (stopping_)
      break;
    const auto retry_in = backoff_delay(opts_, failures++, unit(rng));
    if (on_disconnect && !on_disconnect(status, retry_in))
      break;
    std::unique_lock lock(mtx_);
    wake_.wait_for(lock, retry_in, [this] { return stopping_.load(); });
  }
  std::lock_guard lock(mtx_);
  watching_ = false;
}

void state_client::request_stop() {
  std::lock_guard lock(mtx_);
  stopping_ = true;
  if (stream_ctx_)
    stream_ctx_->TryCancel();
  wake_.notify_all();
}

void state_client::stop() {
  request_stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

state_mirror state_client::mirror() const {
  std::lock_guard lock(mtx_);
  return mirror_;
}

} // namespace sg
