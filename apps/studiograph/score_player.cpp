#include "apps/studiograph/score_player.hpp"

#include <chrono>
#include <iostream>
#include <spdlog/spdlog.h>

namespace sg {

namespace {

constexpr double lead_seconds = 0.25;  // how long before its time an event is sent

v1::TriggerRequest::Kind to_kind(kernel_event::kind_t k) {
  switch (k) {
    case kernel_event::note_on: return v1::TriggerRequest::KIND_NOTE_ON;
    case kernel_event::note_off: return v1::TriggerRequest::KIND_NOTE_OFF;
    case kernel_event::stop: return v1::TriggerRequest::KIND_STOP;
    case kernel_event::trigger: break;
  }
  return v1::TriggerRequest::KIND_TRIGGER;
}

} // namespace

score_player::score_player(runtime& rt, std::vector<score_event> events,
                           std::map<std::string, double> rates)
    : rt_(rt), events_(std::move(events)), rates_(std::move(rates)) {
  thread_ = std::thread([this] { play(); });
}

score_player::~score_player() {
  stop_ = true;
  thread_.join();
}

void score_player::play() {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  v1::TriggerRequest req;
  req.mutable_origin()->set_client_id("score");
  uint64_t rev = 0;
  for (const auto& ev : events_) {
    const auto send_at =
      start + std::chrono::duration_cast<clock::duration>(
                std::chrono::duration<double>(ev.at > lead_seconds ? ev.at - lead_seconds : 0));
    while (!stop_ && clock::now() < send_at)
      std::this_thread::sleep_for(std::min<clock::duration>(send_at - clock::now(),
                                                            std::chrono::milliseconds(20)));
    if (stop_)
      return;
    req.set_node(ev.node);
    req.set_kind(to_kind(ev.kind));
    req.set_note(ev.note);
    req.set_velocity(ev.velocity);
    const auto rate = rates_.find(ev.node);
    // Frame 0 means "now" to a device; an event at 0 s is as close as it gets.
    req.set_at_frame(rate == rates_.end() ? 0 : score_frame(ev.at, rate->second));
    req.mutable_origin()->set_client_rev(++rev);
    try {
      const auto reply = rt_.trigger(req);
      if (reply.status().code() == 0) {
        ++sent_;
        continue;
      }
      spdlog::warn("score: {} at {} s: {}", ev.node, ev.at, reply.status().message());
    } catch (const std::exception& e) {
      spdlog::warn("score: {} at {} s: {}", ev.node, ev.at, e.what());
    }
    ++refused_;
  }
}

} // namespace sg
