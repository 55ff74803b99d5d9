#pragma once

#include "actors/protocols.hpp"

namespace sg {

/// Spawns the actor of one MIDI input device (`kind: midi` in the graph; RtMidi, JACK or ALSA
/// backend), which owns a `midi_input` (hardware/midi_input.hpp): its delivery thread publishes
/// each message to the hub as a MidiInput event, which control.midi mappings and panels act on.
/// The actor opens the input, a virtual port "studiograph-midi:<device>" connected from the
/// device's `port` when one is named, and reports DeviceStatus (RUNNING, or FAILED saying why).
///
/// thread: the actor's own thread (detached: opening a MIDI client may block).
caf::actor spawn_midi_device(caf::actor_system& sys, const v1::DeviceSpec& spec, hub_actor hub);

} // namespace sg
