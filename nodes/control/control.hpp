#pragma once

/// Controller node types (`control.*`): nodes without a kernel whose actor turns input into
/// intents for other nodes' authorities (actors/controllers/). Their own parameters are live
/// parameters like any other node's (layers, echoes, presets, persistence); the controller
/// reads them from the event hub.
///
/// control.clock — the graph's tempo.
///   bpm        double  20..300 BPM   default 120  live  tempo LFOs with `sync` follow (the
///                                                       first clock node of the graph)
///
/// control.lfo — a low-frequency oscillator writing an overlay on one numeric parameter.
///   target     string  "node.param"  structural   the parameter it moves (numeric, live)
///   shape      enum    sine, triangle, saw, square   default sine  live
///   rate       double  0.01..50 Hz   default 1     live  cycles per second (without sync)
///   sync       bool                  default false live  follow the clock: `beats` per cycle
///   beats      double  0.0625..64    default 1     live  cycle length in beats (with sync)
///   center     double  0..1          default 0.5   live  middle of the sweep, as a fraction of
///                                                        the target's range
///   depth      double  0..1          default 0.5   live  sweep width, as a fraction of the range
///   phase      double  0..1          default 0     live  cycle offset
///   curve      enum    linear, log   default linear live log: fractions map to the range
///                                                        geometrically (frequencies)
///   running    bool                  default true  live  false stops it
///   on_stop    enum    return, hold  default return live return: the overlay is discarded
///                                                        (committed ?? base again); hold: it
///                                                        settles (a session-only commit)
///   update_hz  double  1..200 Hz     default 50    live  intents per second while running
///
/// control.ramp — a one-shot ramp from `from` to `to` over `time`, as an overlay.
///   target     string  "node.param"  structural
///   from, to   double  (target units) default 0, 1 live  clamped to the target's range
///   time       double  1..600000 ms  default 1000  live
///   curve      enum    linear, exp   default linear live exp: geometric (positive ranges)
///   running    bool                  default false live  true starts (again, from `from`);
///                                                        the ramp sets it false when done
///   on_end     enum    hold, return  default hold  live  hold: the end value settles into a
///                                                        session-only commit; return: discard
///   update_hz  double  1..200 Hz     default 50    live
///
/// control.osc — an OSC (UDP) server: `/sg/NODE/PARAM value` writes an overlay of source
/// "osc" (settling after `settle_ms`), `/sg/NODE/PARAM/commit value` commits.
///   listen     string  "127.0.0.1:9000"  structural  HOST:PORT to bind (loopback by default)
///   echo_to    string  ""            structural  "host:port,..." clients that get every change
///                                                 as `/sg/NODE/PARAM value`
///   settle_ms  double  0..60000 ms   default 500   live  overlay settle time (0: the node's)
///
/// Threads: descriptors only; the behaviour lives in actors/controllers/.

#include "nodes/core/node_info.hpp"

namespace sg {

void add_control_nodes(node_registry& reg);

/// True for the node types that have a controller actor.
bool is_controller_type(std::string_view type);

} // namespace sg
