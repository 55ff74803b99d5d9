#pragma once

// `studiograph run --score FILE`: plays a score's notes and triggers on the running graph.
// Each event goes to its node as a Trigger with `at_frame` (its frame on the node's device
// clock) a quarter of a second before it is due, so the kernel gets it at its exact frame,
// the same as `studiograph render --score` (provided the score starts later than the first
// ~0.3 s after the graph started: earlier events are delivered at the next block).

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "actors/runtime.hpp"
#include "graph/score.hpp"

namespace sg {

class score_player {
public:
  /// `rates`: node id -> sample rate of its device. Starts at once; the clock's origin is now.
  score_player(runtime& rt, std::vector<score_event> events,
               std::map<std::string, double> rates);
  ~score_player();
  score_player(const score_player&) = delete;
  score_player& operator=(const score_player&) = delete;

  /// Events sent and refused so far.
  uint64_t sent() const { return sent_.load(); }
  uint64_t refused() const { return refused_.load(); }

private:
  void play();

  runtime& rt_;
  std::vector<score_event> events_;
  std::map<std::string, double> rates_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> sent_{0}, refused_{0};
  std::thread thread_;
};

} // namespace sg
