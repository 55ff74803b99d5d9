/// The event stream: `watch` prints every event, `top` redraws a view built from them. Both
/// follow the stream through sg::state_client, which reconnects with backoff and reseeds from
/// each new Snapshot.

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "nodes/core/expected.hpp"

namespace sg::sgctl {
namespace {

std::optional<v1::EventKind> parse_kind(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  v1::EventKind k{};
  if (v1::EventKind_Parse("EVENT_KIND_" + name, &k) || v1::EventKind_Parse(name, &k))
    if (k != v1::EVENT_KIND_UNSPECIFIED)
      return k;
  return std::nullopt;
}

/// The subscription `watch` asks for (--node, --kind), or the usage message of a kind it does
/// not know.
sg::expected<v1::SubscribeRequest> watch_filter(const watch_options& w) {
  v1::SubscribeRequest req;
  for (const auto& n : w.nodes)
    req.add_nodes(n);
  for (const auto& k : w.kinds) {
    auto kind = parse_kind(k);
    if (!kind)
      return sg::unexpected("watch: unknown event kind '" + k +
                            "' (param_changed, node_status, device_status, graph_applied, "
                            "meter, snapshot, preset_loaded, durable, bypass, midi, panel)");
    req.add_kinds(*kind);
  }
  return req;
}

/// A subscription that ended this way may come back: the server went away or is stopping
/// (CANCELLED here is never ours: a stopping server cancels the calls it still holds).
bool server_gone(const grpc::Status& status) {
  return status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

/// What `top` shows, rebuilt from the event stream: the Snapshot seeds it (also after a
/// reconnect), device status and meter events keep it current.
struct top_view {
  struct node_row {
    std::string id, type, device;
    v1::NodeStatus::State state{};
    bool bypassed = false;
  };
  std::string graph;
  uint64_t graph_rev = 0;
  std::vector<node_row> nodes;
  std::map<std::string, v1::DeviceStatus> devices;
  std::map<std::string, v1::MeterLevels> meters;
  uint64_t events = 0;
  uint64_t retries = 0;  // subscription attempts after the first
  std::string link = "connecting";

  void seed(const v1::Snapshot& snap) {
    graph = snap.graph_name();
    graph_rev = snap.graph_rev();
    nodes.clear();
    for (const auto& n : snap.nodes())
      nodes.push_back({n.id(), n.type(), n.device(), n.state(), n.bypassed()});
    devices.clear();
    for (const auto& d : snap.devices())
      devices[d.device()] = d;
    link = "connected";
  }

  void apply(const v1::Event& ev) {
    ++events;
    switch (ev.body_case()) {
    case v1::Event::kSnapshot:
      seed(ev.snapshot());
      break;
    case v1::Event::kDeviceStatus:
      devices[ev.device_status().device()] = ev.device_status();
      break;
    case v1::Event::kMeter:
      meters[ev.meter().node()] = ev.meter();
      break;
    case v1::Event::kNodeStatus:
      for (auto& n : nodes)
        if (n.id == ev.node_status().node())
          n.state = ev.node_status().state();
      break;
    case v1::Event::kBypassed:
      for (auto& n : nodes)
        if (n.id == ev.bypassed().node())
          n.bypassed = ev.bypassed().bypassed();
      break;
    case v1::Event::kGraphApplied:
      graph = ev.graph_applied().name();
      graph_rev = ev.graph_applied().graph_rev();
      break;
    default:
      break;
    }
  }

  /// The load of `node` from its device's latest status, if reported.
  std::optional<double> node_load(const std::string& node) const {
    for (const auto& [name, d] : devices)
      for (const auto& nl : d.node_loads())
        if (nl.node() == node)
          return nl.load();
    return std::nullopt;
  }

  void print(std::ostream& os, const std::string& addr) const {
    char now[16];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(now, sizeof now, "%H:%M:%S", &tm);
    os << "studiograph top  " << addr << "  graph " << or_dash(graph) << " rev " << graph_rev
       << "  " << now << "  " << link << "  events " << events << "  retries " << retries << "\n\n";
    table dev{{"DEVICE", "STATE", "BACKEND", "RATE", "BLOCK", "IN/OUT", "LATENCY IN/OUT",
               "BLOCKS", "XRUNS", "LOAD", "PEAK", "RT"}};
    for (const auto& [name, d] : devices)
      dev.push_back({name, lower_state(v1::DeviceStatus_State_Name(d.state())),
                     or_dash(d.backend()), std::to_string(d.sample_rate()),
                     std::to_string(d.block()), channels_text(d), latency_text(d),
                     std::to_string(d.blocks()), std::to_string(d.xruns()),
                     fixed(d.load() * 100, 1) + "%", fixed(d.peak_load() * 100, 1) + "%",
                     d.realtime_priority() ? "yes" : "no"});
    print_table(dev, os);
    for (const auto& [name, d] : devices)
      if (!d.message().empty() && d.backend() != "gstreamer")
        os << name << ": " << d.message() << '\n';
    os << '\n';
    table rows{{"NODE", "TYPE", "DEVICE", "STATE", "LOAD", "BYPASS", "PEAK dB", "RMS dB"}};
    for (const auto& n : nodes) {
      auto load = node_load(n.id);
      auto meter = meters.find(n.id);
      rows.push_back({n.id, n.type, or_dash(n.device),
                      lower_state(v1::NodeStatus_State_Name(n.state)),
                      load ? fixed(*load * 100, 2) + "%" : "-", n.bypassed ? "on" : "-",
                      meter != meters.end() ? levels(meter->second.peak_db()) : "-",
                      meter != meters.end() ? levels(meter->second.rms_db()) : "-"});
    }
    print_table(rows, os);
  }
};

} // namespace

/// Exits after --count events, or when the stream fails before any event came or with
/// anything but UNAVAILABLE.
int cmd_watch(const global_options& g, const watch_options& w) {
  auto req = watch_filter(w);
  if (!req)
    return usage_error(req.error());
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  std::optional<grpc::Status> failure;
  auto finish = [&](std::optional<grpc::Status> why) {
    std::lock_guard lock(mtx);
    done = true;
    failure = std::move(why);
    cv.notify_all();
  };
  // Touched on the watch thread only.
  uint64_t seen = 0;
  bool connected_once = false;

  auto client = make_client(g);
  client->watch(
    [&](const v1::Event& ev, bool) {
      if (w.count && seen >= w.count)
        return;
      connected_once = true;
      if (g.json)
        print_json(ev);
      else
        std::cout << event_line(ev) << std::endl;
      if (w.count && ++seen >= w.count) {
        client->request_stop();
        finish(std::nullopt);
      }
    },
    *req,
    [&](const grpc::Status& status, std::chrono::milliseconds retry_in) {
      if (!server_gone(status) || !connected_once) {
        finish(status);
        return false;
      }
      std::cerr << "sgctl: watch: " << code_name(status.error_code()) << ": "
                << status.error_message() << "; reconnecting in " << retry_in.count() << " ms\n";
      return true;
    });
  {
    std::unique_lock lock(mtx);
    cv.wait(lock, [&] { return done; });
  }
  client->stop();
  return failure ? fail(*failure) : exit_ok;
}

/// On a terminal the screen is cleared between frames, otherwise frames follow each other
/// separated by a blank line. Reconnects like `watch`.
int cmd_top(const global_options& g, const top_options& t) {
  if (g.json)
    return usage_error("top: is a view for people; use 'watch --json' for scripts");
  std::mutex mtx;
  top_view view;
  std::optional<grpc::Status> failure;
  bool connected_once = false;
  auto client = make_client(g);
  client->watch(
    [&](const v1::Event& ev, bool) {
      std::lock_guard lock(mtx);
      connected_once = true;
      view.apply(ev);
    },
    {},
    [&](const grpc::Status& status, std::chrono::milliseconds retry_in) {
      std::lock_guard lock(mtx);
      if (!server_gone(status) || !connected_once) {
        failure = status;
        return false;
      }
      view.link = "reconnecting in " + std::to_string(retry_in.count()) + " ms (" +
                  code_name(status.error_code()) + ")";
      return true;
    });
  const bool tty = isatty(STDOUT_FILENO);
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(0.05, t.interval_s)));
  for (uint64_t frame = 0; t.frames == 0 || frame < t.frames; ++frame) {
    std::this_thread::sleep_for(interval);
    std::lock_guard lock(mtx);
    if (failure)
      break;
    std::cout << (tty ? "\x1b[H\x1b[2J" : (frame ? "\n" : ""));
    view.retries = client->reconnects();
    view.print(std::cout, g.addr);
    std::cout.flush();
  }
  client->stop();
  return failure ? fail(*failure) : exit_ok;
}

} // namespace sg::sgctl
