#pragma once

/// The layer rule shared by the node authorities, the event hub's mirror and client mirrors:
/// effective = overlay ?? committed ?? base, where the overlay is the most recently written
/// source. Plain protobuf logic (no actors, no gRPC) so any mirror applies changes the same way.

#include <string_view>

#include "studiograph/v1/events.pb.h"

namespace sg {

namespace v1 = studiograph::v1;

/// The value that wins: the last overlay, else the committed value, else the base.
const v1::Value& effective_value(const v1::ParamState& p);

/// Recomputes `p.value` from its layers.
void refresh_effective(v1::ParamState& p);

/// Applies one broadcast change to a mirrored parameter: writes or clears the named layer and
/// takes the authority's effective value.
void apply_change(v1::ParamState& p, const v1::ParamChanged& change);

/// Applies a change to the mirrored node it belongs to (unknown parameters are ignored) and
/// takes the node revision. Returns false when the node has no such parameter.
bool apply_change(v1::NodeState& node, const v1::ParamChanged& change);

/// The overlay of `source`, or null.
const v1::OverlayValue* find_overlay(const v1::ParamState& p, std::string_view source);

} // namespace sg
