// control.midi with a real MIDI path: a JACK dummy server started here, studiograph's MIDI
// device actor (RtMidi, JACK backend) connected to a second JACK MIDI client this test creates
// (RtMidiOut), sending CCs, notes and program changes. Parameters follow with the configured
// range and curve, pickup keeps a knob from making a value jump, notes play a synth (its meter
// rises), toggles and momentary notes switch a bool, a program change loads a preset, and
// learn binds the next control moved.

#include "tests/controllers/midi_fixture.hpp"

namespace sg::test {
namespace {

class midi : public midi_fixture {};

TEST_F(midi, cc_sets_a_parameter_through_range_and_curve_with_pickup) {
  ASSERT_NO_FATAL_FAILURE(start_midi(
    "  - { id: knob, type: control.midi, device: pads, params: { channel: 1, message: cc, "
    "number: 7, target: amp.level, low: 0.5, high: 1 } }\n"
    "  - { id: sweep, type: control.midi, device: pads, params: { message: cc, number: 8, "
    "target: tone.frequency, curve: log, pickup: false } }\n"));
  // amp.level is -20 dB: 0.694 of its -120..24 range. CC 0 maps to 0.5 (-48 dB), far away:
  // pickup ignores it. CC 127 (24 dB) crosses the value: picked up, applied. The knob handles
  // its input in order, so the change CC 127 makes is the first one after CC 0's turn.
  uint64_t rev = node_rev("amp");
  cc(1, 7, 0);
  cc(1, 7, 127);
  auto seen = changes_until("amp", "level", rev, is(24.0));
  ASSERT_TRUE(seen) << "CC 127 never applied";
  EXPECT_EQ(seen->size(), 1u) << "a knob far from the value does not make it jump: "
                              << show(*seen);
  cc(1, 7, 64);  // 0.5 + 0.5 * 64/127 of the range
  const double at64 = -120 + 144 * (0.5 + 0.5 * 64 / 127.0);
  EXPECT_TRUE(wait_value("amp", "level", is(at64))) << value("amp", "level");
  rev = node_rev("amp");
  cc(2, 7, 100);  // another channel: not ours
  cc(1, 7, 65);   // the marker: ours, after it
  const double at65 = -120 + 144 * (0.5 + 0.5 * 65 / 127.0);
  seen = changes_until("amp", "level", rev, is(at65));
  ASSERT_TRUE(seen) << "the marker CC never applied";
  EXPECT_EQ(seen->size(), 1u) << "a CC on channel 2 changed the level: " << show(*seen);

  // Someone else moves the level: the knob must meet it again before it takes over.
  ASSERT_EQ(set("amp", "level", number(-11)).status().code(), 0);  // 0.757 of the range
  rev = node_rev("amp");
  cc(1, 7, 100);  // 0.894
  cc(1, 7, 90);   // 0.854: still above, not met
  cc(1, 7, 60);   // 0.736: crossed it
  const double at60 = -120 + 144 * (0.5 + 0.5 * 60 / 127.0);
  seen = changes_until("amp", "level", rev, is(at60));
  ASSERT_TRUE(seen) << "CC 60 never applied";
  EXPECT_EQ(seen->size(), 1u) << "CCs 100 and 90 had not met -11 dB: " << show(*seen);

  // The log curve: half way up the knob is log10(1 + 9 * 0.5) = 0.74 of 1..20000 Hz.
  cc(5, 8, 64);
  const double f = 1 + 19999 * std::log10(1 + 9 * (64 / 127.0));
  EXPECT_TRUE(wait_value("tone", "frequency", [&](double x) { return std::fabs(x - f) < 1e-6; }))
    << value("tone", "frequency");
}

TEST_F(midi, notes_play_a_synth_toggle_and_hold_switches) {
  ASSERT_NO_FATAL_FAILURE(start_midi(
    "  - { id: keys, type: audio.synth, params: { release: 50 } }\n"
    "  - { id: keymeter, type: audio.meter }\n"
    "  - { id: play, type: control.midi, device: pads, params: { message: note, action: play, "
    "target: keys } }\n"
    "  - { id: wobble, type: control.lfo, params: { target: tone.frequency, running: false } }\n"
    "  - { id: hold, type: control.lfo, params: { target: amp.level, running: false } }\n"
    "  - { id: sw, type: control.midi, device: pads, params: { message: note, number: 60, "
    "action: toggle, target: wobble.running } }\n"
    "  - { id: mom, type: control.midi, device: pads, params: { message: note, number: 62, "
    "action: momentary, target: hold.running } }\n",
    "none", "  - keys.out -> keymeter.in\n"));
  // keymeter publishes the peak of every 50 ms: the loudest channel of each of its readings.
  auto peak_of = [](const v1::Event& e) {
    float peak = -200;
    for (float p : e.meter().peak_db())
      peak = std::max(peak, p);
    return peak;
  };
  auto is_reading = [](const v1::Event& e) {
    return e.has_meter() && e.meter().node() == "keymeter";
  };
  auto next_readings = [&](size_t n) {
    std::vector<float> peaks;
    collect(patience, [&](const v1::Event& e) {
      if (is_reading(e))
        peaks.push_back(peak_of(e));
      return peaks.size() >= n;
    });
    EXPECT_EQ(peaks.size(), n) << "keymeter stopped publishing";
    return peaks;
  };
  auto reading_until = [&](const std::function<bool(float)>& ok) {
    bool seen = false;
    collect(patience, [&](const v1::Event& e) { return seen = is_reading(e) && ok(peak_of(e)); });
    return seen;
  };
  drain();
  for (float p : next_readings(6))
    EXPECT_LT(p, -100) << "silent before a note";
  note(true, 60, 127);  // plays the synth, and toggles wobble on
  EXPECT_TRUE(reading_until([](float p) { return p > -30; })) << "the note sounds";
  EXPECT_TRUE(wait_value("wobble", "running", is(1)));
  const uint64_t rev = node_rev("wobble");
  note(false, 60);
  EXPECT_TRUE(reading_until([](float p) { return p < -100; })) << "released";
  for (float p : next_readings(6))
    EXPECT_LT(p, -100) << "stays released";
  // sw's input in order: its note-off, then a note-on that switches wobble off. Were the
  // note-off to toggle, wobble would go to 0 and back to 1: the first 0 looks the same, so the
  // revision count at the end checks that no flip back follows.
  note(true, 60);
  const auto seen = changes_until("wobble", "running", rev, is(0));
  ASSERT_TRUE(seen) << "the second note-on did not toggle";
  EXPECT_EQ(seen->size(), 1u) << "a toggle ignores note-off: " << show(*seen);
  note(false, 60);
  note(true, 62);  // momentary: on while held
  EXPECT_TRUE(wait_value("hold", "running", is(1)));
  note(false, 62);
  EXPECT_TRUE(wait_value("hold", "running", is(0)));
  // mom is another mapping, so its answers do not prove sw is done with the notes sent
  // before; they come long after them, though.
  EXPECT_EQ(node_rev("wobble"), rev + 1) << "a toggle ignores note-off";
  EXPECT_EQ(value("wobble", "running"), 0);
}

TEST_F(midi, program_change_loads_a_preset_and_learn_binds_the_next_control) {
  char tmpl[] = "/tmp/sg-midi-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  ASSERT_NO_FATAL_FAILURE(start_midi(
    "  - { id: programs, type: control.midi, device: pads, params: { message: program, "
    "action: preset, preset: \"scene {n}\" } }\n"
    "  - { id: fader, type: control.midi, device: pads, params: { message: cc, target: "
    "amp.level, pickup: false, learn: true } }\n",
    dir + "/state.sqlite"));
  auto save = [&](const std::string& node, const std::string& p, double x,
                  const std::string& name) {
    ASSERT_EQ(set(node, p, number(x)).status().code(), 0);
    v1::SavePresetRequest req;
    req.set_name(name);
    req.add_nodes(node);
    ASSERT_EQ(rt_->save_preset(req).status().code(), 0);
  };
  ASSERT_NO_FATAL_FAILURE(save("amp", "level", -33, "scene 3"));
  ASSERT_NO_FATAL_FAILURE(save("tone", "frequency", 330, "scene 5"));
  ASSERT_EQ(set("tone", "frequency", number(440)).status().code(), 0);
  ASSERT_EQ(set("amp", "level", number(-10)).status().code(), 0);
  send({0xC0, 3});  // program change 3
  const auto loaded = collect(patience, [](const v1::Event& e) { return e.has_preset_loaded(); });
  ASSERT_TRUE(!loaded.empty() && loaded.back().has_preset_loaded())
    << "program change 3 never loaded";
  EXPECT_EQ(value("amp", "level"), -33);
  const uint64_t amp_rev = node_rev("amp");
  send({0xC0, 4});  // no such preset: refused, nothing changes
  // The marker: program change 5, which sets tone only. The host refuses a load while another
  // is in progress, so it goes again until tone shows it; by then the load of 4 was over.
  bool marked = false;
  for (int i = 0; i < 50 && !marked; ++i) {
    send({0xC0, 5});
    marked = wait_value("tone", "frequency", is(330), 200ms);
  }
  ASSERT_TRUE(marked) << "program change 5 never loaded";
  EXPECT_EQ(node_rev("amp"), amp_rev) << "program change 4 changed amp to "
                                      << value("amp", "level");

  // Learn: the next CC moved (channel 5, controller 21) becomes the fader's.
  cc(5, 21, 10);
  EXPECT_TRUE(wait_value("fader", "learn", is(0)));
  EXPECT_EQ(value("fader", "channel"), 5);
  EXPECT_EQ(value("fader", "number"), 21);
  cc(5, 21, 127);
  EXPECT_TRUE(wait_value("amp", "level", is(24)));
  const uint64_t rev = node_rev("amp");
  cc(5, 22, 0);   // another controller: not the fader's
  cc(5, 21, 64);  // the marker: the fader's, after it
  const double at64 = -120 + 144 * (64 / 127.0);
  const auto seen = changes_until("amp", "level", rev, is(at64));
  ASSERT_TRUE(seen) << "the marker CC never applied";
  EXPECT_EQ(seen->size(), 1u) << "controller 22 moved the fader: " << show(*seen);
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace sg::test
