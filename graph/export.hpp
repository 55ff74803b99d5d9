#pragma once

/// The inverse of the loader: a GraphSpec back to a graph file that `load_graph_string`
/// accepts and that loads to the same spec (docs/GRAPH_FORMAT.md).

#include <string>

#include "studiograph/v1/events.pb.h"
#include "studiograph/v1/graph.pb.h"

namespace sg {

/// thread: any. `spec` as YAML: version, name, hosts, devices, nodes (id, type, device, host,
/// params) and edges, in spec order. `comment` (may be empty) becomes a leading `#` line.
std::string export_graph_yaml(const studiograph::v1::GraphSpec& spec,
                              const std::string& comment = {});

/// thread: any. `spec` with each node's parameters set to its live session values without
/// automation (committed ?? base, never an overlay) from `live`: a parameter is written when
/// the file already set it or its value differs from the type's default.
studiograph::v1::GraphSpec with_session_values(studiograph::v1::GraphSpec spec,
                                               const studiograph::v1::Snapshot& live);

} // namespace sg
