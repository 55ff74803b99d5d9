#pragma once

/// Test support for the store suites: temporary directories, a second raw SQLite connection,
/// numbered names, verdicts on the store's results.

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "nodes/core/expected.hpp"

namespace sg::test {

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
class temp_dir {
public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && base[0] ? base : "/tmp") + "/sg-store-XXXXXX";
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp failed for " + templ);
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
  std::filesystem::path path_;
};

/// A second, independent connection to a store file: how tests look under the writer's feet
/// (journal mode, schema) and inject failures (a trigger that aborts a write).
class raw_db {
public:
  explicit raw_db(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK)
      throw std::runtime_error("sqlite3_open " + path);
    sqlite3_busy_timeout(db_, 5000);
  }
  ~raw_db() { sqlite3_close(db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;

  /// Runs `sql`; returns the first column of the last row (empty when none) or "error: ...".
  std::string exec(const std::string& sql) {
    std::string out;
    char* err = nullptr;
    auto cb = [](void* p, int n, char** values, char**) {
      *static_cast<std::string*>(p) = n > 0 && values[0] ? values[0] : "";
      return 0;
    };
    if (sqlite3_exec(db_, sql.c_str(), cb, &out, &err) != SQLITE_OK) {
      out = std::string("error: ") + (err ? err : "?");
      sqlite3_free(err);
    }
    return out;
  }

private:
  sqlite3* db_ = nullptr;
};

/// "p7" for ("p", 7). (Spelled out because g++ 12 -O2 warns falsely (-Wrestrict) about
/// `"p" + std::to_string(i)`.)
inline std::string numbered(const char* prefix, uint64_t i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

/// A gtest verdict on a store call's result: success, or failure showing the store's message.
///   ASSERT_TRUE(ok(store->write(upserts, {})));
template <class T>
::testing::AssertionResult ok(const expected<T>& result) {
  if (result)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error();
}

} // namespace sg::test
