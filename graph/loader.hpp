#pragma once

/// Loads a graph file (docs/GRAPH_FORMAT.md) into a GraphSpec and validates all of it before
/// anything is applied: a running system only ever sees graphs that passed every check here.
/// Problems are collected, not thrown, so a user fixes a whole file in one round.

#include <string>
#include <string_view>
#include <vector>

#include "nodes/core/node_info.hpp"
#include "studiograph/v1/graph.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// What loading a graph produced.
struct graph_load_result {
  /// Filled as far as possible. Parameters appear only when their value passed validation, so
  /// `to_param_values` is safe on every node whose type is registered.
  v1::GraphSpec spec;
  /// Every problem found, in source order (line, then column). Line 0: the file itself.
  std::vector<v1::Diagnostic> errors;

  bool ok() const { return errors.empty(); }
};

/// thread: control (reads the file). Never throws.
graph_load_result load_graph_file(const std::string& path,
                                  const node_registry& reg = node_registry::builtin());

/// Same as load_graph_file for text already in memory; `file_name` is only used in
/// diagnostics and as the default graph name. Never throws.
graph_load_result load_graph_string(std::string_view yaml, const std::string& file_name,
                                    const node_registry& reg = node_registry::builtin());

/// "file:line:col: error: message", or "file: error: message" when the line is unknown (0).
std::string format_diagnostic(const v1::Diagnostic& d);

} // namespace sg
