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
  // pickup ignores it. CC 127 (24 dB) crosses the value: picked up, applied.
  cc(1, 7, 0);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(value("amp", "level"), -20.0) << "a knob far from the value does not make it jump";
  cc(1, 7, 127);
  EXPECT_TRUE(wait_value("amp", "level", [](double x) { return x == 24.0; }));
  cc(1, 7, 64);  // 0.5 + 0.5 * 64/127 of the range
  const double at64 = -120 + 144 * (0.5 + 0.5 * 64 / 127.0);
  EXPECT_TRUE(wait_value("amp", "level", [&](double x) { return std::fabs(x - at64) < 1e-9; }))
    << value("amp", "level");
  cc(2, 7, 100);  // another channel: not ours
  std::this_thread::sleep_for(200ms);
  EXPECT_NEAR(value("amp", "level"), at64, 1e-9);

  // Someone else moves the level: the knob must meet it again before it takes over.
  ASSERT_EQ(set("amp", "level", number(-11)).status().code(), 0);  // 0.757 of the range
  cc(1, 7, 100);  // 0.894
  cc(1, 7, 90);   // 0.854: still above, not met
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(value("amp", "level"), -11.0);
  cc(1, 7, 60);  // 0.736: crossed it
  const double at60 = -120 + 144 * (0.5 + 0.5 * 60 / 127.0);
  EXPECT_TRUE(wait_value("amp", "level", [&](double x) { return std::fabs(x - at60) < 1e-9; }))
    << value("amp", "level");

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
  auto loudest = [&](std::chrono::milliseconds d) {
    drain();
    float peak = -200;
    for (const auto& e : collect(d))
      if (e.has_meter() && e.meter().node() == "keymeter")
        for (float p : e.meter().peak_db())
          peak = std::max(peak, p);
    return peak;
  };
  EXPECT_LT(loudest(300ms), -100) << "silent before a note";
  note(true, 60, 127);  // plays the synth, and toggles wobble on
  EXPECT_GT(loudest(400ms), -30) << "the note sounds";
  EXPECT_TRUE(wait_value("wobble", "running", [](double x) { return x == 1; }));
  note(false, 60);
  std::this_thread::sleep_for(300ms);
  EXPECT_LT(loudest(300ms), -100) << "released";
  EXPECT_EQ(value("wobble", "running"), 1) << "a toggle ignores note-off";
  note(true, 60);
  EXPECT_TRUE(wait_value("wobble", "running", [](double x) { return x == 0; }));
  note(false, 60);
  note(true, 62);  // momentary: on while held
  EXPECT_TRUE(wait_value("hold", "running", [](double x) { return x == 1; }));
  note(false, 62);
  EXPECT_TRUE(wait_value("hold", "running", [](double x) { return x == 0; }));
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
  ASSERT_EQ(set("amp", "level", number(-33)).status().code(), 0);
  v1::SavePresetRequest save;
  save.set_name("scene 3");
  save.add_nodes("amp");
  ASSERT_EQ(rt_->save_preset(save).status().code(), 0);
  ASSERT_EQ(set("amp", "level", number(-10)).status().code(), 0);
  send({0xC0, 3});  // program change 3
  EXPECT_TRUE(wait_value("amp", "level", [](double x) { return x == -33; }));
  send({0xC0, 4});  // no such preset: refused, nothing changes
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(value("amp", "level"), -33);

  // Learn: the next CC moved (channel 5, controller 21) becomes the fader's.
  cc(5, 21, 10);
  EXPECT_TRUE(wait_value("fader", "learn", [](double x) { return x == 0; }));
  EXPECT_EQ(value("fader", "channel"), 5);
  EXPECT_EQ(value("fader", "number"), 21);
  cc(5, 21, 127);
  EXPECT_TRUE(wait_value("amp", "level", [](double x) { return x == 24; }));
  cc(5, 22, 0);  // another controller: not the fader's
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(value("amp", "level"), 24);
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace sg::test
