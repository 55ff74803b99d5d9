#pragma once

/// Conversions between protobuf parameter values and the engine's typed descriptors. Shared by
/// the graph validator and the node actors, so a value is judged the same way everywhere.

#include <string>

#include "nodes/core/expected.hpp"
#include "nodes/core/node_info.hpp"
#include "studiograph/v1/control.pb.h"
#include "studiograph/v1/descriptor.pb.h"
#include "studiograph/v1/graph.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// Human name of a parameter type ("double", "int", "bool", "string", "enum").
const char* type_name(param_type t);

/// Accepts `value` for `p`, or says why not (wrong type, out of range, unknown choice). Ints
/// are accepted for doubles; enums accept their choice names.
expected<void> check_value(const param_info& p, const v1::Value& value);

/// The engine's number for an accepted value (bool 0/1, enum choice index).
double to_number(const param_info& p, const v1::Value& value);

/// The typed value for the engine's number or string (inverse of to_number).
v1::Value to_value(const param_info& p, double number, const std::string& text = {});

/// Text form of a value for tables and logs ("440", "true", "sine").
std::string to_text(const v1::Value& value);

/// `text` parsed as a value of `p`'s type (what `sgctl set` sends), or why it does not parse.
/// The value is not judged yet: check_value does that.
expected<v1::Value> parse_value(const param_info& p, const std::string& text);

/// Full configuration of a node: the spec's values over the type's defaults. The spec must be
/// valid for `info`.
param_values to_param_values(const node_info& info, const v1::NodeSpec& spec);

/// The protobuf descriptor of a node type (for gRPC and the catalog).
v1::NodeTypeDescriptor to_descriptor(const node_info& info);

} // namespace sg
