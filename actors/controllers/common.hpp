#pragma once

// What every controller shares (internal to actors/controllers/).

#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "actors/controllers/controller.hpp"
#include "nodes/core/expected.hpp"
#include "nodes/core/node_info.hpp"

namespace sg::ctl {

/// The graph's parameters as the authorities last broadcast them: a Snapshot from the hub,
/// kept current with ParamChanged events (the same layer rule as every mirror).
class param_mirror {
public:
  /// Takes a hub event; true when it changed a parameter of node `id` (or reseeded).
  bool apply(const v1::Event& ev, const std::string& id);
  const v1::NodeState* node(const std::string& id) const;
  const v1::ParamState* param(const std::string& node, const std::string& param) const;
  /// The effective value of `node.param` as a number (bools 0/1, enums their index), or
  /// `fallback` when unknown.
  double number(const std::string& node, const std::string& param, double fallback) const;
  bool seeded() const { return seeded_; }
  /// Id of the first node of `type` in graph order, or empty.
  std::string first_of_type(const std::string& type) const;

private:
  v1::Snapshot snap_;
  std::map<std::string, int> index_;
  bool seeded_ = false;
};

/// A numeric, live parameter another node's authority owns, with its range.
struct target {
  std::string node, param;
  const param_info* info = nullptr;
  double lo = 0, hi = 1;
};

/// Resolves "node.param" against the mirror; fails ("target: ...") when it is not a live
/// numeric parameter of an existing node.
expected<target> resolve_target(const param_mirror& m, const std::string& text);

/// Checks that node `id` exists and takes notes and triggers (why not, without a field prefix).
expected<void> check_event_node(const param_mirror& m, const std::string& id);

/// The typed value for `t` (integers rounded, clamped to the range).
v1::Value target_value(const target& t, double x);

/// Where `value` lies in `t`'s range, 0..1.
double fraction_in(const target& t, double value);

/// Commits `value` (in target units) to `t`; the origin is the caller's to fill.
v1::SetParamRequest set_request(const target& t, double value);

/// A note or trigger for `node`; the origin is the caller's to fill.
v1::TriggerRequest trigger_request(const std::string& node, v1::TriggerRequest::Kind kind,
                                   uint32_t note, float velocity, int64_t time_ns);

/// A CC value (0..127) through a curve (0 linear, 1 log, 2 exp) into [low, high], fractions
/// of a target's range.
double shape_cc(uint32_t value, int curve, double low, double high);

/// Soft takeover for one knob: a knob whose position differs from the parameter's value does
/// nothing until it meets the value (within one CC step) or crosses it.
struct pickup {
  bool picked = false;
  double last_in = -1;  // the knob's last fraction; -1: not seen since the last reset

  /// `in` and `now` are fractions of the target's range; true when the knob may write.
  bool admit(double in, double now);
  /// Someone else moved the target (or the mapping changed): meet it again.
  void reset() {
    picked = false;
    last_in = -1;
  }
};

/// Prints at most `per_second` messages a second; the rest are counted and summarised.
class rate_limited_log {
public:
  explicit rate_limited_log(std::string who, int per_second = 5)
      : who_(std::move(who)), per_second_(per_second) {}
  void error(const std::string& message);

private:
  std::string who_;
  int per_second_;
  std::chrono::steady_clock::time_point window_{};
  int in_window_ = 0;
  uint64_t suppressed_ = 0;
};

/// thread: the actor's. Sends an intent to the host without waiting; a refusal or a lost reply
/// goes to `log` (which lives in the actor's state, so it outlives every reply handler).
template <class Reply, class Self, class Request>
void ask_host(Self* self, const host_actor& host, Request req, rate_limited_log& log) {
  self->request(host, std::chrono::seconds(2), std::move(req))
    .then(
      [&log](const Reply& r) {
        if (r.status().code() != 0)
          log.error(r.status().message());
      },
      [&log](const caf::error& e) { log.error(caf::to_string(e)); });
}

/// A NodeStatus event for `node` (FAILED with `why`, or RUNNING when `why` is empty).
v1::Event node_status(const std::string& node, const std::string& why);

/// Subscribes `self` to the hub for parameter changes and node status, snapshot first.
void subscribe(caf::event_based_actor* self, const hub_actor& hub);

} // namespace sg::ctl
