// studiograph: run, validate and render graph files; list node types.

#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <thread>

#include <CLI/CLI.hpp>

#include "actors/devices/specs.hpp"
#include "actors/gateway/gateway.hpp"
#include "actors/runtime.hpp"
#include "apps/logging.hpp"
#include "apps/studiograph/score_player.hpp"
#include "graph/loader.hpp"
#include "graph/params.hpp"
#include "graph/score.hpp"
#include "hardware/audio_domain.hpp"
#include "hardware/audio_driver.hpp"
#include "hardware/wav_source.hpp"

namespace {

using namespace sg;

/// Exit codes: documented in `studiograph --help`.
enum exit_code : int { ok = 0, invalid_graph = 2, start_failed = 3, gateway_failed = 4 };

volatile std::sig_atomic_t stop_requested = 0;
volatile std::sig_atomic_t reload_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

void on_hangup(int) {
  reload_requested = 1;
}

bool load(const std::string& path, v1::GraphSpec& spec);

/// `--osc HOST:PORT`: where the graph's OSC server listens. The first control.osc node of the
/// graph takes it; a graph without one gets a node "osc" (or "osc_server" when that id is
/// taken). Empty: the graph decides.
std::string osc_listen;

void apply_osc(v1::GraphSpec& spec) {
  if (osc_listen.empty())
    return;
  v1::Value v;
  v.set_string_value(osc_listen);
  for (auto& n : *spec.mutable_nodes())
    if (n.type() == "control.osc") {
      (*n.mutable_params())["listen"] = v;
      return;
    }
  bool taken = false;
  for (const auto& n : spec.nodes())
    taken |= n.id() == "osc";
  auto* n = spec.add_nodes();
  n->set_id(taken ? "osc_server" : "osc");
  n->set_type("control.osc");
  (*n->mutable_params())["listen"] = v;
}

/// Checks an --osc value (HOST:PORT).
expected<void> check_osc_listen(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return unexpected("expected HOST:PORT (e.g. 127.0.0.1:9000), got '" + text + "'");
  const std::string port = text.substr(colon + 1);
  char* end = nullptr;
  const long p = std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || p < 1 || p > 65535)
    return unexpected("expected a port 1..65535 after ':', got '" + port + "'");
  return {};
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out.empty() ? "-" : out;
}

/// SIGHUP: the graph file is read again and applied as a diff (nothing changes when it is
/// invalid or cannot start).
void reload(runtime& rt, const std::string& path) {
  v1::GraphSpec spec;
  if (!load(path, spec)) {
    spdlog::error("reload refused; the running graph is unchanged");
    return;
  }
  apply_osc(spec);
  auto reply = rt.apply_graph(spec);
  if (reply.status().code() != 0) {
    spdlog::error("reload failed: {}; the running graph is unchanged", reply.status().message());
    return;
  }
  const auto& a = reply.applied();
  spdlog::info("reloaded {} (graph rev {}): added {}, removed {}, retyped {}, changed {}", path,
               a.graph_rev(), joined(a.added()), joined(a.removed()), joined(a.retyped()),
               joined(a.changed()));
}

bool load(const std::string& path, v1::GraphSpec& spec) {
  auto result = load_graph_file(path);
  for (const auto& d : result.errors)
    std::cerr << format_diagnostic(d) << '\n';
  if (!result.ok()) {
    std::cerr << path << ": " << result.errors.size() << " error(s); nothing was started\n";
    return false;
  }
  spec = std::move(result.spec);
  return true;
}

/// The score at `path` for `spec` (empty path: no score); false after printing its errors.
bool load_score(const std::string& path, const v1::GraphSpec& spec,
                std::vector<score_event>& events) {
  if (path.empty())
    return true;
  auto result = load_score_file(path, spec);
  for (const auto& d : result.errors)
    std::cerr << format_diagnostic(d) << '\n';
  if (!result.ok()) {
    std::cerr << path << ": " << result.errors.size() << " error(s); nothing was started\n";
    return false;
  }
  events = std::move(result.events);
  return true;
}

int cmd_validate(const std::string& path) {
  v1::GraphSpec spec;
  if (!load(path, spec))
    return invalid_graph;
  std::cout << path << ": ok (" << spec.nodes_size() << " nodes, " << spec.edges_size()
            << " edges, " << spec.devices_size() << " devices)\n";
  return ok;
}

int cmd_nodes() {
  for (const auto& info : node_registry::builtin().all()) {
    std::cout << info.type << " - " << info.summary << '\n' << "  ports:";
    for (const auto& p : info.ports) {
      std::cout << ' ' << p.name << (p.repeat_param.empty() ? "" : "1..N") << '('
                << (p.dir == port_dir::in ? "in" : "out") << ", "
                << (p.channels ? std::to_string(p.channels) + "ch" : std::string("follows"))
                << ')';
    }
    std::cout << '\n';
    for (const auto& p : info.params) {
      std::printf("  %-10s %-7s %10g .. %-8g default %-8s %-5s %s\n", p.name.c_str(),
                  type_name(p.type), p.min, p.max,
                  to_text(to_value(p, p.def, p.def_string)).c_str(), p.unit.c_str(),
                  p.summary.c_str());
    }
  }
  return ok;
}

std::string status_line(runtime& rt, double elapsed) {
  v1::StatusReply st;
  try {
    st = rt.status();
  } catch (const runtime_unavailable& e) {
    return "status unavailable: " + std::string(e.what());
  }
  char buf[512];
  std::string line;
  std::snprintf(buf, sizeof buf, "[%6.1fs] %s", elapsed, st.graph_name().c_str());
  line = buf;
  for (const auto& d : st.devices()) {
    if (d.backend() == "gstreamer") {  // video devices: frames, drops, rate and their sinks
      std::snprintf(buf, sizeof buf, " | %s: video %s, frames %llu, dropped %llu, %.1f fps%s",
                    d.device().c_str(), d.message().c_str(),
                    static_cast<unsigned long long>(d.blocks()),
                    static_cast<unsigned long long>(d.xruns()), d.fps(),
                    d.state() == v1::DeviceStatus::STATE_RUNNING ? "" : " [not running]");
      line += buf;
      continue;
    }
    std::snprintf(buf, sizeof buf,
                  " | %s: %s %u Hz/%u, blocks %llu, xruns %llu, load %.1f%%%s", d.device().c_str(),
                  d.backend().c_str(), d.sample_rate(), d.block(),
                  static_cast<unsigned long long>(d.blocks()),
                  static_cast<unsigned long long>(d.xruns()), d.load() * 100.0,
                  d.state() == v1::DeviceStatus::STATE_RUNNING ? "" : " [not running]");
    line += buf;
    // A device that runs on the null backend because no sound device answered says so here,
    // where the operator looks (sgctl status gives the reasons).
    if (d.message().starts_with("fell back to null"))
      line += " [no sound device: silent]";
  }
  line += " | gateway " + st.gateway_address();
  return line;
}

/// Adds the --osc server to `spec`; false (said on stderr) when the value is bad.
bool add_osc_server(v1::GraphSpec& spec) {
  if (osc_listen.empty())
    return true;
  if (auto checked = check_osc_listen(osc_listen); !checked) {
    std::cerr << "studiograph: --osc: " << checked.error() << '\n';
    return false;
  }
  if (!is_loopback_listen(osc_listen))
    spdlog::warn("OSC on {} accepts unauthenticated writes from that network (OSC has no "
                 "access control; prefer loopback or a firewalled interface)",
                 osc_listen);
  apply_osc(spec);
  return true;
}

/// The score's player, timed by each node's device rate; nothing without a score.
std::unique_ptr<score_player> make_player(runtime& rt, const v1::GraphSpec& spec,
                                          std::vector<score_event> score) {
  if (score.empty())
    return nullptr;
  std::map<std::string, double> rates;
  for (const auto& d : split_domains(to_graph_spec(spec)))
    for (const auto& n : d.nodes)
      rates[n.id] = d.device.sample_rate;
  return std::make_unique<score_player>(rt, std::move(score), std::move(rates));
}

/// The line that says the graph runs, where to reach it and where its state lives.
void announce(runtime& rt, const v1::GraphSpec& spec, const gateway& gw) {
  std::string state_file = "none";
  const auto running = rt.get_graph();
  for (const auto& n : running.graph().nodes())
    if (n.type() == "store.sqlite")
      state_file = n.params().at("path").string_value();
  std::cout << "studiograph: running " << spec.name() << " (" << spec.nodes_size()
            << " nodes); gRPC on " << gw.address() << "; state " << state_file
            << "; Ctrl-C stops, SIGHUP reloads the file" << std::endl;
}

/// Prints a status line a second and reloads `path` on SIGHUP until a signal stops it or
/// `duration` seconds (when > 0) have passed.
void serve(runtime& rt, const std::string& path, double duration) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds_since_start = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  auto next = start;
  while (!stop_requested) {
    const double elapsed = seconds_since_start();
    if (duration > 0 && elapsed >= duration)
      break;
    if (reload_requested) {
      reload_requested = 0;
      reload(rt, path);
    }
    if (std::chrono::steady_clock::now() >= next) {
      std::cout << status_line(rt, elapsed) << std::endl;
      next += std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cout << status_line(rt, seconds_since_start()) << "\nstudiograph: stopping" << std::endl;
}

int cmd_run(const std::string& path, const gateway_options& gw_opts, double duration,
            const std::string& state, const std::string& score_path) {
  // The gateway's options are checked before anything starts: a refused address, token file or
  // certificate must not leave a device open.
  if (auto checked = check_gateway_options(gw_opts); !checked) {
    std::cerr << "studiograph: gateway: " << checked.error() << '\n';
    return gateway_failed;
  }
  if (!is_loopback_listen(gw_opts.listen) && gw_opts.tls_cert.empty())
    spdlog::warn("serving {} without TLS: access tokens travel in plaintext (use "
                 "--tls-cert/--tls-key)",
                 gw_opts.listen);
  v1::GraphSpec spec;
  if (!load(path, spec) || !add_osc_server(spec))
    return invalid_graph;
  std::vector<score_event> score;
  if (!load_score(score_path, spec, score))
    return invalid_graph;
  runtime_options opts;
  opts.state_path = state;
  runtime rt(opts);
  auto applied = rt.apply_graph(spec);
  if (applied.status().code() != 0) {
    std::cerr << "studiograph: cannot start " << path << ": " << applied.status().message()
              << '\n';
    return start_failed;
  }
  gateway gw(rt, gw_opts);
  if (auto started = gw.start(); !started) {
    std::cerr << "studiograph: gateway: " << started.error() << '\n';
    return gateway_failed;
  }
  gw.set_serving(true);
  auto player = make_player(rt, spec, std::move(score));
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_hangup);
  announce(rt, spec, gw);
  serve(rt, path, duration);
  gw.set_serving(false);
  gw.stop();
  rt.shutdown();
  return ok;
}

int cmd_render(const std::string& path, double seconds, const std::string& out, uint32_t block,
               const std::string& score_path) {
  v1::GraphSpec spec;
  if (!load(path, spec))
    return invalid_graph;
  std::vector<score_event> score;
  if (!load_score(score_path, spec, score))
    return invalid_graph;
  auto domains = split_domains(to_graph_spec(spec));
  if (domains.empty()) {
    std::cerr << "studiograph: " << path << " has no audio device to render\n";
    return invalid_graph;
  }
  // The first audio device's domain, rendered without the device.
  auto& d = domains.front();
  if (block == 0)
    block = d.device.block;
  audio_format format{static_cast<double>(d.device.sample_rate), block};
  auto plan = compile_domain_plan(d, format);
  if (!plan) {
    std::cerr << "studiograph: " << plan.error() << '\n';
    return start_failed;
  }
  // Score events by frame, for the nodes of this domain (slot = position in the domain).
  std::vector<timed_event> timed;
  for (const auto& ev : score) {
    int slot = -1;
    for (size_t i = 0; i < d.nodes.size(); ++i)
      if (d.nodes[i].id == ev.node)
        slot = static_cast<int>(i);
    if (slot < 0) {
      std::cerr << "studiograph: " << score_path << ": node '" << ev.node << "' is not on device "
                << d.device.name << ", the one rendered\n";
      return invalid_graph;
    }
    timed_event e;
    e.slot = static_cast<uint32_t>(slot);
    e.frame = score_frame(ev.at, format.sample_rate);
    e.ev.kind = ev.kind;
    e.ev.note = ev.note;
    e.ev.velocity = ev.velocity;
    timed.push_back(e);
  }
  device_spec device = d.device;
  device.block = block;
  auto input = open_input(device);  // the device's `input` file feeds audio.input nodes
  if (!input) {
    std::cerr << "studiograph: " << input.error() << '\n';
    return start_failed;
  }
  render_engine engine(d.device.channels, format.sample_rate, d.device.inputs);
  const uint32_t gen = (*plan)->generation();
  engine.submit_plan(std::move(*plan));
  size_t next_event = 0;
  auto push_due = [&](uint64_t first, uint32_t frames) {
    // Only the events due in this block: the engine holds a bounded number of future ones.
    while (next_event < timed.size() && timed[next_event].frame < first + frames) {
      timed_event e = timed[next_event++];
      e.gen = gen;
      engine.push_event(e);
    }
  };
  const auto t0 = std::chrono::steady_clock::now();
  const auto rendered = render_offline(engine, block, seconds, out, push_due, input->get());
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!rendered) {
    std::cerr << "studiograph: " << rendered.error() << '\n';
    return start_failed;
  }
  std::printf("rendered %.3f s of %s (device %s, %u ch, %u Hz, block %u) to %s in %.3f s "
              "(%.0fx realtime)\n",
              seconds, spec.name().c_str(), d.device.name.c_str(), d.device.channels,
              d.device.sample_rate, block, out.c_str(), wall, wall > 0 ? seconds / wall : 0.0);
  return ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"studiograph - realtime media node graphs for studios"};
  app.footer("Exit codes: 0 ok, 1 usage, 2 invalid graph, 3 the graph could not start, "
             "4 the gateway could not start.");
  app.require_subcommand(1);
  std::string log_level = "info";
  add_log_level_option(app, log_level);
  std::string path, listen = "127.0.0.1:50051", out;
  double duration = 0, seconds = 10;
  uint32_t block = 0;

  auto* run = app.add_subcommand("run", "Run a graph with the gRPC gateway");
  run->add_option("graph", path, "Graph file (YAML)")->required();
  run->add_option("--listen", listen, "gRPC gateway address HOST:PORT (loopback by default)")
    ->capture_default_str();
  run->add_option("--duration", duration, "Stop after SECONDS (default: until Ctrl-C)");
  gateway_options gw_opts;
  run->add_option("--token-file", gw_opts.token_file,
                  "Access tokens, one 'control TOKEN' or 'read-only TOKEN' per line (mode 600); "
                  "required to listen on a non-loopback address");
  run->add_option("--tls-cert", gw_opts.tls_cert, "Serve TLS with this PEM certificate chain");
  run->add_option("--tls-key", gw_opts.tls_key, "PEM private key of --tls-cert");
  run->add_option("--tls-client-ca", gw_opts.tls_client_ca,
                  "Require client certificates signed by this PEM CA (mutual TLS)");
  run->add_flag("--reflection", gw_opts.reflection,
                "Serve gRPC server reflection (for grpcurl and similar tools)");
  run->add_option("--max-intents-per-s", gw_opts.max_intents_per_s,
                  "Intents per second per client connection (0: unlimited)")
    ->capture_default_str();
  run->add_option("--max-subscribers", gw_opts.max_subscribers,
                  "Concurrent event subscriptions of the gateway")
    ->capture_default_str();
  run->add_option("--osc", osc_listen,
                  "OSC server HOST:PORT (UDP) for /sg/NODE/PARAM messages: sets the graph's "
                  "control.osc node, adding one when it has none (e.g. 127.0.0.1:9000)");
  std::string state;
  run->add_option("--state", state,
                  "Persistence database FILE, or 'none' for a session without persistence "
                  "(default: the graph's store.sqlite node, else "
                  "$XDG_STATE_HOME/studiograph/<graph name>.sqlite)");

  auto* validate = app.add_subcommand("validate", "Check a graph file; print every error");
  validate->add_option("graph", path, "Graph file (YAML)")->required();

  app.add_subcommand("nodes", "List node types with their ports and parameters");

  auto* render = app.add_subcommand("render", "Render a graph offline to a WAV file");
  render->add_option("graph", path, "Graph file (YAML)")->required();
  render->add_option("--seconds", seconds, "Length of audio to render")->capture_default_str();
  render->add_option("--out", out, "Output WAV file")->required();
  render->add_option("--block", block, "Block size in frames (default: the device's)");
  std::string score;
  render->add_option("--score", score, "Notes and triggers to play (YAML, see GRAPH_FORMAT.md)");
  run->add_option("--score", score, "Notes and triggers to play (YAML, see GRAPH_FORMAT.md)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints what is wrong
    return 1;     // usage, as the footer says
  }
  start_logging("studiograph", log_level);
  if (run->parsed()) {
    gw_opts.listen = listen;
    return cmd_run(path, gw_opts, duration, state, score);
  }
  if (validate->parsed())
    return cmd_validate(path);
  if (render->parsed())
    return cmd_render(path, seconds, out, block, score);
  return cmd_nodes();
}
