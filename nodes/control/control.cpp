#include "nodes/control/control.hpp"

namespace sg {

namespace {

param_info real(std::string name, double lo, double hi, double def, std::string unit,
                std::string summary) {
  return {std::move(name), param_type::real, lo, hi, def, std::move(unit), std::move(summary)};
}

param_info flag(std::string name, bool def, std::string summary) {
  return {std::move(name), param_type::boolean, 0, 1, def ? 1.0 : 0.0, "", std::move(summary)};
}

param_info choice(std::string name, std::vector<std::string> choices, std::string summary) {
  param_info p{std::move(name), param_type::enumeration, 0,
               static_cast<double>(choices.size() - 1), 0, "", std::move(summary)};
  p.choices = std::move(choices);
  return p;
}

param_info text(std::string name, std::string def, std::string summary) {
  param_info p{std::move(name), param_type::string, 0, 0, 0, "", std::move(summary)};
  p.def_string = std::move(def);
  p.live = false;
  return p;
}

node_info clock_info() {
  node_info info;
  info.type = "control.clock";
  info.summary = "The graph's tempo, followed by LFOs with sync";
  info.params = {real("bpm", 20, 300, 120, "BPM", "Tempo")};
  return info;
}

node_info lfo_info() {
  node_info info;
  info.type = "control.lfo";
  info.summary = "Low-frequency oscillator writing an overlay on one parameter";
  info.params = {
    text("target", "", "The parameter it moves, as node.param"),
    choice("shape", {"sine", "triangle", "saw", "square"}, "Waveform"),
    real("rate", 0.01, 50, 1, "Hz", "Cycles per second (without sync)"),
    flag("sync", false, "Follow the clock's tempo: `beats` per cycle"),
    real("beats", 0.0625, 64, 1, "beats", "Cycle length with sync"),
    real("center", 0, 1, 0.5, "", "Middle of the sweep, as a fraction of the target's range"),
    real("depth", 0, 1, 0.5, "", "Sweep width, as a fraction of the target's range"),
    real("phase", 0, 1, 0, "cycles", "Cycle offset"),
    choice("curve", {"linear", "log"}, "How fractions map to the target's range"),
    flag("running", true, "false stops it"),
    choice("on_stop", {"return", "hold"}, "return: discard the overlay; hold: settle it"),
    real("update_hz", 1, 200, 50, "Hz", "Intents per second while running"),
  };
  return info;
}

node_info ramp_info() {
  node_info info;
  info.type = "control.ramp";
  info.summary = "One-shot ramp of one parameter from a value to another, as an overlay";
  info.params = {
    text("target", "", "The parameter it moves, as node.param"),
    real("from", -1e9, 1e9, 0, "", "Start value (target units)"),
    real("to", -1e9, 1e9, 1, "", "End value (target units)"),
    real("time", 1, 600000, 1000, "ms", "Duration"),
    choice("curve", {"linear", "exp"}, "exp: geometric steps (positive values)"),
    flag("running", false, "true starts the ramp (again); false when it is done"),
    choice("on_end", {"hold", "return"}, "hold: settle the end value; return: discard"),
    real("update_hz", 1, 200, 50, "Hz", "Intents per second while running"),
  };
  return info;
}

node_info osc_server_info() {
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

param_info integer(std::string name, double lo, double hi, double def, std::string summary) {
  return {std::move(name), param_type::integer, lo, hi, def, "", std::move(summary)};
}

node_info midi_map_info() {
  node_info info;
  info.type = "control.midi";
  info.summary = "Maps one kind of MIDI input from a MIDI device to a parameter, trigger or preset";
  info.needs_device = true;
  info.device_kind = "midi";
  info.params = {
    integer("channel", 0, 16, 0, "MIDI channel 1..16; 0 listens to all"),
    choice("message", {"cc", "note", "program"}, "What it listens to"),
    integer("number", 0, 127, 0, "Controller or note number (not for program or play)"),
    choice("action", {"set", "trigger", "toggle", "momentary", "play", "preset"},
           "set: CC to a parameter; trigger/toggle/momentary: a note; play: notes to a "
           "synth; preset: program change loads a preset"),
    text("target", "", "node.param (set, toggle, momentary) or node (trigger, play)"),
    real("low", 0, 1, 0, "", "Where CC 0 lands, as a fraction of the target's range"),
    real("high", 0, 1, 1, "", "Where CC 127 lands, as a fraction of the target's range"),
    choice("curve", {"linear", "log", "exp"},
           "log: fast at first (log10(1+9x)); exp: slow at first ((10^x-1)/9)"),
    flag("pickup", true, "Soft takeover: ignore the knob until it meets the current value"),
    flag("learn", false, "true: the next matching control moved sets channel and number"),
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
