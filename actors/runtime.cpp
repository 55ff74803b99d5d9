#include "actors/runtime.hpp"

#include <algorithm>
#include <thread>

#include <caf/io/all.hpp>

#include "actors/host.hpp"
#include "actors/hub.hpp"
#include "graph/params.hpp"

namespace sg {

// -- event_stream ---------------------------------------------------------------------------

bool event_stream::next(v1::Event& out, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mtx_);
  if (!cv_.wait_for(lock, timeout, [this] { return !queue_.empty() || closed_; }))
    return false;
  if (queue_.empty())
    return false;
  out = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

void event_stream::close() {
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    if (closed_)
      return;
    closed_ = true;
    f = std::move(on_close_);
  }
  cv_.notify_all();
  if (f)
    f();
}

bool event_stream::closed() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return closed_;
}

uint64_t event_stream::resyncs() const {
  std::lock_guard<std::mutex> lock(mtx_);
  return resyncs_;
}

bool event_stream::push(v1::Event ev) {
  bool ok = true;
  {
    std::lock_guard<std::mutex> lock(mtx_);
    if (closed_)
      return true;
    if (resync_pending_ && !ev.has_snapshot())
      return true;  // superseded by the Snapshot the hub is about to send
    resync_pending_ = false;
    if (queue_.size() >= capacity_) {
      // Fallen behind: drop the backlog and every delta until the hub's fresh Snapshot.
      queue_.clear();
      ++resyncs_;
      resync_pending_ = true;
      ok = false;
    } else {
      queue_.push_back(std::move(ev));
    }
  }
  cv_.notify_one();
  return ok;
}

void event_stream::on_close(std::function<void()> f) {
  std::lock_guard<std::mutex> lock(mtx_);
  on_close_ = std::move(f);
}

// -- runtime --------------------------------------------------------------------------------

namespace {

struct sg_config : caf::actor_system_config {
  explicit sg_config(const runtime_options& opts) {
    add_message_types<caf::id_block::studiograph>();
    load<caf::io::middleman>();
    // One worker per core (CAF's default is at least four), and idle workers go to sleep on
    // their condition variable almost at once instead of polling every 50 us: on a 2-core
    // studio box the default polling costs ~20% CPU that the audio threads need.
    const size_t cores = std::max(2u, std::thread::hardware_concurrency());
    set("scheduler.max-threads", opts.scheduler_threads > 0 ? opts.scheduler_threads : cores);
    set("work-stealing.aggressive-poll-attempts", size_t{20});
    set("work-stealing.moderate-poll-attempts", size_t{0});
    set("logger.console", caf::atom("none"));
  }
};

const auto process_start = std::chrono::steady_clock::now();

} // namespace

struct runtime::impl {
  explicit impl(const runtime_options& o) : opts(o), cfg(o), sys(cfg) {
    hub = spawn_hub(sys);
    host_options ho;
    ho.state_path = o.state_path;
    ho.node.default_settle = o.overlay_settle;
    ho.node.max_queued = o.max_held_intents;
    host = spawn_host(sys, hub, std::move(ho));
  }

  /// A scoped actor for one blocking request, taken from a pool: making one per request
  /// costs about as much as the request itself (measured by bench_gateway latency).
  std::unique_ptr<caf::scoped_actor> take_requester() {
    {
      std::lock_guard<std::mutex> lock(pool_mtx);
      if (!pool.empty()) {
        auto self = std::move(pool.back());
        pool.pop_back();
        return self;
      }
    }
    return std::make_unique<caf::scoped_actor>(sys);
  }

  /// Back to the pool after a request that was answered (one that timed out may still get
  /// its late reply, so its actor is dropped instead).
  void give_back(std::unique_ptr<caf::scoped_actor> self) {
    std::lock_guard<std::mutex> lock(pool_mtx);
    if (!pool_closed && pool.size() < 64)
      pool.push_back(std::move(self));
  }

  /// One blocking request; a transport error becomes `on_error(message)`.
  template <class Reply, class Handle, class Request, class OnError>
  Reply call(const Handle& dest, Request req, OnError on_error,
             std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) {
    auto self = take_requester();
    Reply out;
    bool answered = false;
    (*self)
      ->request(dest, timeout.count() > 0 ? timeout : opts.request_timeout, std::move(req))
      .receive([&](Reply& r) { out = std::move(r), answered = true; },
               [&](caf::error& err) { out = on_error(caf::to_string(err)); });
    if (answered)
      give_back(std::move(self));
    return out;
  }

  template <class Reply>
  static Reply unavailable(const std::string& why) {
    return status_reply<Reply>(code_unavailable, {}, "actor system: " + why);
  }

  template <class Reply>
  static Reply thrower(const std::string& why) {
    throw runtime_unavailable("actor system: " + why);
  }

  runtime_options opts;
  sg_config cfg;
  caf::actor_system sys;
  hub_actor hub;
  host_actor host;
  std::mutex mtx;
  std::string gateway_address;
  std::vector<std::weak_ptr<event_stream>> streams;
  bool down = false;
  std::mutex pool_mtx;
  std::vector<std::unique_ptr<caf::scoped_actor>> pool;  // guarded by pool_mtx
  bool pool_closed = false;                               // guarded by pool_mtx
};

runtime::runtime(runtime_options opts) : impl_(std::make_unique<impl>(opts)) {
}

runtime::~runtime() {
  shutdown();
}

v1::ApplyGraphReply runtime::apply_graph(const v1::GraphSpec& spec) {
  v1::ApplyGraphRequest req;
  *req.mutable_graph() = spec;
  return impl_->call<v1::ApplyGraphReply>(impl_->host, std::move(req),
                                          impl::unavailable<v1::ApplyGraphReply>);
}

v1::ListNodeTypesReply runtime::list_node_types() {
  v1::ListNodeTypesReply reply;
  for (const auto& info : node_registry::builtin().all())
    *reply.add_types() = to_descriptor(info);
  return reply;
}

v1::ListNodesReply runtime::list_nodes() {
  return impl_->call<v1::ListNodesReply>(impl_->host, v1::ListNodesRequest{},
                                         impl::thrower<v1::ListNodesReply>);
}

v1::GetNodeReply runtime::get_node(const v1::GetNodeRequest& req) {
  return impl_->call<v1::GetNodeReply>(impl_->host, req, impl::unavailable<v1::GetNodeReply>);
}

v1::SetParamReply runtime::set_param(const v1::SetParamRequest& req) {
  return impl_->call<v1::SetParamReply>(impl_->host, req,
                                        impl::unavailable<v1::SetParamReply>);
}

void runtime::post(const v1::SetParamRequest& req) {
  caf::anon_send(impl_->host, req);
}

v1::TriggerReply runtime::trigger(const v1::TriggerRequest& req) {
  return impl_->call<v1::TriggerReply>(impl_->host, req, impl::unavailable<v1::TriggerReply>);
}

v1::SetParamsReply runtime::set_params(const v1::SetParamsRequest& req) {
  return impl_->call<v1::SetParamsReply>(impl_->host, req,
                                         impl::unavailable<v1::SetParamsReply>);
}

v1::BypassReply runtime::bypass(const v1::BypassRequest& req) {
  return impl_->call<v1::BypassReply>(impl_->host, req, impl::unavailable<v1::BypassReply>);
}

v1::Snapshot runtime::snapshot() {
  return impl_->call<v1::Snapshot>(impl_->hub, caf::get_atom_v, impl::thrower<v1::Snapshot>);
}

v1::SetParamReply runtime::settle(const v1::SettleRequest& req) {
  return impl_->call<v1::SetParamReply>(impl_->host, req,
                                        impl::unavailable<v1::SetParamReply>);
}

v1::SavePresetReply runtime::save_preset(const v1::SavePresetRequest& req) {
  return impl_->call<v1::SavePresetReply>(impl_->host, req,
                                          impl::unavailable<v1::SavePresetReply>);
}

v1::LoadPresetReply runtime::load_preset(const v1::LoadPresetRequest& req) {
  return impl_->call<v1::LoadPresetReply>(impl_->host, req,
                                          impl::unavailable<v1::LoadPresetReply>);
}

v1::ListPresetsReply runtime::list_presets() {
  return impl_->call<v1::ListPresetsReply>(impl_->host, v1::ListPresetsRequest{},
                                           impl::unavailable<v1::ListPresetsReply>);
}

v1::DeletePresetReply runtime::delete_preset(const v1::DeletePresetRequest& req) {
  return impl_->call<v1::DeletePresetReply>(impl_->host, req,
                                            impl::unavailable<v1::DeletePresetReply>);
}

v1::ListPanelsReply runtime::list_panels() {
  return impl_->call<v1::ListPanelsReply>(impl_->host, v1::ListPanelsRequest{},
                                          impl::unavailable<v1::ListPanelsReply>);
}

v1::PanelReply runtime::get_panel(const v1::GetPanelRequest& req) {
  return impl_->call<v1::PanelReply>(impl_->host, req, impl::unavailable<v1::PanelReply>);
}

v1::PanelReply runtime::put_panel(const v1::PutPanelRequest& req) {
  return impl_->call<v1::PanelReply>(impl_->host, req, impl::unavailable<v1::PanelReply>);
}

v1::PanelReply runtime::activate_panel(const v1::ActivatePanelRequest& req) {
  return impl_->call<v1::PanelReply>(impl_->host, req, impl::unavailable<v1::PanelReply>);
}

v1::PanelReply runtime::delete_panel(const v1::DeletePanelRequest& req) {
  return impl_->call<v1::PanelReply>(impl_->host, req, impl::unavailable<v1::PanelReply>);
}

v1::LearnReply runtime::learn(const v1::LearnRequest& req) {
  // The authority answers when a control moves or its own timeout passes; wait a little
  // longer than that.
  const auto wait = std::chrono::milliseconds(req.timeout_ms() ? req.timeout_ms() : 30000) +
                    impl_->opts.request_timeout;
  return impl_->call<v1::LearnReply>(impl_->host, req, impl::unavailable<v1::LearnReply>, wait);
}

uint64_t runtime::flush_state() {
  caf::scoped_actor self{impl_->sys};
  uint64_t batch = 0;
  self->request(impl_->host, impl_->opts.request_timeout, sg::flush_atom_v)
    .receive([&](uint64_t b) { batch = b; },
             [&](caf::error& err) { throw runtime_unavailable(caf::to_string(err)); });
  return batch;
}

v1::GetGraphReply runtime::get_graph() {
  return impl_->call<v1::GetGraphReply>(impl_->host, v1::GetGraphRequest{},
                                        impl::thrower<v1::GetGraphReply>);
}

v1::StatusReply runtime::status() {
  auto reply = impl_->call<v1::StatusReply>(impl_->host, v1::StatusRequest{},
                                            impl::thrower<v1::StatusReply>);
  // Devices measure per-node load over their status period and publish it; the hub's mirror
  // holds the latest measurement.
  const auto mirror = snapshot();
  for (auto& d : *reply.mutable_devices())
    for (const auto& known : mirror.devices())
      if (d.node_loads().empty() && known.device() == d.device())
        *d.mutable_node_loads() = known.node_loads();
  reply.set_version(STUDIOGRAPH_VERSION);
  reply.set_uptime_s(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - process_start).count());
  std::lock_guard<std::mutex> lock(impl_->mtx);
  reply.set_gateway_address(impl_->gateway_address);
  return reply;
}

std::shared_ptr<event_stream> runtime::subscribe(const v1::SubscribeRequest& req,
                                                 size_t capacity) {
  auto stream = std::make_shared<event_stream>(capacity);
  auto hub = impl_->hub;
  // The sink is an ordinary actor, so a subscriber on another host works the same way.
  auto sink = impl_->sys.spawn([stream, hub](caf::event_based_actor* self) -> caf::behavior {
    return {
      [self, stream, hub](v1::Event& ev) {
        if (!stream->push(std::move(ev)))
          self->send(hub, sg::resync_atom_v);
      },
    };
  });
  caf::scoped_actor self{impl_->sys};
  uint64_t id = 0;
  bool ok = false;
  self->request(hub, impl_->opts.request_timeout, caf::subscribe_atom_v, sink, req)
    .receive([&](uint64_t x) { id = x, ok = true; }, [&](caf::error&) {});
  stream->on_close([hub, sink, id] {
    caf::anon_send(hub, caf::unsubscribe_atom_v, id);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  });
  if (!ok) {
    stream->close();
    return stream;
  }
  std::lock_guard<std::mutex> lock(impl_->mtx);
  impl_->streams.push_back(stream);
  return stream;
}

void runtime::set_gateway_address(const std::string& address) {
  std::lock_guard<std::mutex> lock(impl_->mtx);
  impl_->gateway_address = address;
}

void runtime::shutdown() {
  std::vector<std::weak_ptr<event_stream>> streams;
  {
    std::lock_guard<std::mutex> lock(impl_->mtx);
    if (impl_->down)
      return;
    impl_->down = true;
    streams.swap(impl_->streams);
  }
  for (auto& w : streams)
    if (auto s = w.lock())
      s->close();
  {
    std::lock_guard<std::mutex> lock(impl_->pool_mtx);
    impl_->pool_closed = true;
    impl_->pool.clear();
  }
  caf::anon_send_exit(impl_->host, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(impl_->hub, caf::exit_reason::user_shutdown);
  impl_->sys.await_all_actors_done();
}

} // namespace sg
