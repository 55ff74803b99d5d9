#include "nodes/audio/gain/gain.hpp"
#include "nodes/audio/meter/meter.hpp"
#include "nodes/audio/mixer/mixer.hpp"
#include "nodes/audio/output/output.hpp"
#include "nodes/audio/sine/sine.hpp"
#include "nodes/store/store.hpp"

namespace sg {

const node_registry& node_registry::builtin() {
  static const node_registry registry = [] {
    node_registry r;
    r.add(sine_info());
    r.add(gain_info());
    r.add(mixer_info());
    r.add(meter_info());
    r.add(output_info());
    r.add(store_info());
    return r;
  }();
  return registry;
}

} // namespace sg
