#pragma once

#include <chrono>
#include <memory>

#include "actors/protocols.hpp"

namespace sg {

class state_store;

/// Spawns the persistence writer (node type `store.sqlite`, protocol `store_actor`) owning
/// `store`. Detached: SQLite calls block on disk I/O, so the writer has its own thread and never
/// stalls the scheduler's workers.
///
/// Writes are coalesced: PersistParam messages are kept per (node, param), the highest
/// `node_rev` winning, and written in one transaction `flush_interval` after the first of a
/// batch arrived (or at once on `flush_atom`). Each successful write publishes to `hub` an Event
/// whose body is `durable` (StateDurable: batch number from 1, one entry per value written,
/// `coalesced` = PersistParam messages absorbed). A failed write publishes a `node_status`
/// event (node "store", STATE_FAILED, the SQLite message) and keeps every pending value for a
/// retry with backoff (from `flush_interval`, at least 50 ms, doubling up to 1 s); the first
/// write that succeeds after a failure publishes STATE_RUNNING. An exit message flushes before
/// the actor quits, so a clean shutdown loses nothing; values that still cannot be written then
/// are reported (event and stderr). The owner must send that exit message: a detached actor
/// keeps its thread until it quits.
///
/// thread: the actor's own thread for every message and every SQLite call.
store_actor spawn_store_writer(caf::actor_system& sys, std::unique_ptr<state_store> store,
                               hub_actor hub, std::chrono::milliseconds flush_interval);

} // namespace sg
