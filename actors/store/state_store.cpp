#include "actors/store/state_store.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <utility>

#include <sqlite3.h>

namespace sg {

namespace {

struct db_deleter {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

struct stmt_deleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

using db_ptr = std::unique_ptr<sqlite3, db_deleter>;
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_deleter>;

/// Resets a cached statement when a call leaves, whether it finished, failed or threw, so the
/// next use starts clean and no read transaction is held open.
struct reset_on_exit {
  sqlite3_stmt* s;
  ~reset_on_exit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Bound strings and blobs live until the statement is stepped, so SQLite need not copy them.
void bind_text(sqlite3_stmt* s, int i, const std::string& text) {
  sqlite3_bind_text(s, i, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
}

void bind_blob(sqlite3_stmt* s, int i, const std::string& bytes) {
  sqlite3_bind_blob(s, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
}

std::string column_text(sqlite3_stmt* s, int i) {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

template <class Message>
bool parse_column(sqlite3_stmt* s, int i, Message& out) {
  const void* data = sqlite3_column_blob(s, i);
  return out.ParseFromArray(data, sqlite3_column_bytes(s, i));
}

constexpr const char* schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS params(
  node TEXT NOT NULL,
  param TEXT NOT NULL,
  type TEXT NOT NULL,
  value BLOB NOT NULL,
  node_rev INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL,
  PRIMARY KEY(node, param)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS presets(
  name TEXT PRIMARY KEY,
  saved_ns INTEGER NOT NULL,
  body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS panels(
  id TEXT PRIMARY KEY,
  updated_ns INTEGER NOT NULL,
  body BLOB NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
)sql";

} // namespace

struct state_store::impl {
  std::string path;
  db_ptr db;  // declared before the statements: finalised after them
  stmt_ptr begin, commit, rollback;
  stmt_ptr upsert, clear_node, clear_param, select_params;
  stmt_ptr save_preset, load_preset, list_presets, delete_preset;
  stmt_ptr upsert_panel, delete_panel, select_panels;
  std::string buffer;  // serialised values, reused across rows

  /// "store: '<path>': <what>", the form of every failure of this file.
  unexpected failed(const std::string& what) const {
    return unexpected("store: '" + path + "': " + what);
  }

  /// A failed SQLite call, with SQLite's message (read before anything else touches `db`).
  unexpected sqlite_failed(const std::string& what) const {
    return failed(what + ": " + sqlite3_errmsg(db.get()));
  }

  expected<void> exec(const char* sql, const std::string& what) {
    if (sqlite3_exec(db.get(), sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return sqlite_failed(what);
    return {};
  }

  expected<stmt_ptr> prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) !=
        SQLITE_OK)
      return sqlite_failed(std::string("prepare '") + sql + "'");
    return stmt_ptr(s);
  }

  /// Runs a statement that returns no rows.
  expected<void> run(const stmt_ptr& s, const char* what) {
    reset_on_exit reset{s.get()};
    if (sqlite3_step(s.get()) != SQLITE_DONE)
      return sqlite_failed(what);
    return {};
  }

  /// The first column of the first row of `sql` (a pragma's answer).
  expected<std::string> query_text(const char* sql, const std::string& what) {
    auto s = prepare(sql);
    if (!s)
      return unexpected(s.error());
    int rc = sqlite3_step(s->get());
    if (rc == SQLITE_ROW)
      return column_text(s->get(), 0);
    if (rc != SQLITE_DONE)
      return sqlite_failed(what);
    return std::string();
  }

  void rollback_if_open() {
    if (!sqlite3_get_autocommit(db.get())) {
      sqlite3_reset(rollback.get());
      sqlite3_step(rollback.get());
      sqlite3_reset(rollback.get());
    }
  }

  /// Runs `body` (returning expected<void>) in one write transaction begun with `begin_what`
  /// as its failure text: committed when it succeeds, rolled back when it fails or throws.
  template <class Body>
  expected<void> transaction(const char* begin_what, Body&& body) {
    if (auto begun = run(begin, begin_what); !begun)
      return begun;
    struct rollback_unless_committed {
      impl& d;
      ~rollback_unless_committed() { d.rollback_if_open(); }
    } guard{*this};
    if (auto done = body(); !done)
      return done;
    return run(commit, "commit");
  }

  expected<void> create_schema() {
    if (auto begun = exec("BEGIN IMMEDIATE", "begin schema transaction"); !begun)
      return begun;
    auto done = create_schema_in_transaction();
    if (!done)
      sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return done;
  }

  expected<void> create_schema_in_transaction() {
    if (auto created = exec(schema_sql, "create schema"); !created)
      return created;
    auto version =
      query_text("SELECT value FROM meta WHERE key = 'schema_version'", "read schema version");
    if (!version)
      return unexpected(version.error());
    if (*version != std::to_string(schema_version)) {
      return failed("schema version '" + *version +
                    "' is not supported (this build reads version " +
                    std::to_string(schema_version) + ")");
    }
    return exec("COMMIT", "commit schema");
  }

  expected<void> prepare_statements() {
    const std::pair<stmt_ptr*, const char*> statements[] = {
      {&begin, "BEGIN IMMEDIATE"},
      {&commit, "COMMIT"},
      {&rollback, "ROLLBACK"},
      {&upsert, "INSERT OR REPLACE INTO params(node, param, type, value, node_rev, updated_ns) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"},
      {&clear_node, "DELETE FROM params WHERE node = ?1"},
      {&clear_param, "DELETE FROM params WHERE node = ?1 AND param = ?2"},
      {&select_params, "SELECT node, param, type, value FROM params ORDER BY node, param"},
      {&save_preset, "INSERT OR REPLACE INTO presets(name, saved_ns, body) VALUES(?1, ?2, ?3)"},
      {&load_preset, "SELECT body FROM presets WHERE name = ?1"},
      {&list_presets, "SELECT name, body FROM presets ORDER BY name"},
      {&delete_preset, "DELETE FROM presets WHERE name = ?1"},
      {&upsert_panel, "INSERT OR REPLACE INTO panels(id, updated_ns, body) VALUES(?1, ?2, ?3)"},
      {&delete_panel, "DELETE FROM panels WHERE id = ?1"},
      {&select_panels, "SELECT id, body FROM panels ORDER BY id"},
    };
    for (const auto& [stmt, sql] : statements) {
      auto prepared = prepare(sql);
      if (!prepared)
        return unexpected(prepared.error());
      *stmt = std::move(*prepared);
    }
    return {};
  }

  /// Sets the file up once it is open: WAL journal, durability, schema, statements.
  expected<void> set_up(bool synchronous_full) {
    auto mode = query_text("PRAGMA journal_mode=WAL", "set journal mode");
    if (!mode)
      return unexpected(mode.error());
    if (*mode != "wal")
      return failed("cannot use write-ahead logging (journal_mode stayed '" + *mode + "')");
    if (auto set = exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                        "set synchronous");
        !set)
      return set;
    if (auto created = create_schema(); !created)
      return created;
    return prepare_statements();
  }

  expected<void> apply_clear(const v1::PersistClear& c) {
    if (c.params().empty()) {
      bind_text(clear_node.get(), 1, c.node());
      return run(clear_node, "clear node");
    }
    for (const auto& param : c.params()) {
      bind_text(clear_param.get(), 1, c.node());
      bind_text(clear_param.get(), 2, param);
      if (auto cleared = run(clear_param, "clear param"); !cleared)
        return cleared;
    }
    return {};
  }

  expected<void> apply_upsert(const v1::PersistParam& u, int64_t updated_ns) {
    auto* s = upsert.get();
    u.value().SerializeToString(&buffer);
    bind_text(s, 1, u.node());
    bind_text(s, 2, u.param());
    bind_text(s, 3, u.type());
    bind_blob(s, 4, buffer);
    sqlite3_bind_int64(s, 5, static_cast<sqlite3_int64>(u.node_rev()));
    sqlite3_bind_int64(s, 6, updated_ns);
    return run(upsert, "write param");
  }

  expected<void> write_panels(const v1::PanelWrite& w) {
    const auto updated = now_ns();
    for (const auto& id : w.deletes()) {
      bind_text(delete_panel.get(), 1, id);
      if (auto deleted = run(delete_panel, "delete panel"); !deleted)
        return deleted;
    }
    for (const auto& panel : w.upserts()) {
      panel.SerializeToString(&buffer);
      bind_text(upsert_panel.get(), 1, panel.id());
      sqlite3_bind_int64(upsert_panel.get(), 2, updated);
      bind_blob(upsert_panel.get(), 3, buffer);
      if (auto saved = run(upsert_panel, "save panel"); !saved)
        return saved;
    }
    return {};
  }
};

namespace {

/// Runs a public call's `body`, turning anything it throws (out of memory, a library's
/// exception) into the call's failure, so that no exception leaves the store.
template <class Body>
auto guarded(const std::string& path, const char* what, Body&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return unexpected("store: '" + path + "': " + what + ": " + e.what());
  }
}

} // namespace

state_store::state_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

state_store::~state_store() = default;

expected<std::unique_ptr<state_store>> state_store::open(const std::string& path,
                                                         bool synchronous_full) {
  return guarded(path, "open", [&]() -> expected<std::unique_ptr<state_store>> {
    auto p = std::make_unique<impl>();
    p->path = path;
    if (path.empty())
      return p->failed("empty path");
    std::error_code ec;
    auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (ec)
        return p->failed("cannot create directory '" + parent.string() + "': " + ec.message());
    }
    sqlite3* raw = nullptr;
    int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    p->db.reset(raw);
    if (rc != SQLITE_OK)
      return p->failed(std::string("cannot open: ") +
                       (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_busy_timeout(raw, busy_timeout_ms);
    if (auto ready = p->set_up(synchronous_full); !ready)
      return unexpected(ready.error());
    return std::unique_ptr<state_store>(new state_store(std::move(p)));
  });
}

expected<std::vector<v1::StoredParam>> state_store::load_params() {
  auto& d = *impl_;
  return guarded(d.path, "load params", [&]() -> expected<std::vector<v1::StoredParam>> {
    auto* s = d.select_params.get();
    reset_on_exit reset{s};
    std::vector<v1::StoredParam> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto& p = out.emplace_back();
      p.set_node(column_text(s, 0));
      p.set_param(column_text(s, 1));
      p.set_type(column_text(s, 2));
      if (!parse_column(s, 3, *p.mutable_value()))
        return d.failed("unreadable value for " + p.node() + "." + p.param());
    }
    if (rc != SQLITE_DONE)
      return d.sqlite_failed("load params");
    return out;
  });
}

expected<void> state_store::write(const std::vector<v1::PersistParam>& upserts,
                                  const std::vector<v1::PersistClear>& clears) {
  auto& d = *impl_;
  return guarded(d.path, "write", [&] {
    return d.transaction("begin write", [&]() -> expected<void> {
      for (const auto& c : clears)
        if (auto cleared = d.apply_clear(c); !cleared)
          return cleared;
      const auto updated = now_ns();
      for (const auto& u : upserts)
        if (auto written = d.apply_upsert(u, updated); !written)
          return written;
      return {};
    });
  });
}

expected<void> state_store::save_preset(const v1::Preset& preset) {
  auto& d = *impl_;
  return guarded(d.path, "save preset", [&] {
    auto* s = d.save_preset.get();
    int64_t saved = preset.saved_unix_ns() != 0 ? preset.saved_unix_ns() : now_ns();
    if (preset.saved_unix_ns() == 0) {
      v1::Preset stamped = preset;
      stamped.set_saved_unix_ns(saved);
      stamped.SerializeToString(&d.buffer);
    } else {
      preset.SerializeToString(&d.buffer);
    }
    bind_text(s, 1, preset.name());
    sqlite3_bind_int64(s, 2, saved);
    bind_blob(s, 3, d.buffer);
    return d.run(d.save_preset, "save preset");
  });
}

expected<std::optional<v1::Preset>> state_store::load_preset(const std::string& name) {
  using result = std::optional<v1::Preset>;
  auto& d = *impl_;
  return guarded(d.path, "load preset", [&]() -> expected<result> {
    auto* s = d.load_preset.get();
    reset_on_exit reset{s};
    bind_text(s, 1, name);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
      return result();
    if (rc != SQLITE_ROW)
      return d.sqlite_failed("load preset");
    v1::Preset preset;
    if (!parse_column(s, 0, preset))
      return d.failed("unreadable preset '" + name + "'");
    return result(std::move(preset));
  });
}

expected<std::vector<v1::PresetInfo>> state_store::list_presets() {
  auto& d = *impl_;
  return guarded(d.path, "list presets", [&]() -> expected<std::vector<v1::PresetInfo>> {
    auto* s = d.list_presets.get();
    reset_on_exit reset{s};
    std::vector<v1::PresetInfo> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      v1::Preset preset;
      auto& info = out.emplace_back();
      info.set_name(column_text(s, 0));
      if (!parse_column(s, 1, preset))
        return d.failed("unreadable preset '" + info.name() + "'");
      uint32_t params = 0;
      for (const auto& n : preset.nodes()) {
        info.add_nodes(n.id());
        params += static_cast<uint32_t>(n.params_size());
      }
      info.set_params(params);
      info.set_saved_unix_ns(preset.saved_unix_ns());
    }
    if (rc != SQLITE_DONE)
      return d.sqlite_failed("list presets");
    return out;
  });
}

expected<bool> state_store::delete_preset(const std::string& name) {
  auto& d = *impl_;
  return guarded(d.path, "delete preset", [&]() -> expected<bool> {
    bind_text(d.delete_preset.get(), 1, name);
    if (auto deleted = d.run(d.delete_preset, "delete preset"); !deleted)
      return unexpected(deleted.error());
    return sqlite3_changes(d.db.get()) > 0;
  });
}

expected<std::vector<v1::Panel>> state_store::load_panels() {
  auto& d = *impl_;
  return guarded(d.path, "load panels", [&]() -> expected<std::vector<v1::Panel>> {
    auto* s = d.select_panels.get();
    reset_on_exit reset{s};
    std::vector<v1::Panel> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto& panel = out.emplace_back();
      if (!parse_column(s, 1, panel))
        return d.failed("unreadable panel '" + column_text(s, 0) + "'");
    }
    if (rc != SQLITE_DONE)
      return d.sqlite_failed("load panels");
    return out;
  });
}

expected<void> state_store::write_panels(const v1::PanelWrite& w) {
  auto& d = *impl_;
  return guarded(d.path, "write panels", [&] {
    return d.transaction("begin panel write", [&] { return d.write_panels(w); });
  });
}

expected<std::string> state_store::integrity_check() {
  auto& d = *impl_;
  return guarded(d.path, "integrity check", [&]() -> expected<std::string> {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(d.db.get(), "PRAGMA integrity_check", -1, &raw, nullptr) != SQLITE_OK)
      return d.sqlite_failed("integrity check");
    stmt_ptr s(raw);
    std::string out;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      if (!out.empty())
        out += '\n';
      out += column_text(raw, 0);
    }
    if (rc != SQLITE_DONE)
      return d.sqlite_failed("integrity check");
    return out;
  });
}

std::string state_store::path() const {
  return impl_->path;
}

std::string default_state_path(const std::string& graph_name) {
  std::string name;
  for (char c : graph_name) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    name += keep ? c : '_';
  }
  if (name.empty())
    name = "graph";
  std::filesystem::path dir;
  // The XDG base directory spec says relative values are invalid and must be ignored.
  const char* xdg = std::getenv("XDG_STATE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && xdg[0] == '/')
    dir = xdg;
  else if (home && home[0] != '\0')
    dir = std::filesystem::path(home) / ".local" / "state";
  else
    dir = std::filesystem::path(".local") / "state";
  return (dir / "studiograph" / (name + ".sqlite")).string();
}

} // namespace sg
