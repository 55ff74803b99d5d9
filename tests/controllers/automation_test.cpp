// control.lfo and control.ramp against the real runtime: they write overlays of their own
// source on another node's parameter, at their update rate, within the configured range;
// stopping returns the parameter (or holds it, as configured); a ramp ends on its value and
// says so; sync follows the clock's tempo; a bad target is reported, not acted on.

#include <algorithm>

#include "tests/controllers/fixture.hpp"

namespace sg::test {
namespace {

class automation : public controller_fixture {};

bool is_overlay_from(const v1::ParamChanged& pc, const std::string& source) {
  return pc.layer() == v1::LAYER_OVERLAY && pc.source() == source && !pc.cleared();
}

TEST_F(automation, lfo_sweeps_its_target_within_the_range_then_returns_it_when_stopped) {
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: lfo, type: control.lfo, params: { target: amp.level, rate: 4, center: 0.5, "
    "depth: 0.2, update_hz: 50 } }\n"));
  const auto evs = collect(1200ms);
  std::vector<double> values;
  for (const auto& pc : changes(evs, "amp", "level"))
    if (is_overlay_from(pc, "ctl/lfo")) {
      values.push_back(pc.value().double_value());
      EXPECT_EQ(pc.origin().client_id(), "ctl/lfo");
    }
  // 50 writes a second; gain's range is -120..24 dB, so 0.5 ± 0.1 of it is -62.4..-33.6 dB.
  ASSERT_GE(values.size(), 40u);
  EXPECT_LE(values.size(), 70u);
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  EXPECT_GE(*lo, -62.4 - 1e-9);
  EXPECT_LE(*hi, -33.6 + 1e-9);
  EXPECT_LT(*lo, -58.0) << "four cycles reach near the bottom";
  EXPECT_GT(*hi, -38.0) << "and near the top";

  ASSERT_EQ(set("lfo", "running", boolean(false)).status().code(), 0);
  const auto after = collect(1500ms, [](const v1::Event& e) {
    return e.has_param_changed() && e.param_changed().node() == "amp" &&
           e.param_changed().cleared();
  });
  const auto stopped = changes(after, "amp", "level");
  ASSERT_FALSE(stopped.empty());
  EXPECT_TRUE(stopped.back().cleared()) << "on_stop: return discards the overlay";
  EXPECT_EQ(stopped.back().source(), "ctl/lfo");
  std::this_thread::sleep_for(200ms);
  const auto level = param("amp", "level");
  EXPECT_EQ(level.value().double_value(), -20.0) << "back at the base value";
  EXPECT_EQ(level.overlays_size(), 0);
  EXPECT_FALSE(level.has_committed()) << "nothing was committed";
  const auto quiet = collect(300ms);
  for (const auto& pc : changes(quiet, "amp", "level"))
    ADD_FAILURE() << "a write after the stop: " << pc.ShortDebugString();

  // Started again, it writes again; with on_stop: hold the last value settles into a commit.
  ASSERT_EQ(set("lfo", "on_stop", [] {
              v1::Value v;
              v.set_enum_value("hold");
              return v;
            }()).status().code(), 0);
  ASSERT_EQ(set("lfo", "running", boolean(true)).status().code(), 0);
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(set("lfo", "running", boolean(false)).status().code(), 0);
  const auto held = collect(1500ms, [](const v1::Event& e) {
    return e.has_param_changed() && e.param_changed().node() == "amp" &&
           e.param_changed().layer() == v1::LAYER_COMMITTED;
  });
  const auto settled = changes(held, "amp", "level");
  ASSERT_FALSE(settled.empty());
  EXPECT_EQ(settled.back().layer(), v1::LAYER_COMMITTED);
  EXPECT_EQ(settled.back().reason(), v1::CHANGE_REASON_SETTLE);
  EXPECT_GE(settled.back().value().double_value(), -62.4 - 1e-9);
  EXPECT_LE(settled.back().value().double_value(), -33.6 + 1e-9);
}

TEST_F(automation, lfo_with_sync_follows_the_clock) {
  // 240 BPM, one beat per cycle: 4 cycles a second, where `rate` alone would give 0.5.
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: clock, type: control.clock, params: { bpm: 240 } }\n"
    "  - { id: lfo, type: control.lfo, params: { target: amp.level, shape: saw, rate: 0.5, "
    "sync: true, beats: 1, update_hz: 100 } }\n"));
  auto count_wraps = [&](std::chrono::milliseconds d) {
    std::vector<double> v;
    for (const auto& pc : changes(collect(d), "amp", "level"))
      if (is_overlay_from(pc, "ctl/lfo"))
        v.push_back(pc.value().double_value());
    int wraps = 0;
    for (size_t i = 1; i < v.size(); ++i)
      wraps += v[i] < v[i - 1] - 20;  // a saw's drop from top to bottom
    return wraps;
  };
  collect(200ms);
  const int fast = count_wraps(2000ms);
  EXPECT_GE(fast, 7);
  EXPECT_LE(fast, 9);
  // The tempo is live: at 60 BPM it is one cycle a second.
  ASSERT_EQ(set("clock", "bpm", number(60)).status().code(), 0);
  collect(200ms);
  const int slow = count_wraps(3000ms);
  EXPECT_GE(slow, 2);
  EXPECT_LE(slow, 4);
}

TEST_F(automation, ramp_runs_once_to_its_end_value_and_says_it_is_done) {
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: fade, type: control.ramp, params: { target: amp.level, from: -60, to: -6, "
    "time: 300, update_hz: 50 } }\n"));
  collect(200ms);
  EXPECT_EQ(param("amp", "level").overlays_size(), 0) << "not started: running is false";
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(set("fade", "running", boolean(true)).status().code(), 0);
  // Done: the end value settled (on_end: hold), and the ramp's own `running` went false (the
  // two come from different authorities, in either order).
  bool settled = false, done = false;
  const auto evs = collect(3000ms, [&](const v1::Event& e) {
    if (!e.has_param_changed())
      return false;
    const auto& pc = e.param_changed();
    settled |= pc.node() == "amp" && pc.layer() == v1::LAYER_COMMITTED;
    done |= pc.node() == "fade" && pc.param() == "running" && !pc.value().bool_value();
    return settled && done;
  });
  EXPECT_TRUE(settled && done);
  const double took =
    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::vector<double> values;
  for (const auto& pc : changes(evs, "amp", "level"))
    if (is_overlay_from(pc, "ctl/fade"))
      values.push_back(pc.value().double_value());
  ASSERT_GE(values.size(), 10u);
  EXPECT_NEAR(values.front(), -60, 6);
  EXPECT_EQ(values.back(), -6);
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << "a rising ramp never falls";
  EXPECT_GE(took, 280);
  EXPECT_LT(took, 1500);
  std::this_thread::sleep_for(100ms);
  const auto level = param("amp", "level");
  EXPECT_EQ(level.overlays_size(), 0);
  EXPECT_EQ(level.committed().double_value(), -6) << "on_end: hold settles the end value";
  EXPECT_FALSE(param("fade", "running").value().bool_value());
}

TEST_F(automation, a_bad_target_is_reported_and_nothing_is_written) {
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: lfo, type: control.lfo, params: { target: nobody.level } }\n"
    "  - { id: lfo2, type: control.lfo, params: { target: amp.nothing } }\n"));
  std::map<std::string, std::string> failed;
  for (const auto& e : collect(1000ms))
    if (e.has_node_status() && e.node_status().state() == v1::NodeStatus::STATE_FAILED)
      failed[e.node_status().node()] = e.node_status().message();
  EXPECT_NE(failed["lfo"].find("no node 'nobody'"), std::string::npos) << failed["lfo"];
  EXPECT_NE(failed["lfo2"].find("has no parameter 'nothing'"), std::string::npos)
    << failed["lfo2"];
  EXPECT_EQ(param("amp", "level").overlays_size(), 0);
}

} // namespace
} // namespace sg::test
