// Scores (notes and triggers at times, graph/score.hpp): a valid score loads sorted by time
// with defaults filled in; every mistake is reported at its line and column, all of them in
// one pass, and a score with any error yields no events.

#include <gtest/gtest.h>

#include "graph/loader.hpp"
#include "graph/score.hpp"

namespace sg {
namespace {

const v1::GraphSpec& graph() {
  static const v1::GraphSpec spec = [] {
    auto r = load_graph_string(R"(version: 1
name: score-test
devices:
  main: { kind: audio, backend: null, sample_rate: 48000, block: 128, channels: 2 }
nodes:
  - { id: keys, type: audio.synth }
  - { id: amp, type: audio.gain }
  - { id: out, type: audio.output, device: main }
edges:
  - keys.out -> amp.in
  - amp.out -> out.in
)",
                               "score-test.yaml");
    EXPECT_TRUE(r.ok());
    return r.spec;
  }();
  return spec;
}

std::vector<std::string> errors(const std::string& yaml) {
  auto r = load_score_string(yaml, "s.yaml", graph());
  std::vector<std::string> out;
  for (const auto& d : r.errors)
    out.push_back(format_diagnostic(d));
  EXPECT_TRUE(r.events.empty() || r.errors.empty());
  return out;
}

TEST(score, loads_sorted_by_time_with_defaults) {
  auto r = load_score_string(R"(version: 1
events:
  - { at: 1.5, node: keys, kind: note_off, note: 60 }
  - { at: 0.5, node: keys, kind: note_on, note: 60 }
  - { at: 0.5, node: keys, kind: note_on, note: 64, velocity: 0.25 }
  - { at: 2, node: keys, kind: stop }
)",
                             "s.yaml", graph());
  ASSERT_TRUE(r.ok()) << r.errors.front().message();
  ASSERT_EQ(r.events.size(), 4u);
  EXPECT_EQ(r.events[0].at, 0.5);
  EXPECT_EQ(r.events[0].note, 60);
  EXPECT_EQ(r.events[0].kind, kernel_event::note_on);
  EXPECT_EQ(r.events[0].velocity, 1.0f) << "note_on without velocity plays at full velocity";
  EXPECT_EQ(r.events[1].note, 64) << "ties keep file order";
  EXPECT_EQ(r.events[1].velocity, 0.25f);
  EXPECT_EQ(r.events[2].kind, kernel_event::note_off);
  EXPECT_EQ(r.events[3].kind, kernel_event::stop);
  EXPECT_EQ(score_frame(0.5, 48000), 24000u);
  EXPECT_EQ(score_frame(1.0 / 3.0, 48000), 16000u);
}

TEST(score, every_mistake_is_reported_where_it_is) {
  EXPECT_EQ(errors(R"(version: 1
events:
  - { at: 0.5, node: nobody, kind: note_on, note: 60 }
  - { at: 0.5, node: amp, kind: trigger }
  - { at: -1, node: keys, kind: note_on, note: 60 }
  - { at: 1, node: keys, kind: note_on }
  - { at: 1, node: keys, kind: trigger, note: 60 }
  - { at: 1, node: keys, kind: note_on, note: 128, velocity: 2 }
  - { at: 1, node: keys, kind: strum }
  - { at: 1, node: keys, kind: stop, pitch: 3 }
  - { node: keys, kind: stop }
  - just text
)"),
            (std::vector<std::string>{
              "s.yaml:3:22: error: node: no node 'nobody' in the graph",
              "s.yaml:4:22: error: node: 'amp' (audio.gain) takes no notes or triggers "
              "(audio.synth and audio.player do)",
              "s.yaml:5:11: error: at: expected seconds from the start, 0..86400",
              "s.yaml:6:5: error: missing 'note' (note_on and note_off need one)",
              "s.yaml:7:47: error: note: only note_on and note_off take a note",
              "s.yaml:8:47: error: note: expected a MIDI note number 0..127",
              "s.yaml:8:62: error: velocity: expected 0..1",
              "s.yaml:9:32: error: kind: expected note_on, note_off, trigger or stop",
              "s.yaml:10:38: error: unknown key 'pitch': expected at, node, kind, note or "
              "velocity",
              "s.yaml:11:5: error: missing 'at'",
              "s.yaml:12:5: error: expected an event mapping { at, node, kind, ... }",
            }));
}

TEST(score, the_file_itself_must_be_a_score) {
  EXPECT_EQ(errors(""), (std::vector<std::string>{
                          "s.yaml:1:1: error: expected a mapping with 'version: 1' and 'events'"}));
  EXPECT_EQ(errors("version: 2\nevents: []\n"),
            (std::vector<std::string>{"s.yaml:1:10: error: version: expected 1"}));
  EXPECT_EQ(errors("version: 1\nevents: { at: 1 }\nnotes: []\n"),
            (std::vector<std::string>{
              "s.yaml:2:9: error: events: expected a list of { at, node, kind, ... }",
              "s.yaml:3:1: error: unknown key 'notes': expected version or events"}));
  EXPECT_EQ(errors("events: [\n"),
            (std::vector<std::string>{"s.yaml:2:1: error: invalid YAML: end of sequence flow not found"}));
  auto missing = load_score_file("/nonexistent/score.yaml", graph());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(format_diagnostic(missing.errors[0]),
            "/nonexistent/score.yaml: error: cannot open score file: No such file or directory");
}

} // namespace
} // namespace sg

namespace sg {
namespace {

TEST(score, the_example_score_plays_the_example_graph) {
  const std::string dir = SG_EXAMPLES_DIR;
  auto g = load_graph_file(dir + "/keys.yaml");
  ASSERT_TRUE(g.ok()) << format_diagnostic(g.errors.front());
  auto s = load_score_file(dir + "/keys-score.yaml", g.spec);
  ASSERT_TRUE(s.ok()) << format_diagnostic(s.errors.front());
  EXPECT_EQ(s.events.size(), 32u);  // four chords of three notes, each with a melody note
}

} // namespace
} // namespace sg
