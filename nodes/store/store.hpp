#pragma once

/// store.sqlite — the persistence writer (one per process, present by default).
///
/// Committed parameter changes that ask to persist (or whose parameter's policy says so) are
/// coalesced per parameter and written by this node's own thread to an SQLite database in WAL
/// mode; each transaction is acknowledged with a StateDurable event. On start, the stored values
/// become the base layer. Presets live in the same database. The writer itself is an actor
/// (actors/store/writer.hpp); this is its descriptor.
///
/// Ports: none.
/// Parameters (structural: set in the graph file, or `studiograph run --state`):
///   path         string  ""      database file; "" derives
///                                $XDG_STATE_HOME/studiograph/<graph name>.sqlite; "none" disables
///   flush_ms     double  5 ms    longest time a change waits before its transaction (0..1000)
///   synchronous  enum    full    full: durable across power loss; normal: across process crashes

#include "nodes/core/node_info.hpp"

namespace sg {

/// The descriptor of store.sqlite (no kernel: it runs on the control plane).
node_info store_info();

} // namespace sg
