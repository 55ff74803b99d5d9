/// sgctl — the command-line client of a studiograph gateway (docs/API.md).
///
/// Every command is one or two unary RPCs, except `watch`, which follows the event stream
/// through sg::state_client (reconnects with exponential backoff, 100 ms .. 5 s, reseeding from
/// the new Snapshot), and `top`, which redraws a view fed by the same stream. Intents (set,
/// settle, bypass, trigger, preset load) carry this process's origin.
/// Exit codes: 0 ok, 1 usage, 2 rejected (INVALID_ARGUMENT / FAILED_PRECONDITION, or a graph
/// with errors), 3 not found, 4 cannot reach the server (UNAVAILABLE / deadline), 5 other,
/// 6 not allowed (UNAUTHENTICATED / PERMISSION_DENIED), 7 a limit (RESOURCE_EXHAUSTED).
///
/// This file is the command line only (CLI11): the global options, then one small function per
/// command (or pair of commands) in the order `--help` lists them, binding the arguments and
/// what runs. The commands are declared in commands.hpp and written one group per file:
///   node_commands.cpp    nodes, types, bypass, trigger
///   param_commands.cpp   get, set, settle
///   preset_commands.cpp  preset save|load|list|delete
///   watch_commands.cpp   watch, top
///   panel_commands.cpp   panel ..., midi learn
///   graph_commands.cpp   graph, export, validate, apply
///   system_commands.cpp  status, health
/// context.hpp holds what they share (options, exit codes, connection), output.hpp how they
/// print. A new command: declared in commands.hpp, written in its group's file, wired here.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/logging.hpp"
#include "apps/sgctl/commands.hpp"
#include "nodes/core/expected.hpp"

namespace sg::sgctl {
namespace {

/// The command line: the app, the global options every command reads, and what each
/// subcommand runs once parsing is done and the token has been read.
struct cli {
  CLI::App app{"sgctl — inspect and control a running studiograph over gRPC"};
  global_options g;
  std::string log_level = "warn";
  std::map<const CLI::App*, std::function<int()>> actions;

  /// `action` runs when `command` is the one given.
  void on(const CLI::App* command, std::function<int()> action) {
    actions[command] = std::move(action);
  }
};

/// The options before the command (--addr, --json, --log-level, --timeout, --token-file, TLS)
/// and the exit codes below the help.
void add_global_options(cli& c) {
  auto& app = c.app;
  auto& g = c.g;
  app.footer(exit_codes_help);
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("--addr", g.addr, "gateway address HOST:PORT")->capture_default_str();
  app.add_flag("--json", g.json, "print one JSON object per reply or event");
  sg::add_log_level_option(app, c.log_level);
  app.add_option("--timeout", g.timeout_s, "seconds per request (watch: no limit)")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  app.add_option("--token-file", g.token_file,
                 "file holding the access token (TOKEN or 'ROLE TOKEN'), sent as "
                 "'authorization: Bearer TOKEN'");
  app.add_flag("--tls", g.security.tls, "connect with TLS (verified with the system's CAs)");
  app.add_option("--tls-ca", g.security.tls_ca,
                 "verify the server with this PEM CA (implies --tls)");
  app.add_option("--tls-cert", g.security.tls_cert, "client certificate, PEM (implies --tls)");
  app.add_option("--tls-key", g.security.tls_key, "client private key, PEM");
  app.add_option("--tls-server-name", g.security.tls_server_name,
                 "the name the server certificate must carry (default: the host of --addr)");
}

/// nodes, types.
void add_listings(cli& c) {
  c.on(c.app.add_subcommand("nodes", "list running nodes: id, type, device, rev, state"),
       [&g = c.g] { return cmd_nodes(g); });
  c.on(c.app.add_subcommand("types", "list node types and their parameters"),
       [&g = c.g] { return cmd_types(g); });
}

void add_get(cli& c) {
  auto node = std::make_shared<std::string>();
  auto* get = c.app.add_subcommand("get", "show a node's parameters with every layer");
  get->add_option("NODE", *node)->required();
  c.on(get, [&g = c.g, node] { return cmd_get(g, *node); });
}

void add_set(cli& c) {
  auto target = std::make_shared<std::string>();
  auto values = std::make_shared<std::vector<std::string>>();
  auto sf = std::make_shared<set_flags>();
  auto* set = c.app.add_subcommand(
    "set", "set a parameter: NODE.PARAM VALUE, or several of one node atomically: "
           "NODE PARAM=VALUE PARAM=VALUE... (values parsed with the params' types)");
  set->add_option("TARGET", *target, "NODE.PARAM, or NODE")->required();
  set->add_option("VALUES", *values, "VALUE, or PARAM=VALUE...")->required();
  auto* overlay = set
                    ->add_option("--overlay", sf->overlay,
                                 "write SOURCE's overlay (automation) instead of committing")
                    ->type_name("SOURCE");
  set->add_flag("--persist", sf->persist, "store the committed value (survives restart)")
    ->excludes(overlay);
  set
    ->add_option("--settle-ms", sf->settle_ms,
                 "overlay: settle into a session value after N ms without updates "
                 "(0: server default, 500)")
    ->type_name("N")
    ->needs(overlay);
  c.on(set, [&g = c.g, target, values, sf] { return cmd_set(g, *target, *values, *sf); });
}

void add_settle(cli& c) {
  auto target = std::make_shared<std::string>();
  auto source = std::make_shared<std::string>();
  auto* settle = c.app.add_subcommand(
    "settle", "turn SOURCE's overlay into a session-only committed value (NODE: all params)");
  settle->add_option("NODE[.PARAM]", *target)->required();
  settle->add_option("SOURCE", *source)->required();
  c.on(settle, [&g = c.g, target, source] { return cmd_settle(g, *target, *source); });
}

void add_preset(cli& c) {
  auto pa = std::make_shared<preset_args>();
  auto* preset = c.app.add_subcommand("preset", "save, load, list and delete presets");
  preset->require_subcommand(1);
  preset->fallthrough();
  auto* save = preset->add_subcommand("save", "store the committed values of some or all nodes");
  save->add_option("NAME", pa->name)->required();
  save->add_option("--nodes", pa->nodes, "only these nodes (comma-separated)")->delimiter(',');
  auto* load = preset->add_subcommand("load", "replace committed values with the preset's");
  load->add_option("NAME", pa->name)->required();
  load->add_flag("--persist", pa->persist, "also store the loaded values");
  preset->add_subcommand("list", "stored presets: name, params, nodes, time saved");
  preset->add_subcommand("delete", "remove a stored preset")
    ->add_option("NAME", pa->name)
    ->required();
  c.on(preset, [&g = c.g, preset, pa] {
    return cmd_preset(g, preset->get_subcommands().front()->get_name(), *pa);
  });
}

void add_watch(cli& c) {
  auto w = std::make_shared<watch_options>();
  auto* watch = c.app.add_subcommand("watch", "print events as they come (reconnects)");
  watch->add_option("--node", w->nodes, "only events of this node (repeatable)");
  watch->add_option("--kind", w->kinds,
                    "only this kind: param_changed, node_status, device_status, "
                    "graph_applied, meter, snapshot, preset_loaded, durable, bypass, midi, "
                    "panel (repeatable)");
  watch->add_option("--count", w->count, "exit after N events (the snapshot counts)");
  c.on(watch, [&g = c.g, w] { return cmd_watch(g, *w); });
}

void add_status(cli& c) {
  c.on(c.app.add_subcommand("status", "process status: version, uptime, graph, devices, node "
                                      "loads, gateway clients"),
       [&g = c.g] { return cmd_status(g); });
}

void add_bypass(cli& c) {
  auto node = std::make_shared<std::string>();
  auto state = std::make_shared<std::string>("on");
  auto* bypass =
    c.app.add_subcommand("bypass", "bypass a node's processing (outputs carry inputs)");
  bypass->add_option("NODE", *node)->required();
  bypass->add_option("STATE", *state, "on or off")->capture_default_str();
  c.on(bypass, [&g = c.g, node, state] { return cmd_bypass(g, *node, *state); });
}

void add_trigger(cli& c) {
  auto node = std::make_shared<std::string>();
  auto ta = std::make_shared<trigger_args>();
  auto* trigger = c.app.add_subcommand("trigger", "send a trigger or note to a node");
  trigger->add_option("NODE", *node)->required();
  trigger->add_option("KIND", ta->kind, "trigger, note_on, note_off or stop")
    ->capture_default_str();
  trigger->add_option("--note", ta->note, "MIDI note 0..127")->capture_default_str();
  trigger->add_option("--velocity", ta->velocity, "0..1")->capture_default_str();
  trigger->add_option("--delay-ms", ta->delay_ms, "due this many ms from now");
  c.on(trigger, [&g = c.g, node, ta] { return cmd_trigger(g, *node, *ta); });
}

/// `panel create` or `panel update` (whose unset options keep their value).
void add_panel_edit(CLI::App& panel, const std::string& verb, panel_args& pn) {
  const char* what =
    verb == "create" ? "create a panel" : "change a panel (unset options keep their value)";
  auto* c = panel.add_subcommand(verb, what);
  c->add_option("ID", pn.id)->required();
  auto* type = c->add_option("--type", pn.type, "pad (notes) or knob (CCs)");
  auto* bank = c->add_option("--bank", pn.bank,
                             "the bank: panels of one type and bank share the physical controls");
  if (verb == "create") {
    type->required();
    bank->required();
  }
  c->add_option("--device", pn.device, "MIDI device id of the graph ('-': any)");
  c->add_flag("--active", pn.active, "active (deactivates the other of its type and bank)");
  c->add_flag("--inactive", pn.inactive, "inactive");
  c->add_option("--map", pn.maps,
                "NUMBER[/CH]=[ACTION:]TARGET[,low=F,high=F,curve=log|exp,nopickup]; replaces "
                "every mapping (repeatable)");
  if (verb == "update") {
    c->add_option("--add-map", pn.add_maps, "add or replace one mapping (repeatable)");
    c->add_option("--remove-map", pn.remove, "remove the mappings of a control number");
  }
}

void add_panel(cli& c) {
  auto pn = std::make_shared<panel_args>();
  auto* panel = c.app.add_subcommand(
    "panel", "pad and knob panels: list, show, create, update, activate, deactivate, delete");
  panel->require_subcommand(1);
  panel->fallthrough();
  panel->add_subcommand("list", "every panel: id, type, bank, device, active, mappings");
  for (auto [verb, what] :
       {std::pair{"show", "a panel and its mappings"},
        {"activate", "activate (deactivates the other panel of its type and bank)"},
        {"deactivate", "stop a panel receiving input"},
        {"delete", "remove a panel"}})
    panel->add_subcommand(verb, what)->add_option("ID", pn->id)->required();
  add_panel_edit(*panel, "create", *pn);
  add_panel_edit(*panel, "update", *pn);
  c.on(panel, [&g = c.g, panel, pn] {
    return cmd_panel(g, panel->get_subcommands().front()->get_name(), *pn);
  });
}

void add_midi(cli& c) {
  auto target = std::make_shared<std::string>();
  auto panel = std::make_shared<std::string>();
  auto wait_s = std::make_shared<double>(30);
  auto* midi = c.app.add_subcommand("midi", "MIDI: learn");
  midi->require_subcommand(1);
  midi->fallthrough();
  auto* learn = midi->add_subcommand(
    "learn", "bind the next control moved to NODE.PARAM (a knob) or NODE (a pad triggers it)");
  learn->add_option("TARGET", *target)->required();
  learn->add_option("--panel", *panel,
                    "the panel to bind it in (default: the active panel of the control's kind, "
                    "else learned-knobs/pads)");
  learn->add_option("--wait", *wait_s, "seconds to wait for a control")
    ->capture_default_str()
    ->check(CLI::Range(0.1, 300.0));
  c.on(midi, [&g = c.g, target, panel, wait_s] { return cmd_learn(g, *target, *panel, *wait_s); });
}

/// graph, export.
void add_graph_export(cli& c) {
  c.on(c.app.add_subcommand("graph", "the running graph: devices, nodes, edges"),
       [&g = c.g] { return cmd_graph(g); });
  auto committed = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  auto* exp = c.app.add_subcommand("export", "the running graph as a graph file (YAML)");
  exp->add_flag("--committed", *committed,
                "with the session's values (committed ?? base, never overlays)");
  exp->add_option("-o,--out", *out, "write to FILE instead of stdout");
  c.on(exp, [&g = c.g, committed, out] { return cmd_export(g, *committed, *out); });
}

void add_health(cli& c) {
  auto service = std::make_shared<std::string>();
  auto* health = c.app.add_subcommand("health", "grpc.health.v1 Check (exit 0 only when SERVING)");
  health->add_option("SERVICE", *service, "e.g. studiograph.v1.NodeService (default: the server)");
  c.on(health, [&g = c.g, service] { return cmd_health(g, *service); });
}

void add_top(cli& c) {
  auto to = std::make_shared<top_options>();
  auto* top = c.app.add_subcommand("top", "live view: devices, xruns, load per device and node, "
                                          "meters (reconnects)");
  top->add_option("--interval", to->interval_s, "seconds between redraws")->capture_default_str();
  top->add_option("--frames", to->frames, "exit after N frames (0: until Ctrl-C)");
  c.on(top, [&g = c.g, to] { return cmd_top(g, *to); });
}

/// validate, apply.
void add_validate_apply(cli& c) {
  auto file = std::make_shared<std::string>();
  auto* validate = c.app.add_subcommand("validate", "validate a graph file on the server");
  validate->add_option("FILE", *file)->required();
  c.on(validate, [&g = c.g, file] { return cmd_validate(g, *file); });
  auto* apply = c.app.add_subcommand("apply", "apply a graph file to the running system (a diff)");
  apply->add_option("FILE", *file)->required();
  c.on(apply, [&g = c.g, file] { return cmd_apply(g, *file); });
}

/// Every command, in the order `--help` lists them.
void add_commands(cli& c) {
  add_listings(c);
  add_get(c);
  add_set(c);
  add_settle(c);
  add_preset(c);
  add_watch(c);
  add_status(c);
  add_bypass(c);
  add_trigger(c);
  add_panel(c);
  add_midi(c);
  add_graph_export(c);
  add_health(c);
  add_top(c);
  add_validate_apply(c);
}

/// Parses the command line: nothing to go on with the command, else the exit code (--help: 0
/// after the help, a bad command line: exit_usage after CLI11's message).
std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  return std::nullopt;
}

/// Reads the token file and checks the TLS files, so that a bad one is a usage error before
/// any call.
sg::expected<void> prepare_security(global_options& g) {
  if (!g.token_file.empty()) {
    auto token = sg::read_token_file(g.token_file);
    if (!token)
      return sg::unexpected(token.error());
    g.security.token = *token;
  }
  if (auto creds = sg::channel_credentials(g.security); !creds)
    return sg::unexpected(creds.error());
  return {};
}

} // namespace
} // namespace sg::sgctl

int main(int argc, char** argv) {
  using namespace sg::sgctl;
  cli c;
  add_global_options(c);
  add_commands(c);
  if (auto code = parse(c.app, argc, argv))
    return *code;
  sg::start_logging("sgctl", c.log_level);
  if (auto ready = prepare_security(c.g); !ready)
    return usage_error(ready.error());
  return c.actions.at(c.app.get_subcommands().front())();
}
