// control.lfo and control.ramp against the real runtime: they write overlays of their own
// source on another node's parameter, at their update rate, within the configured range;
// stopping returns the parameter (or holds it, as configured); a ramp ends on its value and
// says so; sync follows the clock's tempo; a bad target is reported, not acted on.
//
// Both compute where they are from the time since they started, so no write can be predicted
// exactly; the tests assert what holds however fast the machine is, and print the timings.

#include <algorithm>
#include <iostream>

#include "tests/controllers/fixture.hpp"

namespace sg::test {
namespace {

using steady = std::chrono::steady_clock;

// A saw on amp.level (-120..24 dB) with depth 0.2 around center 0.3 or 0.7: the two sweeps do
// not overlap, so each write tells the center it was made with and the phase it was made at.
struct saw_point {
  double center, phase;
};

saw_point decode_saw(double db) {
  const double f = (db + 120) / 144;
  const double center = f < 0.5 ? 0.3 : 0.7;
  const double w = (f - center) / 0.1;  // the saw: 0 up to 1 in the first half cycle, then -1 up
  return {center, w >= 0 ? w / 2 : 1 + w / 2};
}

/// Cycles per second, between lo and hi.
struct rate_bracket {
  double lo = 0, hi = 0;
};

class automation : public controller_fixture {
protected:
  static bool is_overlay_from(const v1::ParamChanged& pc, const std::string& source) {
    return pc.layer() == v1::LAYER_OVERLAY && pc.source() == source && !pc.cleared();
  }

  static double seconds(steady::duration d) { return std::chrono::duration<double>(d).count(); }

  /// Collects (`patience` at most) until `until` holds, calling `take` with the value of each
  /// overlay write of `source` on amp.level.
  void take_writes(const std::string& source, const std::function<void(double)>& take,
                   const std::function<bool()>& until) {
    collect(patience, [&](const v1::Event& e) {
      if (e.has_param_changed() && e.param_changed().node() == "amp" &&
          e.param_changed().param() == "level" && is_overlay_from(e.param_changed(), source))
        take(e.param_changed().value().double_value());
      return until();
    });
  }

  /// The rate of the saw LFO "lfo", bracketed without trusting the timing of any one write.
  /// The LFO advances its phase by the time between its ticks, so the phases it writes are
  /// exact. The first write made with a new center was made after the test asked for that
  /// center and before the test received it; between two such writes the phase advanced by
  /// `cycles` (unwrapped write by write, each less than a cycle after the last) in a time
  /// between (asked_n - received_0) and (received_n - asked_0). Measures until the bracket is
  /// within 5%: a loaded machine only makes it take longer.
  rate_bracket measure_rate() {
    double cycles = 0, last = -1;
    auto take = [&](double db) {
      const auto p = decode_saw(db);
      if (last >= 0)
        cycles += p.phase >= last ? p.phase - last : p.phase + 1 - last;
      last = p.phase;
      return p;
    };
    // Switches the center: the time asked, and the time its first write arrived.
    auto switch_center = [&]() -> std::optional<std::pair<steady::time_point, steady::time_point>> {
      center_ = center_ == 0.3 ? 0.7 : 0.3;
      const auto asked = steady::now();
      EXPECT_EQ(set("lfo", "center", number(center_)).status().code(), 0);
      bool found = false;
      take_writes("ctl/lfo", [&](double db) { found = take(db).center == center_; },
                  [&] { return found; });
      if (!found)
        return std::nullopt;
      return std::pair{asked, steady::now()};
    };
    const auto first = switch_center();
    if (!first)
      return {};
    cycles = 0;
    for (const auto end = steady::now() + 3 * patience;;) {
      int passed = 0;
      take_writes("ctl/lfo", [&](double db) { take(db), ++passed; }, [&] { return passed >= 50; });
      const auto next = switch_center();
      if (!next)
        return {};
      const rate_bracket r{cycles / seconds(next->second - first->first),
                           cycles / seconds(next->first - first->second)};
      if (r.hi < 1.05 * r.lo || steady::now() > end)
        return r;
    }
  }

  double center_ = 0.3;  // the saw LFO's, as measure_rate last set it
};

TEST_F(automation, lfo_sweeps_its_target_within_the_range_then_returns_it_when_stopped) {
  const auto t0 = steady::now();
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: lfo, type: control.lfo, params: { target: amp.level, rate: 4, center: 0.5, "
    "depth: 0.2, update_hz: 50 } }\n"));
  // Gain's range is -120..24 dB, so 0.5 ± 0.1 of it is -62.4..-33.6 dB. Until it has swept
  // near both ends, with 40 writes at least.
  std::vector<double> values;
  auto swept = [&] {
    if (values.size() < 40)
      return false;
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    return *lo < -58.0 && *hi > -38.0;
  };
  collect(patience, [&](const v1::Event& e) {
    if (e.has_param_changed() && e.param_changed().node() == "amp" &&
        is_overlay_from(e.param_changed(), "ctl/lfo")) {
      values.push_back(e.param_changed().value().double_value());
      EXPECT_EQ(e.param_changed().origin().client_id(), "ctl/lfo");
    }
    return swept();
  });
  const double secs = seconds(steady::now() - t0);
  std::cout << "lfo: " << values.size() << " writes in " << secs << " s\n";
  ASSERT_TRUE(swept()) << values.size() << " writes";
  for (double v : values) {
    EXPECT_GE(v, -62.4 - 1e-9);
    EXPECT_LE(v, -33.6 + 1e-9);
  }
  // Its ticks are at least 1/update_hz apart: a loaded machine makes fewer writes, never more.
  EXPECT_LE(values.size(), 2 + 50 * secs) << "more than 50 writes a second";

  ASSERT_EQ(set("lfo", "running", boolean(false)).status().code(), 0);
  const auto after = collect(patience, [](const v1::Event& e) {
    return e.has_param_changed() && e.param_changed().node() == "amp" &&
           e.param_changed().cleared();
  });
  const auto stopped = changes(after, "amp", "level");
  ASSERT_FALSE(stopped.empty());
  EXPECT_TRUE(stopped.back().cleared()) << "on_stop: return discards the overlay";
  EXPECT_EQ(stopped.back().source(), "ctl/lfo");
  // A tick already scheduled at the stop comes within one period (20 ms) and must do nothing.
  // It runs off a timer that nothing the test sends is ordered after, so this stays a window
  // (15 periods): it cannot fail on a slow machine, only miss a late write.
  for (const auto& pc : changes(collect(300ms), "amp", "level"))
    ADD_FAILURE() << "a write after the stop: " << pc.ShortDebugString();
  const auto level = param("amp", "level");
  EXPECT_EQ(level.value().double_value(), -20.0) << "back at the base value";
  EXPECT_EQ(level.overlays_size(), 0);
  EXPECT_FALSE(level.has_committed()) << "nothing was committed";

  // Started again, it writes again; with on_stop: hold the last value settles into a commit.
  ASSERT_EQ(set("lfo", "on_stop", [] {
              v1::Value v;
              v.set_enum_value("hold");
              return v;
            }()).status().code(), 0);
  ASSERT_EQ(set("lfo", "running", boolean(true)).status().code(), 0);
  int writes = 0;
  take_writes("ctl/lfo", [&](double) { ++writes; }, [&] { return writes >= 3; });
  ASSERT_GE(writes, 3) << "no writes after the restart";
  ASSERT_EQ(set("lfo", "running", boolean(false)).status().code(), 0);
  const auto held = collect(patience, [](const v1::Event& e) {
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
  // 240 BPM, four beats per cycle: one cycle a second, where `rate` alone would give 0.5.
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: clock, type: control.clock, params: { bpm: 240 } }\n"
    "  - { id: lfo, type: control.lfo, params: { target: amp.level, shape: saw, rate: 0.5, "
    "sync: true, beats: 4, center: 0.3, depth: 0.2, update_hz: 100 } }\n"));
  const auto fast = measure_rate();
  std::cout << "lfo at 240 BPM: " << fast.lo << ".." << fast.hi << " Hz\n";
  EXPECT_LE(fast.lo, 1 + 1e-9);
  EXPECT_GE(fast.hi, 1 - 1e-9);
  EXPECT_LT(fast.hi, 1.05 * fast.lo) << "the measurement did not settle";
  // The tempo is live: at 60 BPM it is a quarter cycle a second.
  ASSERT_EQ(set("clock", "bpm", number(60)).status().code(), 0);
  const auto slow = measure_rate();
  std::cout << "lfo at 60 BPM: " << slow.lo << ".." << slow.hi << " Hz\n";
  EXPECT_LE(slow.lo, 0.25 + 1e-9);
  EXPECT_GE(slow.hi, 0.25 - 1e-9);
  EXPECT_LT(slow.hi, 1.05 * slow.lo) << "the measurement did not settle";
}

TEST_F(automation, ramp_runs_once_to_its_end_value_and_says_it_is_done) {
  ASSERT_NO_FATAL_FAILURE(start(
    "  - { id: fade, type: control.ramp, params: { target: amp.level, from: -60, to: -6, "
    "time: 600, update_hz: 50 } }\n"));
  // Once it has its snapshot it has decided: running is false, so it does not start.
  const auto before = wait_controllers();
  EXPECT_EQ(param("amp", "level").overlays_size(), 0) << "not started: running is false";
  const auto t0 = steady::now();
  ASSERT_EQ(set("fade", "running", boolean(true)).status().code(), 0);
  // Done: the end value settled (on_end: hold), and the ramp's own `running` went false (the
  // two come from different authorities, in either order). Each write with its arrival time.
  std::vector<std::pair<double, steady::time_point>> writes;
  bool settled = false, done = false;
  collect(patience, [&](const v1::Event& e) {
    if (!e.has_param_changed())
      return false;
    const auto& pc = e.param_changed();
    if (pc.node() == "amp" && is_overlay_from(pc, "ctl/fade"))
      writes.emplace_back(pc.value().double_value(), steady::now());
    settled |= pc.node() == "amp" && pc.layer() == v1::LAYER_COMMITTED;
    done |= pc.node() == "fade" && pc.param() == "running" && !pc.value().bool_value();
    return settled && done;
  });
  EXPECT_TRUE(settled && done);
  const double took = 1000 * seconds(steady::now() - t0);
  std::cout << "ramp of 600 ms: done after " << took << " ms, " << writes.size() << " writes\n";
  for (const auto& pc : changes(before, "amp", "level"))
    if (is_overlay_from(pc, "ctl/fade"))
      ADD_FAILURE() << "a write before the start: " << pc.ShortDebugString();
  std::vector<double> values;
  for (const auto& [v, at] : writes)
    values.push_back(v);
  ASSERT_GE(values.size(), 10u);
  EXPECT_GE(values.front(), -60);
  EXPECT_EQ(values.back(), -6);
  EXPECT_TRUE(std::is_sorted(values.begin(), values.end())) << "a rising ramp never falls";
  // Its position is the time since it started, which was after t0: no write is ahead of the
  // time it arrived at.
  for (const auto& [v, at] : writes)
    EXPECT_LE(v, -60 + 54 * std::min(1.0, seconds(at - t0) / 0.6) + 1e-9)
      << "ahead of its time at " << 1000 * seconds(at - t0) << " ms";
  EXPECT_GE(took, 600 - 1e-3) << "ended before its time";
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
  collect(patience, [&](const v1::Event& e) {
    if (e.has_node_status() && e.node_status().state() == v1::NodeStatus::STATE_FAILED)
      failed[e.node_status().node()] = e.node_status().message();
    return failed.size() == 2;
  });
  EXPECT_NE(failed["lfo"].find("no node 'nobody'"), std::string::npos) << failed["lfo"];
  EXPECT_NE(failed["lfo2"].find("has no parameter 'nothing'"), std::string::npos)
    << failed["lfo2"];
  // A failed LFO sends nothing a marker could follow, so this stays a window: it cannot fail
  // on a slow machine, only miss a late write.
  for (const auto& pc : changes(collect(300ms), "amp", "level"))
    ADD_FAILURE() << "written: " << pc.ShortDebugString();
  EXPECT_EQ(param("amp", "level").overlays_size(), 0);
}

} // namespace
} // namespace sg::test
