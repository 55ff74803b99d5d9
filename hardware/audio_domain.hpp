#pragma once

/// Clock domains: which nodes each audio device renders.

#include <string>
#include <vector>

#include "hardware/device_ports.hpp"
#include "hardware/specs.hpp"
#include "nodes/core/render_plan.hpp"

namespace sg {

/// The nodes one audio device renders, in graph order, and the audio edges between them
/// (indices into `nodes`). A node's slot in the device's plan is its index here.
struct audio_domain {
  device_spec device;
  std::vector<node_spec> nodes;
  std::vector<plan_edge_spec> edges;
};

/// Splits a validated graph into audio clock domains. Nodes joined by audio edges share a
/// domain, the one of the device an audio.output among them is bound to; a chain that reaches
/// no output (e.g. only a meter) renders on the first audio device.
std::vector<audio_domain> split_domains(const graph_spec& spec);

/// thread: control. Compiles a domain's render plan with fresh kernels configured from the
/// nodes' parameters; fails with the compiler's reason when it cannot. Used by device actors
/// and by offline rendering, so both run exactly the same plan.
expected<std::unique_ptr<render_plan>> compile_domain_plan(const audio_domain& domain,
                                                           const audio_format& format);

/// The same plan compile, keeping the kernels of `previous` (the plan of `previous_domain`)
/// for nodes whose id, type and structural parameters are unchanged; the compiler makes new
/// ones where the port layout no longer fits (`render_plan::reused` tells which were kept).
expected<std::unique_ptr<render_plan>> recompile_domain_plan(const audio_domain& domain,
                                                             const audio_domain& previous_domain,
                                                             const render_plan& previous,
                                                             const audio_format& format);

/// The port names and connection groups of `domain`'s device (inputs and outputs as the
/// device spec counts them; see hardware/device_ports.hpp).
device_ports plan_device_ports(const audio_domain& domain);

} // namespace sg
