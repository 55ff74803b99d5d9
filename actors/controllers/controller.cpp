#include "actors/controllers/controller.hpp"

#include "actors/controllers/automation.hpp"
#include "actors/controllers/midi.hpp"
#include "actors/controllers/osc.hpp"

namespace sg {

caf::actor spawn_controller(caf::actor_system& sys, const v1::NodeSpec& spec,
                            const controller_deps& deps) {
  if (spec.type() == "control.lfo")
    return ctl::spawn_lfo(sys, spec.id(), deps);
  if (spec.type() == "control.ramp")
    return ctl::spawn_ramp(sys, spec.id(), deps);
  if (spec.type() == "control.osc")
    return ctl::spawn_osc(sys, spec.id(), deps);
  if (spec.type() == "control.midi")
    return ctl::spawn_midi_map(sys, spec.id(), deps);
  return {};
}

} // namespace sg
