// The registry of every node family: audio, video (their descriptors; the GStreamer elements
// are in sg_video), control and store nodes. A new node type is added here.

#include "nodes/audio/compressor/compressor.hpp"
#include "nodes/audio/delay/delay.hpp"
#include "nodes/audio/filter/filter.hpp"
#include "nodes/audio/gain/gain.hpp"
#include "nodes/audio/meter/meter.hpp"
#include "nodes/audio/mixer/mixer.hpp"
#include "nodes/audio/noise/noise.hpp"
#include "nodes/audio/oscillator/oscillator.hpp"
#include "nodes/audio/input/input.hpp"
#include "nodes/audio/output/output.hpp"
#include "nodes/audio/pan/pan.hpp"
#include "nodes/audio/player/player.hpp"
#include "nodes/audio/recorder/recorder.hpp"
#include "nodes/audio/reverb/reverb.hpp"
#include "nodes/audio/sine/sine.hpp"
#include "nodes/audio/synth/synth.hpp"
#include "nodes/control/control.hpp"
#include "nodes/store/store.hpp"
#include "nodes/video/core/video_params.hpp"

namespace sg {

const node_registry& node_registry::builtin() {
  static const node_registry registry = [] {
    node_registry r;
    r.add(sine_info());
    r.add(gain_info());
    r.add(mixer_info());
    r.add(meter_info());
    r.add(input_info());
    r.add(output_info());
    r.add(store_info());
    r.add(oscillator_info());
    r.add(noise_info());
    r.add(pan_info());
    r.add(filter_info());
    r.add(delay_info());
    r.add(compressor_info());
    r.add(reverb_info());
    r.add(synth_info());
    r.add(player_info());
    r.add(recorder_info());
    video::add_video_nodes(r);
    add_control_nodes(r);
    return r;
  }();
  return registry;
}

} // namespace sg
