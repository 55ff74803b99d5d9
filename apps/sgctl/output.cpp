#include "apps/sgctl/output.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string_view>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "graph/params.hpp"

namespace sg::sgctl {

const char* code_name(grpc::StatusCode c) {
  switch (c) {
  case grpc::StatusCode::OK:
    return "OK";
  case grpc::StatusCode::CANCELLED:
    return "CANCELLED";
  case grpc::StatusCode::UNKNOWN:
    return "UNKNOWN";
  case grpc::StatusCode::INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case grpc::StatusCode::DEADLINE_EXCEEDED:
    return "DEADLINE_EXCEEDED";
  case grpc::StatusCode::NOT_FOUND:
    return "NOT_FOUND";
  case grpc::StatusCode::ALREADY_EXISTS:
    return "ALREADY_EXISTS";
  case grpc::StatusCode::PERMISSION_DENIED:
    return "PERMISSION_DENIED";
  case grpc::StatusCode::RESOURCE_EXHAUSTED:
    return "RESOURCE_EXHAUSTED";
  case grpc::StatusCode::FAILED_PRECONDITION:
    return "FAILED_PRECONDITION";
  case grpc::StatusCode::ABORTED:
    return "ABORTED";
  case grpc::StatusCode::OUT_OF_RANGE:
    return "OUT_OF_RANGE";
  case grpc::StatusCode::UNIMPLEMENTED:
    return "UNIMPLEMENTED";
  case grpc::StatusCode::INTERNAL:
    return "INTERNAL";
  case grpc::StatusCode::UNAVAILABLE:
    return "UNAVAILABLE";
  case grpc::StatusCode::DATA_LOSS:
    return "DATA_LOSS";
  case grpc::StatusCode::UNAUTHENTICATED:
    return "UNAUTHENTICATED";
  default:
    return "UNKNOWN";
  }
}

void print_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  std::cout << out << std::endl;
}

void print_table(const table& rows, std::ostream& os) {
  std::vector<size_t> width;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      width.resize(std::max(width.size(), r.size()));
      width[i] = std::max(width[i], r[i].size());
    }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i)
      line += i + 1 < r.size() ? r[i] + std::string(width[i] - r[i].size() + 2, ' ') : r[i];
    os << line << '\n';
  }
}

std::string lower_state(std::string name) {
  if (name.rfind("STATE_", 0) == 0)
    name.erase(0, 6);
  std::transform(name.begin(), name.end(), name.begin(), ::tolower);
  return name;
}

std::string number(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

std::string fixed(double x, int decimals) {
  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(decimals);
  os << x;
  return os.str();
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

std::string channels_text(const v1::DeviceStatus& d) {
  if (d.backend() == "gstreamer")
    return "-";
  return std::to_string(d.inputs()) + "/" + std::to_string(d.channels());
}

std::string latency_text(const v1::DeviceStatus& d) {
  const uint32_t in = d.input_latency_frames(), out = d.output_latency_frames();
  if (d.backend() == "gstreamer" || d.sample_rate() == 0 || (in == 0 && out == 0))
    return "-";
  const double ms = 1000.0 / d.sample_rate();
  return fixed(in * ms, 1) + "/" + fixed(out * ms, 1) + " ms (" + std::to_string(in) + "/" +
         std::to_string(out) + ")";
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& items, const char* sep) {
  std::string s;
  for (const auto& item : items)
    s += (s.empty() ? "" : sep) + item;
  return s;
}

std::string type_text(v1::ParamType t) {
  switch (t) {
  case v1::PARAM_TYPE_DOUBLE:
    return "double";
  case v1::PARAM_TYPE_INT:
    return "int";
  case v1::PARAM_TYPE_BOOL:
    return "bool";
  case v1::PARAM_TYPE_STRING:
    return "string";
  case v1::PARAM_TYPE_ENUM:
    return "enum";
  default:
    return "?";
  }
}

std::string range_text(const v1::ParamDescriptor& p) {
  switch (p.type()) {
  case v1::PARAM_TYPE_DOUBLE:
  case v1::PARAM_TYPE_INT:
    return number(p.min()) + ".." + number(p.max());
  case v1::PARAM_TYPE_BOOL:
    return "true|false";
  case v1::PARAM_TYPE_ENUM: {
    std::string s;
    for (const auto& c : p.choices())
      s += (s.empty() ? "" : "|") + c;
    return s;
  }
  default:
    return "-";
  }
}

namespace {

std::string layer_text(v1::Layer layer) {
  switch (layer) {
  case v1::LAYER_BASE:
    return "base";
  case v1::LAYER_COMMITTED:
    return "committed";
  case v1::LAYER_OVERLAY:
    return "overlay";
  default:
    return "?";
  }
}

/// " reason=settle" and the like; nothing for an intent.
std::string reason_text(const v1::ParamChanged& c) {
  if (c.reason() == v1::CHANGE_REASON_UNSPECIFIED || c.reason() == v1::CHANGE_REASON_INTENT)
    return "";
  auto reason = v1::ChangeReason_Name(c.reason());
  reason.erase(0, std::string_view("CHANGE_REASON_").size());
  std::transform(reason.begin(), reason.end(), reason.begin(), ::tolower);
  std::string s = " reason=" + reason;
  if (c.reason() == v1::CHANGE_REASON_SETTLE && c.layer() == v1::LAYER_COMMITTED)
    s += ":" + c.source();
  return s;
}

} // namespace

std::string value_text(const v1::ParamChanged& c) {
  return c.cleared() ? "(cleared)" : sg::to_text(c.value());
}

std::string change_details(const v1::ParamChanged& c) {
  std::string s;
  if (c.layer() == v1::LAYER_OVERLAY)
    s += " layer=overlay:" + c.source();
  else if (c.layer() == v1::LAYER_BASE || c.cleared())
    s += " layer=" + layer_text(c.layer());
  if (c.persist())
    s += " persist";
  using google::protobuf::util::MessageDifferencer;
  if (c.has_effective() && (c.cleared() || !MessageDifferencer::Equals(c.effective(), c.value())))
    s += " effective=" + sg::to_text(c.effective());
  return s + reason_text(c);
}

std::string change_line(const v1::ParamChanged& c) {
  return c.node() + '.' + c.param() + " = " + value_text(c) +
         " node_rev=" + std::to_string(c.node_rev()) + change_details(c);
}

std::string levels(const google::protobuf::RepeatedField<float>& db) {
  std::string s;
  for (float x : db) {
    if (!s.empty())
      s += ',';
    s += fixed(x, 1);
  }
  return s;
}

const char* panel_type_text(v1::PanelType t) {
  return t == v1::PANEL_TYPE_PAD ? "pad" : t == v1::PANEL_TYPE_KNOB ? "knob" : "-";
}

// --- event lines ----------------------------------------------------------------------------

namespace {

std::string origin_text(const v1::Origin& o) {
  return or_dash(o.client_id()) + ':' + std::to_string(o.client_rev());
}

/// The node lists of a graph apply, e.g. " added=a,b retyped=c"; empty lists are left out.
std::string diff_text(const v1::GraphApplied& a) {
  std::string s;
  auto list = [&](const char* name, const auto& items) {
    if (!items.empty())
      s += std::string(" ") + name + "=" + join(items);
  };
  list("added", a.added());
  list("removed", a.removed());
  list("retyped", a.retyped());
  list("changed", a.changed());
  if (a.restored() > 0)
    s += " restored=" + std::to_string(a.restored());
  return s;
}

void put_snapshot(std::ostream& os, const v1::Snapshot& s) {
  os << "snapshot graph=" << or_dash(s.graph_name()) << " rev=" << s.graph_rev()
     << " nodes=" << s.nodes_size() << " devices=" << s.devices_size();
}

void put_param_changed(std::ostream& os, const v1::ParamChanged& p) {
  os << "param_changed " << p.node() << '.' << p.param() << " = " << value_text(p)
     << " rev=" << p.node_rev() << " origin=" << origin_text(p.origin()) << change_details(p);
}

void put_meter(std::ostream& os, const v1::MeterLevels& m) {
  os << "meter " << m.node() << " peak=" << levels(m.peak_db()) << " rms=" << levels(m.rms_db());
}

void put_node_status(std::ostream& os, const v1::NodeStatus& n) {
  os << "node_status " << n.node() << ' ' << lower_state(v1::NodeStatus_State_Name(n.state()))
     << (n.message().empty() ? "" : " " + n.message());
}

void put_device_status(std::ostream& os, const v1::DeviceStatus& d) {
  os << "device_status " << d.device() << ' ' << lower_state(v1::DeviceStatus_State_Name(d.state()))
     << " backend=" << or_dash(d.backend()) << " blocks=" << d.blocks() << " xruns=" << d.xruns()
     << " load=" << fixed(d.load() * 100, 1) << '%'
     << (d.message().empty() ? "" : " " + d.message());
}

void put_graph_applied(std::ostream& os, const v1::GraphApplied& a) {
  os << "graph_applied " << a.name() << " rev=" << a.graph_rev() << " nodes=" << a.nodes()
     << " edges=" << a.edges() << " devices=" << a.devices() << diff_text(a);
}

void put_preset_loaded(std::ostream& os, const v1::PresetLoaded& p) {
  os << "preset_loaded " << p.name() << " params=" << p.params()
     << " nodes=" << or_dash(join(p.nodes())) << " origin=" << origin_text(p.origin());
  if (!p.skipped().empty())
    os << " skipped=" << join(p.skipped());
}

void put_durable(std::ostream& os, const v1::StateDurable& d) {
  std::string entries;
  for (const auto& e : d.entries())
    entries += (entries.empty() ? "" : ",") + e.node() + '.' + e.param() + '@' +
               std::to_string(e.node_rev());
  os << "durable batch=" << d.batch() << ' ' << or_dash(entries) << " coalesced=" << d.coalesced();
}

void put_bypassed(std::ostream& os, const v1::NodeBypassed& b) {
  os << "bypass " << b.node() << (b.bypassed() ? " on" : " off") << " rev=" << b.node_rev()
     << " origin=" << origin_text(b.origin());
}

void put_panel(std::ostream& os, const v1::PanelChanged& pc) {
  const auto& p = pc.panel();
  os << "panel " << p.id() << ' ' << pc.reason() << ' ' << panel_type_text(p.type())
     << " bank=" << p.bank() << (p.active() ? " active" : " inactive")
     << " mappings=" << p.mappings_size() << " rev=" << p.rev()
     << " origin=" << origin_text(p.origin()) << (pc.persisted() ? " saved" : "");
}

void put_midi(std::ostream& os, const v1::MidiInput& m) {
  char bytes[16];
  std::snprintf(bytes, sizeof bytes, "%02x %02x %02x", m.status(), m.data1(), m.data2());
  os << "midi " << m.device() << ' ' << bytes;
}

} // namespace

std::string event_line(const v1::Event& ev) {
  std::ostringstream os;
  os << '#' << ev.seq() << ' ';
  switch (ev.body_case()) {
  case v1::Event::kSnapshot:
    put_snapshot(os, ev.snapshot());
    break;
  case v1::Event::kParamChanged:
    put_param_changed(os, ev.param_changed());
    break;
  case v1::Event::kMeter:
    put_meter(os, ev.meter());
    break;
  case v1::Event::kNodeStatus:
    put_node_status(os, ev.node_status());
    break;
  case v1::Event::kDeviceStatus:
    put_device_status(os, ev.device_status());
    break;
  case v1::Event::kGraphApplied:
    put_graph_applied(os, ev.graph_applied());
    break;
  case v1::Event::kPresetLoaded:
    put_preset_loaded(os, ev.preset_loaded());
    break;
  case v1::Event::kDurable:
    put_durable(os, ev.durable());
    break;
  case v1::Event::kBypassed:
    put_bypassed(os, ev.bypassed());
    break;
  case v1::Event::kPanel:
    put_panel(os, ev.panel());
    break;
  case v1::Event::kMidi:
    put_midi(os, ev.midi());
    break;
  default:
    os << "unknown";
    break;
  }
  return os.str();
}

} // namespace sg::sgctl
