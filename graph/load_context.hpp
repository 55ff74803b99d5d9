#pragma once

/// What the passes of the graph loader share, private to graph/. graph/loader.cpp runs the
/// passes in order over one `context`:
///
///   load_yaml.cpp       the document: one YAML document, positions, keys and typed scalars
///   load_devices.cpp    hosts and devices; the device and host each node names
///   load_nodes.cpp      nodes: ids, types, and parameters judged by the types' descriptors
///   load_edges.cpp      edges: their syntax, then ports, directions and media kinds
///   load_topology.cpp   the whole graph: cycles and clock domains
///
/// Pass 1 (`read_*`) checks YAML shapes, keys and self-contained values, fills the spec and
/// records where each part came from; it knows nothing about node types except their names.
/// Pass 2 (`check_*`) works on the spec and those positions only.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "graph/loader.hpp"

namespace sg::graph_load {

using names = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// Small text helpers (load_yaml.cpp)

/// "a, b, c", or "none" for an empty list.
std::string join(const names& items);
bool contains(const names& items, std::string_view x);
/// `s` in single quotes.
std::string q(std::string_view s);
std::string_view trim(std::string_view s);

/// Names of nodes, devices, hosts and ports: `[A-Za-z_][A-Za-z0-9_-]*`. No '.', so an edge
/// endpoint splits unambiguously, and no '>', so "->" is always the arrow.
bool is_identifier(std::string_view s);
/// The rule of is_identifier, in words.
extern const char* const identifier_rule;

// ---------------------------------------------------------------------------------------------
// Locations and diagnostics

/// A 1-based source position; line 0 stands for the file as a whole.
struct pos {
  uint32_t line = 0;
  uint32_t column = 0;
};

/// Where a YAML mark or node starts (1:1 when yaml-cpp knows no position).
pos at(const YAML::Mark& m);
pos at(const YAML::Node& n);

/// Collects the diagnostics of one file.
class reporter {
public:
  reporter(const std::string& file, std::vector<v1::Diagnostic>& out) : file_(file), out_(out) {}

  void error(pos p, std::string message) {
    v1::Diagnostic d;
    d.set_file(file_);
    d.set_line(p.line);
    d.set_column(p.column);
    d.set_message(std::move(message));
    out_.push_back(std::move(d));
  }

private:
  const std::string& file_;
  std::vector<v1::Diagnostic>& out_;
};

// ---------------------------------------------------------------------------------------------
// Where each part of the spec came from, so pass 2 can point into the source

/// A mapping entry whose key is a scalar.
struct entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

struct node_source {
  pos item, id, type, device, host;
  bool device_given = false;
  /// Raw values: only pass 2 knows each parameter's type.
  std::vector<entry> params;
};

struct edge_source {
  pos item, from, to;
};

// ---------------------------------------------------------------------------------------------
// What pass 2 learns

struct node_state {
  const node_info* info = nullptr;
  /// False when the type or a port-count parameter is invalid: edges to the node are not
  /// judged then, which would only repeat the node's own error.
  bool ports_known = false;
  std::vector<resolved_port> ports;
};

/// A valid audio edge between node indices, with the index of its EdgeSpec.
struct link {
  size_t from, to, edge;
};

/// One load of one file: its text, the spec being built, the source positions and what the
/// checks learnt, passed from pass to pass.
struct context {
  std::string_view text;
  const node_registry& reg;
  reporter& report;
  v1::GraphSpec& spec;

  // Pass 1.
  std::vector<node_source> node_src;  // parallel to spec.nodes
  std::vector<edge_source> edge_src;  // parallel to spec.edges
  /// Audio devices whose input or output channel count the file sets (`inputs:`,
  /// `outputs:`/`channels:`), by name: nodes may not use channels beyond them. Counts not set
  /// grow to what the nodes use.
  std::map<std::string, pos> declared_inputs, declared_outputs;

  // Pass 2.
  std::vector<node_state> nodes;  // parallel to spec.nodes
  std::map<std::string, size_t> ids;
  std::vector<link> links;  // audio edges, in source order
};

// ---------------------------------------------------------------------------------------------
// The document (load_yaml.cpp)

/// Checks that `text` holds exactly one YAML document; false (reported) when nothing can be read.
bool one_document(std::string_view text, reporter& report);

/// The mapping's entries in order, each key once; reports non-scalar, duplicate and (when
/// `allowed` is given) unknown keys, and leaves those entries out.
std::vector<entry> entries(context& c, const YAML::Node& map, const std::string& where,
                           const names* allowed);
/// The entry's scalar text; nullopt (reported) when it has no value or is a list or mapping.
std::optional<std::string> string_field(context& c, const entry& e, const std::string& what);
/// The entry's integer within min..max; nullopt (reported) otherwise.
std::optional<int64_t> int_field(context& c, const entry& e, const std::string& what, int64_t min,
                                 int64_t max);
/// Whether a null node was written as `null` or `~` (not left empty).
bool is_null_literal(const context& c, const YAML::Node& n);

/// Whether the scalar was quoted: a string, whatever its text.
bool is_quoted(const YAML::Node& n);
/// An integer as YAML 1.2 writes it (decimal, 0x, 0o), or nullopt.
std::optional<int64_t> parse_int(std::string_view s);
/// A scalar as YAML itself types it: quoted → string, true/false → bool, then int, float,
/// and any other plain text → string.
v1::Value typed_scalar(const YAML::Node& n);

// ---------------------------------------------------------------------------------------------
// Hosts and devices (load_devices.cpp)

/// `hosts`: host name → address.
void read_hosts(context& c, const entry& e);
/// `devices`: audio, video and MIDI devices with their defaults; every device is recorded, even
/// a broken one, so nodes naming it do not report it again.
void read_devices(context& c, const entry& e);
/// Pass 2 for node `i`: the device and host it names exist and suit it.
void check_placement(context& c, size_t i);

// ---------------------------------------------------------------------------------------------
// Nodes (load_nodes.cpp)

/// `nodes`: each node's id, type, device, host and raw parameters.
void read_nodes(context& c, const entry& e);
/// Pass 2: ids, types, parameters and placement of every node; fills `c.nodes` and `c.ids`.
void check_nodes(context& c);
/// "node 'id'", with " (type)" when the type is known.
std::string label(const context& c, size_t i);

// ---------------------------------------------------------------------------------------------
// Edges (load_edges.cpp)

/// `edges`: `node.port -> node.port` or `{from, to}`, with the position of each end.
void read_edges(context& c, const entry& e);
/// Pass 2: every edge joins an output to an input of the same media kind; fills `c.links`.
void check_edges(context& c);

// ---------------------------------------------------------------------------------------------
// The whole graph (load_topology.cpp)

/// Audio flows one way: reports each edge that closes a cycle.
void check_cycles(const context& c);
/// At most one device drives the nodes joined by audio edges.
void check_clock_domains(const context& c);

} // namespace sg::graph_load
