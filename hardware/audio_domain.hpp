#pragma once

/// Clock domains: which nodes each audio device renders.

#include <string>
#include <vector>

#include "nodes/core/render_plan.hpp"
#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/graph.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// The nodes one audio device renders, in graph order, and the audio edges between them
/// (indices into `nodes`). A node's slot in the device's plan is its index here.
struct audio_domain {
  v1::DeviceSpec device;
  std::vector<v1::NodeSpec> nodes;
  std::vector<plan_edge_spec> edges;
};

/// Splits a validated graph into audio clock domains. Nodes joined by audio edges share a
/// domain, the one of the device an audio.output among them is bound to; a chain that reaches
/// no output (e.g. only a meter) renders on the first audio device.
std::vector<audio_domain> split_domains(const v1::GraphSpec& spec, const node_registry& reg);

/// thread: control. Compiles a domain's render plan with fresh kernels configured from the
/// nodes' parameters; null and `error` set when it cannot. Used by device actors and by
/// offline rendering, so both run exactly the same plan.
std::unique_ptr<render_plan> compile_domain_plan(const audio_domain& domain,
                                                 const audio_format& format,
                                                 std::string& error);

/// The same plan compile, keeping the kernels of `previous` (the plan of `previous_domain`)
/// for nodes whose id, type and structural parameters are unchanged; the compiler makes new
/// ones where the port layout no longer fits. `reused` gets the ids whose kernel was kept.
std::unique_ptr<render_plan> recompile_domain_plan(const audio_domain& domain,
                                                   const audio_domain& previous_domain,
                                                   const render_plan& previous,
                                                   const audio_format& format,
                                                   std::string& error);

/// Domains travel between actors as protobuf.
v1::DomainPlan to_proto(const audio_domain& domain);
audio_domain from_proto(const v1::DomainPlan& plan);

} // namespace sg
