#include "nodes/control/control.hpp"

#include "nodes/core/describe.hpp"

namespace sg {

namespace {

node_info clock_info() {
  using namespace describe;
  node_info info;
  info.type = "control.clock";
  info.summary = "The graph's tempo, followed by LFOs with sync";
  info.params = {real("bpm", 20, 300, 120, "BPM", "Tempo")};
  return info;
}

node_info lfo_info() {
  using namespace describe;
  node_info info;
  info.type = "control.lfo";
  info.summary = "Low-frequency oscillator writing an overlay on one parameter";
  info.params = {
    text("target", "", "The parameter it moves, as node.param"),
    choice("shape", {"sine", "triangle", "saw", "square"}, 0, "Waveform"),
    real("rate", 0.01, 50, 1, "Hz", "Cycles per second (without sync)"),
    boolean("sync", false, "Follow the clock's tempo: `beats` per cycle"),
    real("beats", 0.0625, 64, 1, "beats", "Cycle length with sync"),
    real("center", 0, 1, 0.5, "", "Middle of the sweep, as a fraction of the target's range"),
    real("depth", 0, 1, 0.5, "", "Sweep width, as a fraction of the target's range"),
    real("phase", 0, 1, 0, "cycles", "Cycle offset"),
    choice("curve", {"linear", "log"}, 0, "How fractions map to the target's range"),
    boolean("running", true, "false stops it"),
    choice("on_stop", {"return", "hold"}, 0, "return: discard the overlay; hold: settle it"),
    real("update_hz", 1, 200, 50, "Hz", "Intents per second while running"),
  };
  return info;
}

node_info ramp_info() {
  using namespace describe;
  node_info info;
  info.type = "control.ramp";
  info.summary = "One-shot ramp of one parameter from a value to another, as an overlay";
  info.params = {
    text("target", "", "The parameter it moves, as node.param"),
    real("from", -1e9, 1e9, 0, "", "Start value (target units)"),
    real("to", -1e9, 1e9, 1, "", "End value (target units)"),
    real("time", 1, 600000, 1000, "ms", "Duration"),
    choice("curve", {"linear", "exp"}, 0, "exp: geometric steps (positive values)"),
    boolean("running", false, "true starts the ramp (again); false when it is done"),
    choice("on_end", {"hold", "return"}, 0, "hold: settle the end value; return: discard"),
    real("update_hz", 1, 200, 50, "Hz", "Intents per second while running"),
  };
  return info;
}

node_info osc_server_info() {
  using namespace describe;
  node_info info;
  info.type = "control.osc";
  info.summary = "OSC server: /sg/NODE/PARAM value (overlay) and /sg/NODE/PARAM/commit value";
  info.params = {
    text("listen", "127.0.0.1:9000", "HOST:PORT to bind, UDP (loopback by default)"),
    text("echo_to", "", "host:port,... clients sent every change as /sg/NODE/PARAM value"),
    real("settle_ms", 0, 60000, 500, "ms", "Settle time of the overlays it writes"),
  };
  return info;
}

node_info midi_map_info() {
  using namespace describe;
  node_info info;
  info.type = "control.midi";
  info.summary = "Maps one kind of MIDI input from a MIDI device to a parameter, trigger or preset";
  info.needs_device = true;
  info.device_kind = "midi";
  info.params = {
    integer("channel", 0, 16, 0, "", "MIDI channel 1..16; 0 listens to all"),
    choice("message", {"cc", "note", "program"}, 0, "What it listens to"),
    integer("number", 0, 127, 0, "", "Controller or note number (not for program or play)"),
    choice("action", {"set", "trigger", "toggle", "momentary", "play", "preset"}, 0,
           "set: CC to a parameter; trigger/toggle/momentary: a note; play: notes to a "
           "synth; preset: program change loads a preset"),
    text("target", "", "node.param (set, toggle, momentary) or node (trigger, play)"),
    real("low", 0, 1, 0, "", "Where CC 0 lands, as a fraction of the target's range"),
    real("high", 0, 1, 1, "", "Where CC 127 lands, as a fraction of the target's range"),
    choice("curve", {"linear", "log", "exp"}, 0,
           "log: fast at first (log10(1+9x)); exp: slow at first ((10^x-1)/9)"),
    boolean("pickup", true, "Soft takeover: ignore the knob until it meets the current value"),
    boolean("learn", false, "true: the next matching control moved sets channel and number"),
    text("preset", "{n}", "Preset a program change loads; {n} is the program number"),
  };
  return info;
}

} // namespace

void add_control_nodes(node_registry& reg) {
  reg.add(clock_info());
  reg.add(lfo_info());
  reg.add(ramp_info());
  reg.add(osc_server_info());
  reg.add(midi_map_info());
}

bool is_controller_type(std::string_view type) {
  return type == "control.lfo" || type == "control.ramp" || type == "control.osc" ||
         type == "control.midi";
}

} // namespace sg
