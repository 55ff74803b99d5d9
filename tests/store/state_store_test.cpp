// state_store: schema and WAL mode, value round trips, upserts and clears, atomic writes,
// presets, reopening, integrity and the errors a user sees — on real SQLite files.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <optional>

#include "actors/store/state_store.hpp"
#include "support.hpp"

namespace {

namespace v1 = studiograph::v1;
using sg::state_store;
using sg::test::ok;

v1::PersistParam persist(const std::string& node, const std::string& param, v1::Value value,
                         uint64_t rev = 1, const std::string& type = "audio.gain") {
  v1::PersistParam p;
  p.set_node(node);
  p.set_type(type);
  p.set_param(param);
  *p.mutable_value() = std::move(value);
  p.set_node_rev(rev);
  return p;
}

v1::Value num(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}

v1::PersistClear clear(const std::string& node, std::vector<std::string> params = {}) {
  v1::PersistClear c;
  c.set_node(node);
  for (auto& p : params)
    c.add_params(p);
  return c;
}

/// "node.param=value" for every stored value, in load order.
std::vector<std::string> listing(state_store& store) {
  std::vector<std::string> out;
  auto params = store.load_params();
  if (!params) {
    ADD_FAILURE() << params.error();
    return out;
  }
  for (const auto& p : *params)
    out.push_back(p.node() + "." + p.param() + "=" + p.value().ShortDebugString());
  return out;
}

v1::Preset preset(const std::string& name, std::vector<std::string> nodes, int params_each) {
  v1::Preset p;
  p.set_name(name);
  for (const auto& id : nodes) {
    auto* n = p.add_nodes();
    n->set_id(id);
    n->set_type("audio.gain");
    for (int i = 0; i < params_each; ++i) {
      auto* pp = n->add_params();
      pp->set_name(sg::test::numbered("p", i));
      pp->mutable_value()->set_double_value(i);
    }
  }
  return p;
}

class state_store_fixture : public ::testing::Test {
protected:
  sg::test::temp_dir dir;
  std::string path = dir.file("state/g.sqlite");

  std::unique_ptr<state_store> open(bool full = true) {
    auto store = state_store::open(path, full);
    EXPECT_TRUE(ok(store));
    return store ? std::move(*store) : nullptr;
  }
};

TEST_F(state_store_fixture, creates_directories_schema_and_wal_journal) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_EQ(store->path(), path);
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << "parent directory created";
  sg::test::raw_db raw(path);
  EXPECT_EQ(raw.exec("PRAGMA journal_mode"), "wal") << "WAL is persistent in the file";
  EXPECT_EQ(raw.exec("SELECT value FROM meta WHERE key = 'schema_version'"), "1");
  EXPECT_EQ(raw.exec("SELECT count(*) FROM sqlite_schema WHERE name IN ('params', 'presets')"),
            "2");
  auto integrity = store->integrity_check();
  ASSERT_TRUE(ok(integrity));
  EXPECT_EQ(*integrity, "ok");
  auto params = store->load_params();
  ASSERT_TRUE(ok(params));
  EXPECT_TRUE(params->empty());
  auto presets = store->list_presets();
  ASSERT_TRUE(ok(presets));
  EXPECT_TRUE(presets->empty());
}

TEST_F(state_store_fixture, every_value_kind_round_trips) {
  auto store = open();
  ASSERT_TRUE(store);
  std::vector<v1::Value> values(10);
  values[0].set_double_value(-0.125);
  values[1].set_double_value(std::numeric_limits<double>::infinity());
  values[2].set_int_value(std::numeric_limits<int64_t>::min());
  values[3].set_int_value(std::numeric_limits<int64_t>::max());
  values[4].set_bool_value(true);
  values[5].set_bool_value(false);
  values[6].set_string_value(std::string("caf\xc3\xa9 \0 nul", 11));
  values[7].set_string_value("");
  values[8].set_enum_value("sawtooth");
  // values[9] has no kind set: stored as an empty blob, read back unset.
  std::vector<v1::PersistParam> upserts;
  for (size_t i = 0; i < values.size(); ++i)
    upserts.push_back(
      persist("n", sg::test::numbered("p", i), values[i], i, sg::test::numbered("type", i)));
  ASSERT_TRUE(ok(store->write(upserts, {})));

  auto loaded = store->load_params();
  ASSERT_TRUE(ok(loaded));
  ASSERT_EQ(loaded->size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const auto& p = (*loaded)[i];  // ordered by param name; p0..p9 sort as written
    EXPECT_EQ(p.node(), "n");
    EXPECT_EQ(p.param(), sg::test::numbered("p", i));
    EXPECT_EQ(p.type(), sg::test::numbered("type", i));
    EXPECT_EQ(p.value().kind_case(), values[i].kind_case()) << i;
    EXPECT_EQ(p.value().SerializeAsString(), values[i].SerializeAsString()) << i;
  }
  EXPECT_EQ((*loaded)[1].value().double_value(), std::numeric_limits<double>::infinity());
  EXPECT_EQ((*loaded)[6].value().string_value().size(), 11u) << "embedded NUL kept";
}

TEST_F(state_store_fixture, upsert_replaces_value_type_and_revision) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(
    ok(store->write({persist("a", "level", num(1), 1), persist("b", "level", num(2), 1)}, {})));
  ASSERT_TRUE(ok(store->write({persist("a", "level", num(-6), 7, "audio.trim")}, {})));
  auto loaded = store->load_params();
  ASSERT_TRUE(ok(loaded));
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].value().double_value(), -6);
  EXPECT_EQ((*loaded)[0].type(), "audio.trim");
  EXPECT_EQ((*loaded)[1].value().double_value(), 2) << "other node untouched";
  sg::test::raw_db raw(path);
  EXPECT_EQ(raw.exec("SELECT node_rev FROM params WHERE node = 'a'"), "7");
  EXPECT_NE(raw.exec("SELECT updated_ns FROM params WHERE node = 'a'"), "0");
}

TEST_F(state_store_fixture, clears_whole_nodes_or_listed_params_before_upserts) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(ok(
    store->write({persist("a", "x", num(1)), persist("a", "y", num(2)), persist("a", "z", num(3)),
                  persist("b", "x", num(4)), persist("b", "y", num(5))},
                 {})));
  ASSERT_TRUE(ok(store->write({}, {clear("b")})));
  EXPECT_EQ(listing(*store),
            (std::vector<std::string>{"a.x=double_value: 1", "a.y=double_value: 2",
                                      "a.z=double_value: 3"}));
  ASSERT_TRUE(ok(store->write({}, {clear("a", {"y", "absent"})})));
  EXPECT_EQ(listing(*store),
            (std::vector<std::string>{"a.x=double_value: 1", "a.z=double_value: 3"}));
  // Same batch: the clear goes first, so the re-added value survives it.
  ASSERT_TRUE(ok(store->write({persist("a", "z", num(9), 2)}, {clear("a")})));
  EXPECT_EQ(listing(*store), (std::vector<std::string>{"a.z=double_value: 9"}));
}

TEST_F(state_store_fixture, failed_write_rolls_back_the_whole_batch_with_the_sqlite_message) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(ok(store->write({persist("a", "x", num(1))}, {})));
  sg::test::raw_db raw(path);
  ASSERT_EQ(raw.exec("CREATE TRIGGER boom BEFORE INSERT ON params WHEN NEW.param = 'boom' "
                     "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
            "");
  auto failed =
    store->write({persist("a", "ok", num(2)), persist("a", "boom", num(3))}, {clear("a", {"x"})});
  ASSERT_FALSE(failed) << "write must fail";
  EXPECT_NE(failed.error().find("injected failure"), std::string::npos) << failed.error();
  EXPECT_NE(failed.error().find(path), std::string::npos) << failed.error();
  EXPECT_EQ(listing(*store), (std::vector<std::string>{"a.x=double_value: 1"}))
    << "neither the clear nor the first upsert of the failed batch is visible";
  raw.exec("DROP TRIGGER boom");
  ASSERT_TRUE(ok(store->write({persist("a", "boom", num(3))}, {})));
  auto loaded = store->load_params();
  ASSERT_TRUE(ok(loaded));
  EXPECT_EQ(loaded->size(), 2u) << "the store is usable after a failure";
}

TEST_F(state_store_fixture, presets_save_replace_load_list_sorted_and_delete) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(ok(store->save_preset(preset("verse", {"a", "b"}, 2))));
  ASSERT_TRUE(ok(store->save_preset(preset("Chorus", {"a"}, 3))));
  auto stamped = preset("bridge", {"c"}, 1);
  stamped.set_saved_unix_ns(1234);
  ASSERT_TRUE(ok(store->save_preset(stamped)));

  auto listed = store->list_presets();
  ASSERT_TRUE(ok(listed));
  const auto& list = *listed;
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name(), "Chorus") << "byte order: upper case first";
  EXPECT_EQ(list[1].name(), "bridge");
  EXPECT_EQ(list[2].name(), "verse");
  EXPECT_EQ(list[2].params(), 4u);
  ASSERT_EQ(list[2].nodes_size(), 2);
  EXPECT_EQ(list[2].nodes(1), "b");
  EXPECT_GT(list[2].saved_unix_ns(), 0) << "stamped when saved without a time";
  EXPECT_EQ(list[1].saved_unix_ns(), 1234) << "an explicit time is kept";

  ASSERT_TRUE(ok(store->save_preset(preset("verse", {"z"}, 1))));
  auto loaded = store->load_preset("verse");
  ASSERT_TRUE(ok(loaded));
  ASSERT_TRUE(*loaded);
  const auto& verse = **loaded;
  ASSERT_EQ(verse.nodes_size(), 1) << "saving again replaces";
  EXPECT_EQ(verse.nodes(0).id(), "z");
  EXPECT_EQ(verse.nodes(0).params(0).name(), "p0");
  EXPECT_GT(verse.saved_unix_ns(), 0);
  auto absent = store->load_preset("absent");
  ASSERT_TRUE(ok(absent));
  EXPECT_FALSE(*absent);

  auto deleted = store->delete_preset("bridge");
  ASSERT_TRUE(ok(deleted));
  EXPECT_TRUE(*deleted);
  deleted = store->delete_preset("bridge");
  ASSERT_TRUE(ok(deleted));
  EXPECT_FALSE(*deleted);
  listed = store->list_presets();
  ASSERT_TRUE(ok(listed));
  EXPECT_EQ(listed->size(), 2u);
}

TEST_F(state_store_fixture, reopening_restores_values_and_presets) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    std::vector<v1::PersistParam> upserts;
    for (int i = 0; i < 10000; ++i)
      upserts.push_back(persist(sg::test::numbered("node", i / 10),
                                sg::test::numbered("p", i % 10), num(i), static_cast<uint64_t>(i)));
    ASSERT_TRUE(ok(store->write(upserts, {})));
    ASSERT_TRUE(ok(store->save_preset(preset("init", {"node0"}, 2))));
  }
  auto store = open(false);
  ASSERT_TRUE(store);
  auto loaded = store->load_params();
  ASSERT_TRUE(ok(loaded));
  ASSERT_EQ(loaded->size(), 10000u);
  EXPECT_EQ(loaded->front().node(), "node0");
  EXPECT_EQ(loaded->front().param(), "p0");
  double sum = 0;
  for (const auto& p : *loaded)
    sum += p.value().double_value();
  EXPECT_EQ(sum, 9999.0 * 10000 / 2) << "every value back";
  auto init = store->load_preset("init");
  ASSERT_TRUE(ok(init));
  ASSERT_TRUE(*init);
  auto integrity = store->integrity_check();
  ASSERT_TRUE(ok(integrity));
  EXPECT_EQ(*integrity, "ok");
}

TEST_F(state_store_fixture, a_path_under_a_regular_file_fails_with_a_clear_error) {
  std::ofstream(dir.file("plain")) << "not a directory";
  auto bad = dir.file("plain/sub/g.sqlite");
  auto opened = state_store::open(bad, true);
  ASSERT_FALSE(opened);
  const auto& error = opened.error();
  EXPECT_NE(error.find("store: '" + bad + "'"), std::string::npos) << error;
  EXPECT_NE(error.find("cannot create directory"), std::string::npos) << error;
  EXPECT_NE(error.find("Not a directory"), std::string::npos) << error;
}

TEST_F(state_store_fixture, a_directory_or_a_foreign_file_is_not_opened) {
  auto opened = state_store::open(dir.path().string(), true);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().find(dir.path().string()), std::string::npos) << opened.error();

  auto foreign = dir.file("foreign.sqlite");
  std::ofstream(foreign) << std::string(4096, 'x');
  opened = state_store::open(foreign, true);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().find("file is not a database"), std::string::npos) << opened.error();

  opened = state_store::open("", true);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error(), "store: '': empty path");
}

TEST_F(state_store_fixture, a_newer_schema_is_refused_not_overwritten) {
  open().reset();
  sg::test::raw_db(path).exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  auto opened = state_store::open(path, true);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().find("schema version '2'"), std::string::npos) << opened.error();
  EXPECT_EQ(sg::test::raw_db(path).exec("SELECT value FROM meta WHERE key = 'schema_version'"),
            "2");
}

/// Sets (or unsets, for null) an environment variable for one scope.
class scoped_env {
public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    value ? setenv(name, value, 1) : unsetenv(name);
  }
  ~scoped_env() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(default_state_path, follows_xdg_state_home_then_home_and_sanitises_the_name) {
  {
    scoped_env xdg("XDG_STATE_HOME", "/srv/state");
    EXPECT_EQ(sg::default_state_path("my graph"), "/srv/state/studiograph/my_graph.sqlite");
    EXPECT_EQ(sg::default_state_path("../../etc/passwd"),
              "/srv/state/studiograph/.._.._etc_passwd.sqlite");
    EXPECT_EQ(sg::default_state_path(""), "/srv/state/studiograph/graph.sqlite");
    EXPECT_EQ(sg::default_state_path("Live-1.v2_b"), "/srv/state/studiograph/Live-1.v2_b.sqlite");
  }
  scoped_env home("HOME", "/home/op");
  {
    scoped_env xdg("XDG_STATE_HOME", nullptr);
    EXPECT_EQ(sg::default_state_path("g"), "/home/op/.local/state/studiograph/g.sqlite");
  }
  scoped_env relative("XDG_STATE_HOME", "relative/dir");
  EXPECT_EQ(sg::default_state_path("g"), "/home/op/.local/state/studiograph/g.sqlite")
    << "a relative XDG_STATE_HOME is ignored, as the spec requires";
}

} // namespace
