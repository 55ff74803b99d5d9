#pragma once

/// A score: notes and triggers at given times, for nodes that take events (audio.synth,
/// audio.player). `studiograph render --score FILE` delivers them at their exact frame, and
/// `studiograph run --score FILE` schedules them on the device's clock, so a realtime run and
/// an offline render of the same graph and score give the same samples. Format
/// (docs/GRAPH_FORMAT.md, "Scores"):
///
///   version: 1
///   events:
///     - { at: 0.5, node: lead, kind: note_on, note: 60, velocity: 0.8 }
///     - { at: 1.0, node: lead, kind: note_off, note: 60 }
///     - { at: 1.0, node: hit, kind: trigger }
///
/// `at` is in seconds from the start of the device's clock; `kind` is note_on, note_off,
/// trigger or stop; `note` (0..127) is required for the two note kinds and refused for the
/// others; `velocity` is 0..1 (note_on: default 1; trigger: 0 = full level). Every event is
/// checked against the graph (the node exists and takes events); problems are collected with
/// file:line:col, like graph files.

#include <string>
#include <string_view>
#include <vector>

#include "nodes/core/kernel.hpp"
#include "nodes/core/node_info.hpp"
#include "studiograph/v1/graph.pb.h"

namespace sg {

struct score_event {
  double at = 0;  // seconds
  std::string node;
  kernel_event::kind_t kind = kernel_event::trigger;
  uint8_t note = 0;
  float velocity = 0;
};

struct score_load_result {
  std::vector<score_event> events;  // sorted by `at`, ties in file order
  std::vector<studiograph::v1::Diagnostic> errors;
  bool ok() const { return errors.empty(); }
};

/// The frame of the device clock at which an event `at` seconds is due.
inline uint64_t score_frame(double at, double sample_rate) {
  return static_cast<uint64_t>(at * sample_rate + 0.5);
}

/// thread: control (reads the file). Never throws.
score_load_result load_score_file(const std::string& path, const studiograph::v1::GraphSpec& graph,
                                  const node_registry& reg = node_registry::builtin());

/// Same for text in memory; `file_name` is used in diagnostics.
score_load_result load_score_string(std::string_view yaml, const std::string& file_name,
                                    const studiograph::v1::GraphSpec& graph,
                                    const node_registry& reg = node_registry::builtin());

} // namespace sg
