#pragma once

/// The control plane's protobuf graph as the plain structures the drivers and domain
/// compilation work on (hardware/specs.hpp), and an audio domain as the message that carries
/// it from the host to a device actor.

#include "hardware/audio_domain.hpp"
#include "hardware/specs.hpp"
#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/graph.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

device_spec to_device_spec(const v1::DeviceSpec& d);
v1::DeviceSpec to_proto(const device_spec& d);

/// The node with its type looked up among the built-in node types and every parameter set
/// (the graph's values over the type's defaults). A node of an unknown type (a graph that did
/// not pass validation) keeps a null `info` and no values.
node_spec to_node_spec(const v1::NodeSpec& n);
v1::NodeSpec to_proto(const node_spec& n);

graph_spec to_graph_spec(const v1::GraphSpec& g);

v1::DomainPlan to_proto(const audio_domain& domain);
audio_domain from_proto(const v1::DomainPlan& plan);

}  // namespace sg
