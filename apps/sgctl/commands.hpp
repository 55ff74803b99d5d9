#pragma once

/// Every sgctl command, by group; each group lives in its own file. A command takes the global
/// options and its own arguments (as main.cpp's CLI wiring parsed them), prints its reply (JSON
/// with --json) and returns the process's exit code (context.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include "apps/sgctl/context.hpp"

namespace sg::sgctl {

// --- nodes (node_commands.cpp) --------------------------------------------------------------

/// `nodes`: running nodes with type, device, revision and state.
int cmd_nodes(const global_options& g);

/// `types`: node types and their parameters.
int cmd_types(const global_options& g);

/// `bypass NODE [on|off]`.
int cmd_bypass(const global_options& g, const std::string& node, const std::string& state);

struct trigger_args {
  std::string kind = "trigger";
  uint32_t note = 60;
  float velocity = 1;
  uint32_t delay_ms = 0;
};

/// `trigger NODE [KIND]`: a trigger or a note.
int cmd_trigger(const global_options& g, const std::string& node, const trigger_args& t);

// --- parameters and their layers (param_commands.cpp) ----------------------------------------

/// `get NODE`: every parameter with its layers, unit and range.
int cmd_get(const global_options& g, const std::string& node);

struct set_flags {
  bool persist = false;
  std::string overlay;
  uint32_t settle_ms = 0;
};

/// `set NODE.PARAM VALUE`, or `set NODE P=V [P=V...]` (one SetParams, all or none).
int cmd_set(const global_options& g, const std::string& target,
            const std::vector<std::string>& values, const set_flags& f);

/// `settle NODE.PARAM SOURCE`, or `settle NODE SOURCE` for every parameter of that source.
int cmd_settle(const global_options& g, const std::string& target, const std::string& source);

// --- presets (preset_commands.cpp) -----------------------------------------------------------

struct preset_args {
  std::string name;
  std::vector<std::string> nodes;
  bool persist = false;
};

/// `preset save|load|list|delete`.
int cmd_preset(const global_options& g, const std::string& action, const preset_args& a);

// --- the event stream (watch_commands.cpp) ---------------------------------------------------

struct watch_options {
  std::vector<std::string> nodes;
  std::vector<std::string> kinds;
  uint64_t count = 0;  // 0: forever
};

/// `watch`: one line (or JSON object) per event, reconnecting after a loss.
int cmd_watch(const global_options& g, const watch_options& w);

struct top_options {
  double interval_s = 1;
  uint64_t frames = 0;  // 0: until interrupted
};

/// `top`: a live view of devices and nodes, redrawn every interval.
int cmd_top(const global_options& g, const top_options& t);

// --- panels and MIDI learn (panel_commands.cpp) ----------------------------------------------

struct panel_args {
  std::string id, type, bank, device;
  bool active = false, inactive = false;
  std::vector<std::string> maps, add_maps;
  std::vector<unsigned> remove;
};

/// `panel list|show|create|update|activate|deactivate|delete`.
int cmd_panel(const global_options& g, const std::string& action, const panel_args& a);

/// `midi learn TARGET`: binds the next control moved on a MIDI device.
int cmd_learn(const global_options& g, const std::string& target, const std::string& panel,
              double wait_s);

// --- the graph (graph_commands.cpp) ----------------------------------------------------------

/// `graph`: the running graph's devices, nodes and edges.
int cmd_graph(const global_options& g);

/// `export`: the running graph as a graph file, to stdout or `out`.
int cmd_export(const global_options& g, bool committed, const std::string& out);

/// `validate FILE` on the server.
int cmd_validate(const global_options& g, const std::string& file);

/// `apply FILE`: validated, then applied as a diff.
int cmd_apply(const global_options& g, const std::string& file);

// --- the server (system_commands.cpp) --------------------------------------------------------

/// `status`: version, uptime, graph, devices, node loads, gateway clients.
int cmd_status(const global_options& g);

/// `health [SERVICE]`: grpc.health.v1 Check; exit 0 only when SERVING.
int cmd_health(const global_options& g, const std::string& service);

} // namespace sg::sgctl
