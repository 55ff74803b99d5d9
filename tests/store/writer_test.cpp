// The persistence writer actor, driven through a real actor system with the real event hub:
// coalescing, ordering of clears, the StateDurable event, flush replies, reads that flush,
// shutdown that flushes, failed writes that are retried, and preset requests.

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <variant>

#include "actors/hub.hpp"
#include "actors/store/state_store.hpp"
#include "actors/store/writer.hpp"
#include "support.hpp"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;

/// How long a reply or an awaited event may take: a deadline for a loaded machine (sanitizers,
/// a busy core), never a timing assertion; every wait returns as soon as its answer is there.
constexpr auto patience = 30s;

struct store_config : caf::actor_system_config {
  store_config() {
    add_message_types<caf::id_block::studiograph>();
    set("logger.console", caf::atom("none"));
  }
};

v1::PersistParam persist(const std::string& node, const std::string& param, double value,
                         uint64_t rev) {
  v1::PersistParam p;
  p.set_node(node);
  p.set_type("audio.gain");
  p.set_param(param);
  p.mutable_value()->set_double_value(value);
  p.set_node_rev(rev);
  return p;
}

v1::PersistClear clear(const std::string& node, std::vector<std::string> params = {}) {
  v1::PersistClear c;
  c.set_node(node);
  for (auto& p : params)
    c.add_params(p);
  return c;
}

v1::Preset preset(const std::string& name) {
  v1::Preset p;
  p.set_name(name);
  auto* n = p.add_nodes();
  n->set_id("a");
  n->set_type("audio.gain");
  auto* pp = n->add_params();
  pp->set_name("gain_db");
  pp->mutable_value()->set_double_value(-3);
  return p;
}

bool is_durable(const v1::Event& ev) {
  return ev.has_durable();
}

class writer_fixture : public ::testing::Test {
protected:
  sg::test::temp_dir dir;
  std::string path = dir.file("g.sqlite");
  store_config cfg;
  caf::actor_system sys{cfg};
  sg::hub_actor hub = sg::spawn_hub(sys);
  caf::scoped_actor sink{sys};
  caf::scoped_actor self{sys};
  sg::store_actor writer;

  void SetUp() override {
    uint64_t id = 0;
    self
      ->request(hub, patience, caf::subscribe_atom_v, caf::actor_cast<caf::actor>(sink),
                v1::SubscribeRequest{})
      .receive([&](uint64_t x) { id = x; },
               [](caf::error& err) { ADD_FAILURE() << caf::to_string(err); });
    ASSERT_NE(id, 0u);
    ASSERT_TRUE(next_event([](const v1::Event& ev) { return ev.has_snapshot(); }));
  }

  void TearDown() override {
    stop_writer();
    self->send_exit(hub, caf::exit_reason::user_shutdown);
  }

  void start_writer(std::chrono::milliseconds interval) {
    auto store = sg::state_store::open(path, true);
    ASSERT_TRUE(sg::test::ok(store));
    writer = sg::spawn_store_writer(sys, std::move(*store), hub, interval);
  }

  void stop_writer() {
    if (!writer)
      return;
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->wait_for(writer);
    writer = nullptr;
  }

  /// The next event on the subscription that satisfies `pred` (others are skipped).
  std::optional<v1::Event> next_event(const std::function<bool(const v1::Event&)>& pred,
                                      std::chrono::milliseconds timeout = patience) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0s)
        return std::nullopt;
      std::optional<v1::Event> got;
      bool timed_out = false;
      sink->receive([&](v1::Event& ev) { got = std::move(ev); },
                    caf::after(std::chrono::duration_cast<std::chrono::milliseconds>(left)) >>
                      [&] { timed_out = true; });
      if (timed_out)
        return std::nullopt;
      if (got && pred(*got))
        return got;
    }
  }

  /// True when no event satisfying `pred` arrives within `quiet`.
  bool no_event(const std::function<bool(const v1::Event&)>& pred,
                std::chrono::milliseconds quiet = 300ms) {
    return !next_event(pred, quiet);
  }

  /// (flush_atom) -> last durable batch, or the error text.
  std::variant<uint64_t, std::string> flush() {
    std::variant<uint64_t, std::string> out = std::string("no reply");
    self->request(writer, patience, sg::flush_atom_v)
      .receive([&](uint64_t batch) { out = batch; },
               [&](caf::error& err) { out = caf::to_string(err); });
    return out;
  }

  v1::StoredState stored() {
    v1::StoredState out;
    self->request(writer, patience, caf::get_atom_v)
      .receive([&](v1::StoredState& s) { out = std::move(s); },
               [&](caf::error& err) { ADD_FAILURE() << caf::to_string(err); });
    return out;
  }

  template <class Reply, class... Ts>
  Reply ask(Ts&&... xs) {
    Reply out;
    self->request(writer, patience, std::forward<Ts>(xs)...)
      .receive([&](Reply& r) { out = std::move(r); },
               [&](caf::error& err) { ADD_FAILURE() << caf::to_string(err); });
    return out;
  }

  /// "node.param=value" for every stored value.
  std::vector<std::string> listing() {
    std::vector<std::string> out;
    auto s = stored();
    EXPECT_EQ(s.status().code(), 0) << s.status().message();
    for (const auto& p : s.params())
      out.push_back(p.node() + "." + p.param() + "=" +
                    std::to_string(static_cast<int>(p.value().double_value())));
    return out;
  }
};

TEST_F(writer_fixture, coalesces_ten_thousand_changes_into_one_batch_of_the_last_values) {
  start_writer(10s);  // only the explicit flush writes, so the batch boundary is exact
  for (uint64_t i = 1; i <= 10000; ++i)
    caf::anon_send(writer, persist("n", sg::test::numbered("p", i % 10), double(i), i));
  ASSERT_EQ(flush(), (std::variant<uint64_t, std::string>{uint64_t{1}}));

  auto ev = next_event(is_durable);
  ASSERT_TRUE(ev);
  EXPECT_TRUE(ev->node_id().empty());
  const auto& d = ev->durable();
  EXPECT_EQ(d.batch(), 1u);
  EXPECT_EQ(d.coalesced(), 10000u);
  EXPECT_EQ(d.path(), path);
  ASSERT_EQ(d.entries_size(), 10);
  for (const auto& e : d.entries()) {
    EXPECT_EQ(e.node(), "n");
    uint64_t last = 9990 + std::stoul(e.param().substr(1));
    EXPECT_EQ(e.node_rev(), last == 9990 ? 10000u : last) << e.param();
  }
  auto s = stored();
  ASSERT_EQ(s.params_size(), 10);
  EXPECT_EQ(s.params(0).param(), "p0");
  EXPECT_EQ(s.params(0).value().double_value(), 10000);
  EXPECT_EQ(s.params(9).value().double_value(), 9999);
  EXPECT_TRUE(no_event(is_durable)) << "one batch, nothing written twice";
}

TEST_F(writer_fixture, the_timer_flushes_without_being_asked) {
  start_writer(50ms);
  caf::anon_send(writer, persist("a", "level", -6, 1));
  caf::anon_send(writer, persist("a", "level", -9, 2));
  auto ev = next_event(is_durable, 3s);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->durable().batch(), 1u);
  EXPECT_EQ(ev->durable().coalesced(), 2u);
  ASSERT_EQ(ev->durable().entries_size(), 1);
  EXPECT_EQ(ev->durable().entries(0).node_rev(), 2u);
  caf::anon_send(writer, persist("a", "level", -12, 3));
  ev = next_event(is_durable, 3s);
  ASSERT_TRUE(ev) << "the timer is armed again for the next batch";
  EXPECT_EQ(ev->durable().batch(), 2u);
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.level=-12"}));
}

TEST_F(writer_fixture, a_stale_revision_never_overrides_a_newer_one) {
  start_writer(10s);
  caf::anon_send(writer, persist("a", "level", 5, 5));
  caf::anon_send(writer, persist("a", "level", 3, 3));
  ASSERT_EQ(std::get<uint64_t>(flush()), 1u);
  auto ev = next_event(is_durable);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->durable().entries(0).node_rev(), 5u);
  EXPECT_EQ(ev->durable().coalesced(), 2u) << "the stale change was still absorbed";
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.level=5"}));
}

TEST_F(writer_fixture, a_value_persisted_after_a_clear_survives_it) {
  start_writer(10s);
  caf::anon_send(writer, persist("a", "x", 1, 1));
  caf::anon_send(writer, persist("a", "z", 2, 2));
  caf::anon_send(writer, persist("b", "x", 3, 1));
  flush();
  // Pending: a.x and a.y are dropped by the clear of node a; then a.x comes back.
  caf::anon_send(writer, persist("a", "x", 10, 3));
  caf::anon_send(writer, persist("a", "y", 11, 4));
  caf::anon_send(writer, clear("a"));
  caf::anon_send(writer, persist("a", "x", 12, 1));  // a re-created node counts from 1 again
  caf::anon_send(writer, clear("b", {"x"}));
  ASSERT_EQ(std::get<uint64_t>(flush()), 2u);
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.x=12"}));
  next_event(is_durable);
  auto ev = next_event(is_durable);
  ASSERT_TRUE(ev);
  ASSERT_EQ(ev->durable().entries_size(), 1);
  EXPECT_EQ(ev->durable().entries(0).param(), "x");
  EXPECT_EQ(ev->durable().coalesced(), 3u);
}

TEST_F(writer_fixture, flush_replies_with_the_last_durable_batch_and_publishes_only_writes) {
  start_writer(10s);
  EXPECT_EQ(std::get<uint64_t>(flush()), 0u);
  EXPECT_TRUE(no_event(is_durable)) << "nothing pending: nothing written, nothing published";
  caf::anon_send(writer, persist("a", "x", 1, 1));
  EXPECT_EQ(std::get<uint64_t>(flush()), 1u);
  EXPECT_EQ(std::get<uint64_t>(flush()), 1u);
  caf::anon_send(writer, clear("a"));
  EXPECT_EQ(std::get<uint64_t>(flush()), 2u) << "a clear alone is a batch too";
  EXPECT_TRUE(listing().empty());
}

TEST_F(writer_fixture, reading_stored_state_writes_pending_values_first) {
  start_writer(10s);
  caf::anon_send(writer, persist("a", "x", 7, 1));
  auto s = stored();
  EXPECT_EQ(s.status().code(), 0);
  EXPECT_EQ(s.path(), path);
  ASSERT_EQ(s.params_size(), 1);
  EXPECT_EQ(s.params(0).type(), "audio.gain");
  EXPECT_EQ(s.params(0).value().double_value(), 7);
  EXPECT_TRUE(next_event(is_durable)) << "the read made the value durable";
}

TEST_F(writer_fixture, an_exit_message_writes_what_is_pending_before_quitting) {
  start_writer(10s);
  for (uint64_t i = 1; i <= 100; ++i)
    caf::anon_send(writer, persist(sg::test::numbered("n", i % 4), "level", double(i), i));
  stop_writer();
  auto ev = next_event(is_durable);
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->durable().entries_size(), 4);
  EXPECT_EQ(ev->durable().coalesced(), 100u);

  auto store = sg::state_store::open(path, true);
  ASSERT_TRUE(sg::test::ok(store));
  auto params = (*store)->load_params();
  ASSERT_TRUE(sg::test::ok(params));
  ASSERT_EQ(params->size(), 4u);
  EXPECT_EQ((*params)[0].node(), "n0");
  EXPECT_EQ((*params)[0].value().double_value(), 100);
}

TEST_F(writer_fixture, a_failed_write_is_reported_kept_and_retried_until_it_succeeds) {
  start_writer(10s);
  sg::test::raw_db raw(path);
  ASSERT_EQ(raw.exec("CREATE TRIGGER boom BEFORE INSERT ON params WHEN NEW.param = 'boom' "
                     "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
            "");
  caf::anon_send(writer, persist("a", "ok", 1, 1));
  caf::anon_send(writer, persist("a", "boom", 2, 2));
  auto reply = flush();
  ASSERT_TRUE(std::holds_alternative<std::string>(reply));
  EXPECT_NE(std::get<std::string>(reply).find("injected failure"), std::string::npos);

  auto failed = next_event([](const v1::Event& ev) { return ev.has_node_status(); });
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->node_status().node(), "store");
  EXPECT_EQ(failed->node_status().state(), v1::NodeStatus::STATE_FAILED);
  EXPECT_NE(failed->node_status().message().find("injected failure"), std::string::npos);

  auto s = stored();
  EXPECT_EQ(s.status().code(), sg::code_unavailable) << "not durable yet, and said so";
  EXPECT_EQ(s.params_size(), 2) << "but the pending values are part of the answer";

  raw.exec("DROP TRIGGER boom");
  auto durable = next_event(is_durable);
  ASSERT_TRUE(durable) << "the retry timer wrote the kept values";
  EXPECT_EQ(durable->durable().batch(), 1u);
  EXPECT_EQ(durable->durable().entries_size(), 2);
  EXPECT_EQ(durable->durable().coalesced(), 2u);
  auto resumed = next_event([](const v1::Event& ev) { return ev.has_node_status(); });
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->node_status().state(), v1::NodeStatus::STATE_RUNNING);
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.boom=2", "a.ok=1"}));
}

TEST_F(writer_fixture, values_that_cannot_be_written_at_shutdown_are_reported_not_lost_silently) {
  start_writer(10s);
  sg::test::raw_db raw(path);
  raw.exec("CREATE TRIGGER boom BEFORE INSERT ON params "
           "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
  caf::anon_send(writer, persist("a", "x", 1, 1));
  caf::anon_send(writer, persist("a", "y", 2, 1));
  stop_writer();
  auto ev = next_event([](const v1::Event& ev) {
    return ev.has_node_status() &&
           ev.node_status().message().find("lost at shutdown") != std::string::npos;
  });
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->node_status().state(), v1::NodeStatus::STATE_FAILED);
  EXPECT_NE(ev->node_status().message().find("2 pending value(s)"), std::string::npos)
    << ev->node_status().message();
}

TEST_F(writer_fixture, presets_are_saved_read_listed_and_deleted) {
  start_writer(10s);
  EXPECT_EQ(ask<v1::Status>(preset("verse")).code(), sg::code_ok);
  EXPECT_EQ(ask<v1::Status>(preset("chorus")).code(), sg::code_ok);

  auto got = ask<v1::PresetReply>(caf::get_atom_v, std::string("verse"));
  EXPECT_EQ(got.status().code(), sg::code_ok);
  EXPECT_EQ(got.preset().name(), "verse");
  EXPECT_EQ(got.preset().nodes(0).params(0).value().double_value(), -3);

  auto list = ask<v1::ListPresetsReply>(v1::ListPresetsRequest{});
  EXPECT_EQ(list.status().code(), sg::code_ok);
  ASSERT_EQ(list.presets_size(), 2);
  EXPECT_EQ(list.presets(0).name(), "chorus");
  EXPECT_EQ(list.presets(1).params(), 1u);

  v1::DeletePresetRequest del;
  del.set_name("verse");
  EXPECT_EQ(ask<v1::DeletePresetReply>(del).status().code(), sg::code_ok);
  auto again = ask<v1::DeletePresetReply>(del);
  EXPECT_EQ(again.status().code(), sg::code_not_found);
  EXPECT_EQ(again.status().message(), "preset: no preset 'verse'");
  EXPECT_EQ(again.status().field(), "name");

  auto absent = ask<v1::PresetReply>(caf::get_atom_v, std::string("verse"));
  EXPECT_EQ(absent.status().code(), sg::code_not_found);
  EXPECT_EQ(absent.status().message(), "preset: no preset 'verse'");
  EXPECT_EQ(absent.status().field(), "name");
}

TEST_F(writer_fixture, preset_names_must_be_non_empty_short_and_printable) {
  start_writer(10s);
  for (const std::string& bad : {std::string(), std::string(129, 'x'), std::string("a\nb"),
                                 std::string("tab\there")}) {
    auto status = ask<v1::Status>(preset(bad));
    EXPECT_EQ(status.code(), sg::code_invalid_argument) << bad;
    EXPECT_EQ(status.field(), "name");
  }
  EXPECT_EQ(ask<v1::Status>(preset(std::string(128, 'x'))).code(), sg::code_ok);
  EXPECT_EQ(ask<v1::Status>(preset("Caf\xc3\xa9 live")).code(), sg::code_ok) << "UTF-8 is fine";
  EXPECT_EQ(ask<v1::ListPresetsReply>(v1::ListPresetsRequest{}).presets_size(), 2);
}

} // namespace
