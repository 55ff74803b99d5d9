#pragma once

/// How sgctl prints: replies as JSON (--json), tables for people, the one-line text of every
/// event kind (`watch`), and the small texts the commands share (values, states, ranges,
/// applied changes).

#include <iostream>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include "studiograph/v1/service.grpc.pb.h"

namespace sg::sgctl {

namespace v1 = studiograph::v1;

/// "INVALID_ARGUMENT" for INVALID_ARGUMENT, and so on.
const char* code_name(grpc::StatusCode c);

/// One JSON object per line; snake_case field names as in the .proto files.
void print_json(const google::protobuf::Message& m);

/// Rows of cells; the first row is the header.
using table = std::vector<std::vector<std::string>>;

/// Left-aligned columns separated by two spaces; the first row is the header.
void print_table(const table& rows, std::ostream& os = std::cout);

/// "STATE_RUNNING" -> "running".
std::string lower_state(std::string name);

/// `x` as an ostream prints it by default ("440", "0.5").
std::string number(double x);

/// `x` with `decimals` digits after the point.
std::string fixed(double x, int decimals);

/// `s`, or "-" when it is empty.
std::string or_dash(const std::string& s);

/// An audio device's channels, "2/2" (inputs/outputs); "-" for video devices.
std::string channels_text(const v1::DeviceStatus& d);

/// An audio device's input and output latency, "5.3/2.7 ms (256/128)"; "-" when unknown.
std::string latency_text(const v1::DeviceStatus& d);

/// The items separated by `sep`.
std::string join(const google::protobuf::RepeatedPtrField<std::string>& items,
                 const char* sep = ",");

/// "double", "int", "bool", "string", "enum".
std::string type_text(v1::ParamType t);

/// The values a parameter takes: "1..20000", "true|false", "sine|square", or "-".
std::string range_text(const v1::ParamDescriptor& p);

/// The value of an applied change, or "(cleared)".
std::string value_text(const v1::ParamChanged& c);

/// What one applied change says beyond "NODE.PARAM = VALUE": nothing for a plain commit, else
/// e.g. " layer=overlay:lfo effective=300 reason=settle".
std::string change_details(const v1::ParamChanged& c);

/// The line `set` prints per applied change: "NODE.PARAM = VALUE node_rev=N" and its details.
std::string change_line(const v1::ParamChanged& c);

/// Meter levels in dB with one decimal, comma-separated.
std::string levels(const google::protobuf::RepeatedField<float>& db);

/// "pad", "knob" or "-".
const char* panel_type_text(v1::PanelType t);

/// One line per event, e.g. "#12 param_changed osc.frequency = 220 rev=3 origin=sgctl-x-1:1".
std::string event_line(const v1::Event& ev);

} // namespace sg::sgctl
