#pragma once

/// Video domains: which nodes each video device's pipeline runs.

#include <string>
#include <vector>

#include "nodes/core/render_plan.hpp"
#include "studiograph/v1/graph.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// One video device and the nodes its pipeline runs, in graph order, with the video edges
/// between them (indices into `nodes`). A node's slot (KernelParam.slot) is its index here.
/// When the nodes feed outputs on several video devices (a program to a file and to RTP),
/// they share one pipeline and one clock: the first of those devices in the graph owns it,
/// and `sinks` lists every device whose sink the pipeline feeds (the owner first).
struct video_domain {
  v1::DeviceSpec device;
  std::vector<v1::DeviceSpec> sinks;
  std::vector<v1::NodeSpec> nodes;
  std::vector<plan_edge_spec> edges;
};

/// Splits a validated graph into video domains: nodes joined by video edges run in one
/// pipeline, owned by the first video device an output among them is bound to. Every video
/// device that owns no pipeline and feeds none gets an empty domain (it idles). Video nodes
/// that reach no video.output run nowhere.
std::vector<video_domain> split_video_domains(const v1::GraphSpec& spec,
                                              const node_registry& reg);

/// Nodes that play video and reach no video.output (so they run nowhere), for a warning.
std::vector<std::string> unplaced_video_nodes(const v1::GraphSpec& spec,
                                              const node_registry& reg);

} // namespace sg
