#pragma once

/// Video domains: which nodes each video device's pipeline runs.

#include <string>
#include <vector>

#include "hardware/specs.hpp"
#include "nodes/core/render_plan.hpp"

namespace sg {

/// One video device and the nodes its pipeline runs, in graph order, with the video edges
/// between them (indices into `nodes`). A node's slot (KernelParam.slot) is its index here.
/// When the nodes feed outputs on several video devices (a program to a file and to RTP),
/// they share one pipeline and one clock: the first of those devices in the graph owns it,
/// and `sinks` lists every device whose sink the pipeline feeds (the owner first).
struct video_domain {
  device_spec device;
  std::vector<device_spec> sinks;
  std::vector<node_spec> nodes;
  std::vector<plan_edge_spec> edges;
};

/// Splits a validated graph into video domains: nodes joined by video edges run in one
/// pipeline, owned by the first video device an output among them is bound to. Every video
/// device that owns no pipeline and feeds none gets an empty domain (it idles). Video nodes
/// that reach no video.output run nowhere.
std::vector<video_domain> split_video_domains(const graph_spec& spec);

/// Nodes that play video and reach no video.output (so they run nowhere), for a warning.
std::vector<std::string> unplaced_video_nodes(const graph_spec& spec);

} // namespace sg
