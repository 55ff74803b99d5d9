// Pad and knob panels with a real MIDI path (a JACK dummy server, studiograph's MIDI device
// actor, a second JACK MIDI client sending from this test): one active panel per (type, bank),
// inactive panels editable but deaf, input routed through the active panel's mappings, every
// change announced, refused changes naming their field and changing nothing, MIDI learn, and
// everything back after a restart from the same SQLite file.

#include <future>

#include "tests/controllers/midi_fixture.hpp"

namespace sg::test {
namespace {

// google.rpc.Code numbers, as the gateway maps them.
constexpr int code_invalid_argument = 3, code_deadline_exceeded = 4, code_not_found = 5,
              code_already_exists = 6;

v1::PanelMapping mapping(uint32_t number, v1::MappingAction action, const std::string& target,
                         bool pickup = false) {
  v1::PanelMapping m;
  m.set_number(number);
  m.set_action(action);
  m.set_target(target);
  m.set_no_pickup(!pickup);
  return m;
}

v1::Panel panel(const std::string& id, v1::PanelType type, const std::string& bank,
                bool active, std::vector<v1::PanelMapping> maps) {
  v1::Panel p;
  p.set_id(id);
  p.set_type(type);
  p.set_bank(bank);
  p.set_active(active);
  for (auto& m : maps)
    *p.add_mappings() = std::move(m);
  return p;
}

const std::string switches =
  "  - { id: wobble, type: control.lfo, params: { target: tone.frequency, running: false } }\n"
  "  - { id: hold, type: control.lfo, params: { target: amp.level, running: false } }\n";

class panels : public midi_fixture {
protected:
  v1::PanelReply put(const v1::Panel& p, bool create = true) {
    v1::PutPanelRequest req;
    *req.mutable_panel() = p;
    req.set_create(create);
    req.mutable_origin()->set_client_id("test");
    return rt_->put_panel(req);
  }
  v1::PanelReply activate(const std::string& id, bool on = true) {
    v1::ActivatePanelRequest req;
    req.set_id(id);
    req.set_active(on);
    return rt_->activate_panel(req);
  }
  std::map<std::string, v1::Panel> listed() {
    std::map<std::string, v1::Panel> out;
    const auto reply = rt_->list_panels();
    for (const auto& p : reply.panels())
      out[p.id()] = p;
    return out;
  }
  /// PanelChanged events among `evs` as "id:reason".
  static std::vector<std::string> panel_events(const std::vector<v1::Event>& evs) {
    std::vector<std::string> out;
    for (const auto& e : evs)
      if (e.has_panel())
        out.push_back(e.panel().panel().id() + ":" + e.panel().reason());
    return out;
  }

  /// Puts four active panels in order: knobs mix-a then mix-b of bank main (mix-b turns mix-a
  /// off), knobs aux of bank aux and pads of bank main (both independent of the others).
  void put_mix_aux_and_pads() {
    auto a = put(panel("mix-a", v1::PANEL_TYPE_KNOB, "main", true,
                       {mapping(21, v1::MAPPING_ACTION_SET, "amp.level")}));
    ASSERT_EQ(a.status().code(), 0) << a.status().message();
    EXPECT_EQ(a.panel().rev(), 1u);
    EXPECT_EQ(a.panel().origin().client_id(), "test");
    auto b = put(panel("mix-b", v1::PANEL_TYPE_KNOB, "main", true,
                       {mapping(21, v1::MAPPING_ACTION_SET, "tone.frequency")}));
    ASSERT_EQ(b.status().code(), 0) << b.status().message();
    ASSERT_EQ(b.deactivated_size(), 1);
    EXPECT_EQ(b.deactivated(0), "mix-a") << "same type and bank: the other one goes off";
    ASSERT_EQ(put(panel("aux", v1::PANEL_TYPE_KNOB, "aux", true,
                        {mapping(22, v1::MAPPING_ACTION_SET, "amp.level")}))
                .deactivated_size(),
              0)
      << "another bank is independent";
    auto pads = put(panel("pads", v1::PANEL_TYPE_PAD, "main", true,
                          {mapping(60, v1::MAPPING_ACTION_TOGGLE, "wobble.running"),
                           mapping(62, v1::MAPPING_ACTION_MOMENTARY, "hold.running")}));
    ASSERT_EQ(pads.status().code(), 0) << pads.status().message();
    EXPECT_EQ(pads.deactivated_size(), 0) << "pads and knobs of one bank are independent";
    auto all = listed();
    EXPECT_FALSE(all["mix-a"].active());
    EXPECT_TRUE(all["mix-b"].active());
    EXPECT_TRUE(all["aux"].active());
    EXPECT_TRUE(all["pads"].active());
  }

  /// After put_mix_aux_and_pads: the inactive mix-a is updated with a second knob (CC 23), every
  /// change so far was announced in order, and mix-a's knobs still do nothing.
  void edit_inactive_mix_a() {
    auto edited = panel("mix-a", v1::PANEL_TYPE_KNOB, "main", false,
                        {mapping(21, v1::MAPPING_ACTION_SET, "amp.level"),
                         mapping(23, v1::MAPPING_ACTION_SET, "tone.frequency")});
    auto u = put(edited, false);
    ASSERT_EQ(u.status().code(), 0) << u.status().message();
    EXPECT_EQ(u.panel().rev(), 3u) << "created, deactivated, updated";
    // Every change announced, in order (the update last: nothing else came in between).
    const auto evs = collect(patience, [](const v1::Event& e) {
      return e.has_panel() && e.panel().panel().id() == "mix-a" && e.panel().reason() == "updated";
    });
    EXPECT_EQ(panel_events(evs),
              (std::vector<std::string>{"mix-a:created", "mix-a:deactivated", "mix-b:created",
                                        "aux:created", "pads:created", "mix-a:updated"}));
    cc(1, 23, 0);
    cc(1, 22, 64);  // the marker: aux's knob, after it
    EXPECT_TRUE(wait_value("amp", "level", is(-120 + 144 * (64 / 127.0))));
    EXPECT_EQ(value("tone", "frequency"), 20000) << "the inactive panel's knob did nothing";
  }

  /// The active pads panel: toggle on note-on, momentary while held; then deactivated, silence.
  void play_pads() {
    // The hold notes come after wobble's note-off through the same panels: once hold is back
    // off, that note-off was handled.
    note(true, 60);
    EXPECT_TRUE(wait_value("wobble", "running", is(1)));
    note(false, 60);
    note(true, 62);
    EXPECT_TRUE(wait_value("hold", "running", is(1)));
    note(false, 62);
    EXPECT_TRUE(wait_value("hold", "running", is(0)));
    EXPECT_EQ(value("wobble", "running"), 1) << "a toggle ignores note-off";

    // Deactivated pads: silence (the CC after the notes is the marker).
    ASSERT_EQ(activate("pads", false).status().code(), 0);
    note(true, 60);
    note(false, 60);
    cc(1, 22, 100);
    EXPECT_TRUE(wait_value("amp", "level", is(-120 + 144 * (100 / 127.0))));
    EXPECT_EQ(value("wobble", "running"), 1);
  }
};

TEST_F(panels, one_active_per_type_and_bank_and_input_follows_the_active_preset) {
  ASSERT_NO_FATAL_FAILURE(start_midi(switches));
  drain();
  ASSERT_NO_FATAL_FAILURE(put_mix_aux_and_pads());

  // CC 21 reaches mix-b's target only. The panels handle MIDI in order and, within a message,
  // mix-a before mix-b: had mix-a acted, its intent would reach amp before this read does.
  cc(1, 21, 127);
  EXPECT_TRUE(wait_value("tone", "frequency", is(20000)));
  EXPECT_EQ(value("amp", "level"), -20) << "the inactive panel's mapping did nothing";

  // An inactive panel stays editable, and still receives nothing.
  ASSERT_NO_FATAL_FAILURE(edit_inactive_mix_a());

  // Activating mix-a switches the routing over.
  auto on = activate("mix-a");
  ASSERT_EQ(on.status().code(), 0);
  ASSERT_EQ(on.deactivated_size(), 1);
  EXPECT_EQ(on.deactivated(0), "mix-b");
  cc(1, 21, 0);  // amp.level's whole range: -120 dB
  EXPECT_TRUE(wait_value("amp", "level", [](double x) { return x == -120; }));
  cc(1, 23, 0);  // now mix-a's second knob
  EXPECT_TRUE(wait_value("tone", "frequency", [](double x) { return x == 1; }));
  EXPECT_EQ(param("tone", "frequency").value().double_value(), 1);

  // Pads: toggle on note-on, momentary while held; deactivated, silence.
  ASSERT_NO_FATAL_FAILURE(play_pads());

  // Deleting announces the panel's last state.
  v1::DeletePanelRequest del;
  del.set_id("aux");
  ASSERT_EQ(rt_->delete_panel(del).status().code(), 0);
  const auto gone = collect(patience, [](const v1::Event& e) {
    return e.has_panel() && e.panel().panel().id() == "aux";
  });
  ASSERT_TRUE(!gone.empty() && gone.back().has_panel()) << "no announcement of aux";
  EXPECT_EQ(gone.back().panel().panel().id(), "aux");
  EXPECT_TRUE(gone.back().panel().deleted());
  EXPECT_EQ(listed().count("aux"), 0u);
  EXPECT_EQ(rt_->snapshot().panels_size(), 3) << "the hub's snapshot follows the panels";
}

TEST_F(panels, knobs_pick_up_before_they_move_a_value) {
  ASSERT_NO_FATAL_FAILURE(start_midi({}));
  ASSERT_EQ(put(panel("k", v1::PANEL_TYPE_KNOB, "main", true,
                      {mapping(7, v1::MAPPING_ACTION_SET, "amp.level", true)}))
              .status()
              .code(),
            0);
  // -20 dB is 0.694 of -120..24. A knob at 0 is far away: nothing happens until it crosses.
  // The panels handle MIDI in order: the change the crossing CC makes is the first after rev.
  uint64_t rev = node_rev("amp");
  cc(1, 7, 0);
  cc(1, 7, 127);  // crossed
  auto seen = changes_until("amp", "level", rev, is(24));
  ASSERT_TRUE(seen) << "CC 127 never applied";
  EXPECT_EQ(seen->size(), 1u) << "CC 0 made the level jump: " << show(*seen);
  ASSERT_EQ(set("amp", "level", number(-60)).status().code(), 0);  // someone else: 0.417
  rev = node_rev("amp");
  cc(1, 7, 120);  // 0.945: far from -60 dB
  cc(1, 7, 40);   // 0.315: crossed it
  const double at40 = -120 + 144 * (40 / 127.0);
  seen = changes_until("amp", "level", rev, is(at40));
  ASSERT_TRUE(seen) << "CC 40 never applied";
  EXPECT_EQ(seen->size(), 1u) << "CC 120 made the level jump: " << show(*seen);
}

/// Calls `move(round)` until `learn` answers: MIDI that reaches the panels before the learn
/// request does passes them by, and nothing tells when the request has arrived.
void move_until_learned(std::future<v1::LearnReply>& learn, const std::function<void(int)>& move,
                        int max_rounds) {
  for (int round = 0; round < max_rounds; ++round) {
    move(round);
    if (learn.wait_for(100ms) == std::future_status::ready)
      return;
  }
}

TEST_F(panels, learn_binds_the_next_control_into_a_panel) {
  ASSERT_NO_FATAL_FAILURE(start_midi(switches));
  v1::LearnRequest req;
  req.set_target("amp.level");
  req.set_timeout_ms(10000);
  auto knob = std::async(std::launch::async, [&] { return rt_->learn(req); });
  move_until_learned(knob, [&](int) {
    note(true, 40);  // a pad does not bind a numeric parameter: still waiting
    cc(3, 30, 87);   // this knob does
  }, 100);
  const auto learned = knob.get();
  ASSERT_EQ(learned.status().code(), 0) << learned.status().message();
  EXPECT_EQ(learned.device(), "pads");
  EXPECT_EQ(learned.panel().id(), "learned-knobs");
  EXPECT_TRUE(learned.panel().active());
  EXPECT_EQ(learned.mapping().number(), 30u);
  EXPECT_EQ(learned.mapping().channel(), 3u);
  EXPECT_EQ(learned.mapping().action(), v1::MAPPING_ACTION_SET);
  // The knob now drives the level (after meeting it: -20 dB is 0.694, CC 88 is 0.693). This
  // also shows the panels are done with every round above before the next learn starts.
  cc(3, 30, 88);
  cc(3, 30, 127);
  EXPECT_TRUE(wait_value("amp", "level", is(24)));

  // A pad bound to a bool becomes a toggle, in a pad panel. Each round plays another note, so
  // the rounds after the one learned do not toggle it.
  req.set_target("wobble.running");
  auto pad = std::async(std::launch::async, [&] { return rt_->learn(req); });
  move_until_learned(pad, [&](int round) { note(true, 45 + round); }, 80);
  const auto p = pad.get();
  ASSERT_EQ(p.status().code(), 0) << p.status().message();
  EXPECT_EQ(p.panel().id(), "learned-pads");
  EXPECT_EQ(p.mapping().action(), v1::MAPPING_ACTION_TOGGLE);
  const uint32_t key = p.mapping().number();
  EXPECT_GE(key, 45u);
  note(false, key);
  note(true, key);  // after every round: none is left to end the learn below
  EXPECT_TRUE(wait_value("wobble", "running", is(1)));

  // Nothing moved: DEADLINE_EXCEEDED naming the timeout. A bad target: INVALID_ARGUMENT.
  req.set_timeout_ms(200);
  auto late = rt_->learn(req);
  EXPECT_EQ(late.status().code(), code_deadline_exceeded);
  EXPECT_EQ(late.status().field(), "timeout_ms");
  req.set_target("amp.nothing");
  auto bad = rt_->learn(req);
  EXPECT_EQ(bad.status().code(), code_invalid_argument);
  EXPECT_EQ(bad.status().field(), "target");
}

TEST_F(panels, everything_survives_a_restart) {
  char tmpl[] = "/tmp/sg-panels-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string state = std::string(tmpl) + "/state.sqlite";
  ASSERT_NO_FATAL_FAILURE(start_midi(switches, state));
  auto one = put(panel("one", v1::PANEL_TYPE_KNOB, "main", true,
                       {mapping(21, v1::MAPPING_ACTION_SET, "amp.level")}));
  ASSERT_EQ(one.status().code(), 0);
  EXPECT_TRUE(one.persisted());
  ASSERT_EQ(put(panel("two", v1::PANEL_TYPE_KNOB, "main", true,
                      {mapping(21, v1::MAPPING_ACTION_SET, "tone.frequency")}))
              .status()
              .code(),
            0);
  ASSERT_EQ(put(panel("drums", v1::PANEL_TYPE_PAD, "main", false,
                      {mapping(60, v1::MAPPING_ACTION_TOGGLE, "wobble.running")}))
              .status()
              .code(),
            0);
  const auto before = listed();

  // A new process on the same file.
  stream_->close();
  stream_.reset();
  rt_.reset();
  ASSERT_NO_FATAL_FAILURE(start_midi(switches, state));
  const auto after = listed();
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [id, p] : before)
    EXPECT_EQ(after.at(id).ShortDebugString(), p.ShortDebugString()) << id;
  EXPECT_FALSE(after.at("one").active());
  EXPECT_TRUE(after.at("two").active());
  // And the restored routing plays.
  cc(1, 21, 0);
  EXPECT_TRUE(wait_value("tone", "frequency", [](double x) { return x == 1; }));
  EXPECT_EQ(value("amp", "level"), -20);
  std::filesystem::remove_all(tmpl);
}

// Refusals need no MIDI: the runtime alone.
class panel_refusals : public controller_fixture {};

TEST_F(panel_refusals, bad_panels_name_their_field_and_change_nothing) {
  ASSERT_NO_FATAL_FAILURE(start(switches));
  auto put = [&](const v1::Panel& p, bool create = true) {
    v1::PutPanelRequest req;
    *req.mutable_panel() = p;
    req.set_create(create);
    return rt_->put_panel(req);
  };
  auto good = panel("ok", v1::PANEL_TYPE_KNOB, "main", true,
                    {mapping(1, v1::MAPPING_ACTION_SET, "amp.level")});
  ASSERT_EQ(put(good).status().code(), 0);
  const auto created = collect(patience, [](const v1::Event& e) { return e.has_panel(); });
  ASSERT_TRUE(!created.empty() && created.back().has_panel()) << "the good panel unannounced";
  struct bad_case {
    v1::Panel p;
    std::string field;
  };
  std::vector<bad_case> cases;
  auto with = [&](auto f, std::string field) {
    auto p = good;
    p.set_id("new");
    f(p);
    cases.push_back({p, std::move(field)});
  };
  with([](v1::Panel& p) { p.set_id("has space"); }, "panel.id");
  with([](v1::Panel& p) { p.set_type(v1::PANEL_TYPE_UNSPECIFIED); }, "panel.type");
  with([](v1::Panel& p) { p.set_bank(""); }, "panel.bank");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_number(200); }, "panel.mappings[0].number");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_channel(17); },
       "panel.mappings[0].channel");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_target("nowhere.level"); },
       "panel.mappings[0].target");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_target("amp.levle"); },
       "panel.mappings[0].target");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_action(v1::MAPPING_ACTION_TRIGGER); },
       "panel.mappings[0].action");
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_action(v1::MAPPING_ACTION_TOGGLE); },
       "panel.mappings[0].target");  // amp.level is not a bool
  with([](v1::Panel& p) { p.mutable_mappings(0)->set_high(1.5); }, "panel.mappings[0].low");
  with([](v1::Panel& p) {
    const auto twin = p.mappings(0);
    *p.add_mappings() = twin;
  }, "panel.mappings[1].number");
  with([](v1::Panel& p) {
    p.set_type(v1::PANEL_TYPE_PAD);
    p.mutable_mappings(0)->set_action(v1::MAPPING_ACTION_SET);
  }, "panel.mappings[0].action");
  for (const auto& c : cases) {
    const auto r = put(c.p);
    EXPECT_EQ(r.status().code(), code_invalid_argument) << c.field << ": " << r.status().message();
    EXPECT_EQ(r.status().field(), c.field) << r.status().message();
  }
  EXPECT_EQ(put(good).status().code(), code_already_exists);
  auto missing = good;
  missing.set_id("missing");
  EXPECT_EQ(put(missing, false).status().code(), code_not_found);
  v1::ActivatePanelRequest act;
  act.set_id("missing");
  EXPECT_EQ(rt_->activate_panel(act).status().code(), code_not_found);
  v1::DeletePanelRequest del;
  del.set_id("missing");
  EXPECT_EQ(rt_->delete_panel(del).status().code(), code_not_found);
  // Nothing changed and nothing was announced: the panels announce in order, so the first
  // announcement after the refusals is that of a change made after them.
  const auto list = rt_->list_panels();
  ASSERT_EQ(list.panels_size(), 1);
  EXPECT_EQ(list.panels(0).rev(), 1u);
  act.set_id("ok");
  act.set_active(false);
  ASSERT_EQ(rt_->activate_panel(act).status().code(), 0);
  const auto evs = collect(patience, [](const v1::Event& e) { return e.has_panel(); });
  ASSERT_FALSE(evs.empty());
  EXPECT_EQ(evs.back().panel().panel().id() + ":" + evs.back().panel().reason(),
            "ok:deactivated")
    << "announced after a refusal: " << evs.back().ShortDebugString();
}

} // namespace
} // namespace sg::test
