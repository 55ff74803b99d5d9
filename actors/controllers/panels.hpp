#pragma once

/// The panel authority: the one writer of every pad and knob panel (v1::Panel), and the
/// router of MIDI input through them.
///
/// A panel is a bank of pads (notes) or knobs (CCs) as on a control surface, with a preset of
/// mappings (control -> action on a node) and an active flag. Panels sharing a (type, bank)
/// share the same physical controls: activating one deactivates the other, and MIDI input
/// reaches only the active one (inactive panels stay editable). Every change is validated
/// whole (nothing is half-applied), written to the persistence database before it is
/// acknowledged (when the graph has one), given `rev + 1` and the caller's origin, and
/// announced as a PanelChanged event; the hub keeps panels in every Snapshot.
///
/// Input: MidiInput events from the hub. A CC goes to the active knob panels of its device
/// (or of any device), a note to the active pad panels; each mapping of the control acts under
/// the client id "panel/<panel id>": knobs set a parameter through the mapping's range and curve
/// with pickup (soft takeover); pads trigger a node, toggle or hold a bool, or play notes.
///
/// Learn: one LearnRequest waits at a time; the next CC or note-on (on the panel's device when
/// one is named) binds to the target and is answered with the new mapping; the wait ends with
/// DEADLINE_EXCEEDED after `timeout_ms`.
///
/// thread: control (an event-based actor). Store writes are awaited, so requests are handled
/// one at a time in arrival order.

#include "actors/controllers/controller.hpp"

namespace sg {

/// Spawns the authority; with a `store` it first loads the stored panels (announcing each as
/// "restored"). `store` may be invalid (persistence disabled: panels last for the session).
panel_actor spawn_panel_authority(caf::actor_system& sys, const hub_actor& hub,
                                  const host_actor& host, const store_actor& store);

} // namespace sg
