#pragma once

/// Deterministic actor tests on CAF 0.17's test scheduler (`caf::scheduler::test_coordinator`,
/// the scheduler of caf/test/dsl.hpp's test_coordinator_fixture). The actors under test run on
/// the test's thread, one message at a time and only when the test lets them; the clock moves
/// only when the test advances it, so settle timers fire exactly when a test says.
///
/// The actors at the boundary of the code under test (hub, persistence writer, devices, the
/// client) are probes: scoped actors that never run by themselves. What is sent to a probe
/// waits in its mailbox; the test takes it message by message, in arrival order, checks its
/// type and content, answers requests itself, and asserts that nothing else arrived.
///
/// CAF's own DSL (expect, allow, disallow) reports through CAF's unit-test engine and aborts the
/// process on a mismatch, so these helpers report through gtest: a message that is not the one
/// expected fails the test at the caller's line and stops it (`sequence_broken`).

#include <gtest/gtest.h>

#include <caf/detail/pretty_type_name.hpp>
#include <caf/detail/test_actor_clock.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <source_location>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "actors/protocols.hpp"

namespace sg::test {

using where = std::source_location;

/// The actor system of a deterministic test: CAF's test scheduler and clock, no logging.
struct deterministic_config : caf::actor_system_config {
  deterministic_config() {
    add_message_types<caf::id_block::studiograph>();
    set("scheduler.policy", caf::atom("testing"));
    set("logger.console", caf::atom("none"));
    set("logger.file-verbosity", caf::atom("quiet"));
  }
};

/// Thrown after a message sequence went wrong (already reported at the test's line): the test
/// stops there instead of asserting on top of a broken sequence.
struct sequence_broken : std::runtime_error {
  sequence_broken() : std::runtime_error("stopped at the first unexpected message (see above)") {}
};

/// Failures inside a helper also name the test line that called it.
struct caller : ::testing::ScopedTrace {
  explicit caller(const where& at)
      : ScopedTrace(at.file_name(), static_cast<int>(at.line()), "called from here") {}
};

[[noreturn]] inline void broken(const where& at, const std::string& what) {
  ADD_FAILURE_AT(at.file_name(), static_cast<int>(at.line())) << what;
  throw sequence_broken();
}

/// How a message type reads in a failure: protobuf full names, CAF's names otherwise.
template <class T>
std::string type_label() {
  if constexpr (std::is_base_of_v<google::protobuf::Message, T>)
    return T::descriptor()->full_name();
  else
    return caf::detail::pretty_type_name(typeid(T));
}

template <class... Ts>
std::string types_label() {
  std::string out;
  ((out += (out.empty() ? "" : ", ") + type_label<Ts>()), ...);
  return "(" + out + ")";
}

template <class... Ts, class Content, size_t... I>
std::tuple<Ts...> element_tuple(const Content& content, std::index_sequence<I...>) {
  return std::tuple<Ts...>{content.template get_as<Ts>(I)...};
}

/// The elements of a matched message: the value itself for one element, else a tuple.
template <class... Ts, class Content>
auto elements(const Content& content) {
  if constexpr (sizeof...(Ts) == 1)
    return content.template get_as<Ts...>(0);
  else
    return element_tuple<Ts...>(content, std::index_sequence_for<Ts...>{});
}

/// True when `actual` equals the message written in protobuf text format (`expected`), with a
/// readable diff otherwise.
inline ::testing::AssertionResult same(const google::protobuf::Message& actual,
                                       const std::string& expected) {
  std::unique_ptr<google::protobuf::Message> want(actual.New());
  if (!google::protobuf::TextFormat::ParseFromString(expected, want.get()))
    return ::testing::AssertionFailure() << "not " << actual.GetTypeName() << " text: " << expected;
  if (google::protobuf::util::MessageDifferencer::Equals(actual, *want))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\n  actual:   " << actual.ShortDebugString()
                                       << "\n  expected: " << want->ShortDebugString();
}

/// A stand-in at an actor boundary: a scoped actor that never runs. Messages sent to it wait in
/// its mailbox; `deterministic_test::take` reads them in order.
class probe {
public:
  probe(caf::actor_system& sys, std::string name) : self_(sys), name_(std::move(name)) {}

  /// The probe as the handle the code under test expects (hub_actor, device_actor...).
  template <class Handle = caf::actor>
  Handle as() const {
    return caf::actor_cast<Handle>(self_.ptr());
  }
  const std::string& name() const { return name_; }
  caf::scoped_actor& self() { return self_; }
  /// The next message without taking it, or null.
  caf::mailbox_element* peek() { return self_->peek_at_next_mailbox_element(); }

  /// Takes the next message out of the mailbox (null when empty); a request's promise is kept
  /// for `answer`.
  caf::mailbox_element_ptr next() {
    if (!peek())
      return nullptr;
    auto element = self_->dequeue();
    sender_ = element->sender;
    open_ = {};
    if (element->mid.is_request())
      open_ = caf::response_promise{caf::actor_cast<caf::strong_actor_ptr>(self_.ptr()), *element};
    return element;
  }

  /// Who sent the message taken last.
  const caf::strong_actor_ptr& sender() const { return sender_; }

  /// Answers the request taken last.
  template <class... Ts>
  void answer(const where& at, Ts&&... xs) {
    if (!open_.pending())
      broken(at, name_ + ": the message taken last was no request, or is answered already");
    open_.deliver(std::forward<Ts>(xs)...);
  }

private:
  caf::scoped_actor self_;
  std::string name_;
  caf::strong_actor_ptr sender_;
  caf::response_promise open_;
};

class deterministic_test : public ::testing::Test {
protected:
  deterministic_test() {
    // Away from zero, like CAF's own fixture: "no timer" sentinels stay distinct.
    sched.clock().current_time += std::chrono::hours(1);
  }

  /// Runs every scheduled actor, one message at a time in arrival order, until none has one
  /// left. Timers stay pending (see `advance`). Returns the number of messages handled.
  size_t dispatch() {
    size_t handled = 0;
    while (sched.try_run_once())
      ++handled;
    return handled;
  }

  /// Moves the clock by `d`: the delayed messages (and request timeouts) due by then are
  /// delivered, then everything runs (`dispatch`).
  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    dispatch();
  }

  /// The next message in `p`'s mailbox, which must be `Ts...`; its elements (one: the value,
  /// more: a tuple). A request is answered with `answer(p, ...)`.
  template <class... Ts>
  auto take(probe& p, const where& at = where::current()) {
    auto element = p.next();
    if (!element)
      broken(at, p.name() + ": expected " + types_label<Ts...>() + ", but nothing arrived");
    auto msg = element->move_content_to_message();
    if (!msg.template match_elements<Ts...>())
      broken(at, p.name() + ": expected " + types_label<Ts...>() + ", got " + caf::to_string(msg));
    return elements<Ts...>(msg);
  }

  /// Answers the request `take` took last from `p`.
  template <class... Ts>
  void answer(probe& p, Ts&&... xs) {
    p.answer(where::current(), std::forward<Ts>(xs)...);
  }

  /// The next message of `p` is a v1::Event carrying a ParamChanged; returns that.
  v1::ParamChanged take_change(probe& p, const where& at = where::current()) {
    auto ev = take<v1::Event>(p, at);
    if (!ev.has_param_changed())
      broken(at, p.name() + ": expected a ParamChanged event, got " + ev.ShortDebugString());
    if (ev.node_id() != ev.param_changed().node())
      broken(at, "event for node '" + ev.node_id() + "' carries a change of '" +
                   ev.param_changed().node() + "'");
    return ev.param_changed();
  }

  /// Sends `xs` to `to` as a request from `from`; the reply arrives in `from`'s mailbox.
  template <class Handle, class... Ts>
  void request(probe& from, const Handle& to, Ts&&... xs) {
    from.self()->request(to, caf::infinite, std::forward<Ts>(xs)...);
  }

  /// `who` (a real actor under test) has `Ts...` next in its mailbox: checked, then `who`
  /// handles it (and nothing else). Returns the message's elements.
  template <class... Ts, class Handle>
  auto pass(const Handle& who, const where& at = where::current()) {
    auto* self = caf::actor_cast<caf::abstract_actor*>(who);
    auto* element = self ? self->peek_at_next_mailbox_element() : nullptr;
    auto* local = dynamic_cast<caf::local_actor*>(self);
    const std::string name = local ? std::string(local->name()) + " #" + std::to_string(self->id())
                                   : std::string("no actor");
    if (!element)
      broken(at, name + ": expected " + types_label<Ts...>() + ", but nothing arrived");
    if (!element->content().template match_elements<Ts...>())
      broken(at, name + ": expected " + types_label<Ts...>() + ", got " +
                   caf::to_string(element->content()));
    auto out = elements<Ts...>(element->content());
    if (!sched.prioritize(who))
      broken(at, name + " has a message but is not scheduled");
    sched.run_once();
    return out;
  }

  /// Nothing (more) arrived at `p`.
  void expect_nothing(probe& p, const where& at = where::current()) {
    if (auto* element = p.peek())
      ADD_FAILURE_AT(at.file_name(), static_cast<int>(at.line()))
        << p.name() << ": expected nothing, got " << caf::to_string(element->content());
  }

  /// Nothing waits in the mailbox of `who`, a real actor under test.
  template <class Handle>
  void expect_idle(const Handle& who, const where& at = where::current()) {
    auto* self = caf::actor_cast<caf::abstract_actor*>(who);
    if (auto* element = self->peek_at_next_mailbox_element())
      ADD_FAILURE_AT(at.file_name(), static_cast<int>(at.line()))
        << "actor #" << self->id() << ": expected an empty mailbox, got "
        << caf::to_string(element->content());
  }

  deterministic_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
};

// -- building messages --------------------------------------------------------------------------

inline v1::Value dbl(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}

inline v1::Origin origin(const std::string& client, uint64_t rev) {
  v1::Origin o;
  o.set_client_id(client);
  o.set_client_rev(rev);
  return o;
}

inline v1::Status ok_status() {
  v1::Status s;
  s.set_code(code_ok);
  return s;
}

} // namespace sg::test
