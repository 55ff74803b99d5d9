#pragma once

/// The persistence database of one graph: stored parameter values (the base layer a graph
/// starts from) and named presets, in one SQLite file in WAL mode.
///
/// Plain C++ with no actor machinery, so it can be tested and benchmarked on its own; the
/// writer actor (actors/store/writer.hpp) is its only user at run time.
///
/// Not thread-safe: one thread at a time uses an instance (it may be opened on one thread and
/// handed to another, as the writer actor's own thread takes it over). Other processes may
/// read the file concurrently (WAL), and a busy database is waited for up to `busy_timeout_ms`
/// before a call fails.
///
/// Schema (version 1):
///   params(node, param, type, value BLOB = serialised v1::Value, node_rev, updated_ns)
///     primary key (node, param), WITHOUT ROWID
///   presets(name PRIMARY KEY, saved_ns, body BLOB = serialised v1::Preset)
///   panels(id PRIMARY KEY, updated_ns, body BLOB = serialised v1::Panel) — added without a
///     version change: opening an older file creates the (empty) table
///   meta(key PRIMARY KEY, value): 'schema_version' = '1'

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nodes/core/expected.hpp"
#include "studiograph/v1/control.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

class state_store {
public:
  static constexpr int schema_version = 1;
  static constexpr int busy_timeout_ms = 5000;

  // Every call that can fail returns `expected`: its failure is one message naming the file,
  // "store: '<path>': <what failed>[: <SQLite's reason>]", and no exception leaves the store.

  /// Opens (creating it and its parent directories when missing) the database at `path`.
  /// `synchronous_full`: every commit is fsynced (survives power loss); otherwise WAL's
  /// `synchronous=NORMAL` (survives a process crash; the last commits may be lost on power
  /// loss). Fails with "store: '<path>': <reason>" (no directory, not a database, a newer
  /// schema, no write-ahead logging).
  // thread: any (then one owner thread at a time)
  static expected<std::unique_ptr<state_store>> open(const std::string& path,
                                                     bool synchronous_full);

  ~state_store();
  state_store(const state_store&) = delete;
  state_store& operator=(const state_store&) = delete;

  /// Every stored value, ordered by (node, param). Fails on a database error or an unreadable
  /// value.
  // thread: owner
  expected<std::vector<v1::StoredParam>> load_params();

  /// Applies `clears` and then `upserts` in one transaction (all or nothing). Clears come
  /// first, so the caller passes a coalesced batch in which every upsert is newer than every
  /// clear it overlaps (the writer actor drops pending upserts a later clear covers). An upsert
  /// replaces the stored value of its (node, param). Fails with the SQLite message, after
  /// rolling back.
  // thread: owner
  expected<void> write(const std::vector<v1::PersistParam>& upserts,
                       const std::vector<v1::PersistClear>& clears);

  /// Saves `preset` under its name, replacing any preset of that name. `saved_unix_ns` is set
  /// to now when zero.
  // thread: owner
  expected<void> save_preset(const v1::Preset& preset);

  /// The preset called `name`, or nothing when there is none. Fails on a database error or an
  /// unreadable preset.
  // thread: owner
  expected<std::optional<v1::Preset>> load_preset(const std::string& name);

  /// A summary of every preset, sorted by name (byte order). Fails on a database error or an
  /// unreadable preset.
  // thread: owner
  expected<std::vector<v1::PresetInfo>> list_presets();

  /// Deletes the preset called `name`; false when there was none.
  // thread: owner
  expected<bool> delete_preset(const std::string& name);

  /// Every stored panel, ordered by id. Fails on a database error or an unreadable panel.
  // thread: owner
  expected<std::vector<v1::Panel>> load_panels();

  /// Deletes `w.deletes` then saves `w.upserts` (replacing panels of the same id) in one
  /// transaction. Fails after rolling back.
  // thread: owner
  expected<void> write_panels(const v1::PanelWrite& w);

  /// SQLite's `PRAGMA integrity_check`: "ok" when the file is sound, else its findings. Fails
  /// with SQLite's message when the check cannot run.
  // thread: owner
  expected<std::string> integrity_check();

  // thread: any
  std::string path() const;

private:
  struct impl;
  explicit state_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Where a graph's state lives by default: `$XDG_STATE_HOME/studiograph/<name>.sqlite`, else
/// `$HOME/.local/state/studiograph/<name>.sqlite` (relative to the working directory when
/// neither is set). `graph_name` is reduced to [A-Za-z0-9._-] (others become '_', so it can
/// never name another directory); an empty name becomes "graph".
// thread: any
std::string default_state_path(const std::string& graph_name);

} // namespace sg
