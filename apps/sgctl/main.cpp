/// sgctl — the command-line client of a studiograph gateway (docs/API.md).
///
/// Every command is one or two unary RPCs, except `watch`, which follows the event stream
/// through sg::state_client (reconnects with exponential backoff, 100 ms .. 5 s, reseeding from
/// the new Snapshot), and `top`, which redraws a view fed by the same stream. Intents (set,
/// settle, bypass, trigger, preset load) carry this process's origin.
/// Exit codes: 0 ok, 1 usage, 2 rejected (INVALID_ARGUMENT / FAILED_PRECONDITION, or a graph
/// with errors), 3 not found, 4 cannot reach the server (UNAVAILABLE / deadline), 5 other,
/// 6 not allowed (UNAUTHENTICATED / PERMISSION_DENIED), 7 a limit (RESOURCE_EXHAUSTED).

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>

#include "apps/client/state_client.hpp"
#include "apps/logging.hpp"
#include "graph/loader.hpp"
#include "graph/params.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "studiograph/v1/service.grpc.pb.h"

namespace {

namespace v1 = studiograph::v1;
using namespace std::chrono_literals;

enum exit_code : int {
  exit_ok = 0,
  exit_usage = 1,
  exit_rejected = 2,
  exit_not_found = 3,
  exit_unreachable = 4,
  exit_other = 5,
  exit_denied = 6,
  exit_limited = 7,
};

constexpr const char* exit_codes_help =
  "Exit codes:\n"
  "  0  ok\n"
  "  1  usage error\n"
  "  2  the server rejected the request (INVALID_ARGUMENT, FAILED_PRECONDITION);\n"
  "     validate, apply: the graph has errors\n"
  "  3  not found (NOT_FOUND)\n"
  "  4  cannot reach the server (UNAVAILABLE, DEADLINE_EXCEEDED)\n"
  "  5  any other error\n"
  "  6  not allowed (UNAUTHENTICATED, PERMISSION_DENIED)\n"
  "  7  a server limit (RESOURCE_EXHAUSTED: rate, size, subscribers)\n";

struct global_options {
  std::string addr = "127.0.0.1:50051";
  bool json = false;
  double timeout_s = 5;
  std::string token_file;
  sg::client_security security;  // the token is read from token_file after parsing
};

// --- output helpers ---------------------------------------------------------------------------

const char* code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

int exit_for(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return exit_ok;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION: return exit_rejected;
    case grpc::StatusCode::NOT_FOUND: return exit_not_found;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED: return exit_unreachable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED: return exit_denied;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return exit_limited;
    default: return exit_other;
  }
}

/// Prints "sgctl: CODE: message" and returns the matching exit code.
int fail(const grpc::Status& s) {
  std::cerr << "sgctl: " << code_name(s.error_code()) << ": " << s.error_message() << '\n';
  return exit_for(s.error_code());
}

/// One JSON object per line; snake_case field names as in the .proto files.
void print_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  std::cout << out << std::endl;
}

using table = std::vector<std::vector<std::string>>;

/// Left-aligned columns separated by two spaces; the first row is the header.
void print_table(const table& rows, std::ostream& os = std::cout) {
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

/// "STATE_RUNNING" -> "running".
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

std::string type_text(v1::ParamType t) {
  switch (t) {
    case v1::PARAM_TYPE_DOUBLE: return "double";
    case v1::PARAM_TYPE_INT: return "int";
    case v1::PARAM_TYPE_BOOL: return "bool";
    case v1::PARAM_TYPE_STRING: return "string";
    case v1::PARAM_TYPE_ENUM: return "enum";
    default: return "?";
  }
}

std::string range_text(const v1::ParamDescriptor& p) {
  switch (p.type()) {
    case v1::PARAM_TYPE_DOUBLE:
    case v1::PARAM_TYPE_INT: return number(p.min()) + ".." + number(p.max());
    case v1::PARAM_TYPE_BOOL: return "true|false";
    case v1::PARAM_TYPE_ENUM: {
      std::string s;
      for (const auto& c : p.choices())
        s += (s.empty() ? "" : "|") + c;
      return s;
    }
    default: return "-";
  }
}

std::string or_dash(const std::string& s) {
  return s.empty() ? "-" : s;
}

/// The engine's view of a parameter descriptor, so values parse exactly as the server judges
/// them (sg::parse_value).
std::optional<sg::param_info> to_param_info(const v1::ParamDescriptor& d) {
  if (d.type() == v1::PARAM_TYPE_UNSPECIFIED || !v1::ParamType_IsValid(d.type()))
    return std::nullopt;
  sg::param_info p;
  p.name = d.name();
  p.type = static_cast<sg::param_type>(static_cast<int>(d.type()) - 1);
  p.min = d.min();
  p.max = d.max();
  p.unit = d.unit();
  p.choices.assign(d.choices().begin(), d.choices().end());
  return p;
}

// --- connection -------------------------------------------------------------------------------

sg::client_options client_options_of(const global_options& g) {
  sg::client_options opts;
  opts.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(g.timeout_s));
  opts.security = g.security;
  return opts;
}

/// A channel whose reconnect backoff is the watch's (100 ms .. 5 s), not gRPC's (up to 120 s).
std::shared_ptr<grpc::Channel> make_channel(const global_options& g) {
  return sg::make_channel(g.addr, client_options_of(g));
}

/// A client context bounded by --timeout.
std::unique_ptr<grpc::ClientContext> make_context(const global_options& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  const auto opts = client_options_of(g);
  ctx->set_deadline(std::chrono::system_clock::now() + opts.timeout);
  sg::authorize(*ctx, opts);
  return ctx;
}

/// The origin id of every intent this process sends.
const std::string& client_id() {
  static const std::string id = [] {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0)
      std::snprintf(host, sizeof host, "unknown");
    return "sgctl-" + std::string(host) + "-" + std::to_string(getpid());
  }();
  return id;
}

/// The state client: intents carry this process's origin; `watch` follows the event stream,
/// on a new connection after each loss.
std::unique_ptr<sg::state_client> make_client(const global_options& g) {
  return std::make_unique<sg::state_client>([g] { return make_channel(g); }, client_id(),
                                            client_options_of(g));
}

/// "NODE.PARAM" split at the last dot; nullopt (after a usage message) when it is not that.
std::optional<std::pair<std::string, std::string>> split_target(const std::string& command,
                                                                const std::string& target) {
  auto dot = target.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == target.size()) {
    std::cerr << "sgctl: " << command << ": expected NODE.PARAM, got '" << target << "'\n";
    return std::nullopt;
  }
  return std::pair{target.substr(0, dot), target.substr(dot + 1)};
}

std::string join(const google::protobuf::RepeatedPtrField<std::string>& items,
                 const char* sep = ",") {
  std::string s;
  for (const auto& item : items)
    s += (s.empty() ? "" : sep) + item;
  return s;
}

std::string layer_text(v1::Layer layer) {
  switch (layer) {
    case v1::LAYER_BASE: return "base";
    case v1::LAYER_COMMITTED: return "committed";
    case v1::LAYER_OVERLAY: return "overlay";
    default: return "?";
  }
}

/// What one applied change says beyond "NODE.PARAM = VALUE": nothing for a plain commit, else
/// e.g. " layer=overlay:lfo effective=300 reason=settle".
std::string change_details(const v1::ParamChanged& c) {
  std::string s;
  if (c.layer() == v1::LAYER_OVERLAY)
    s += " layer=overlay:" + c.source();
  else if (c.layer() == v1::LAYER_BASE || c.cleared())
    s += " layer=" + layer_text(c.layer());
  if (c.persist())
    s += " persist";
  using google::protobuf::util::MessageDifferencer;
  if (c.has_effective() &&
      (c.cleared() || !MessageDifferencer::Equals(c.effective(), c.value())))
    s += " effective=" + sg::to_text(c.effective());
  if (c.reason() != v1::CHANGE_REASON_UNSPECIFIED && c.reason() != v1::CHANGE_REASON_INTENT) {
    auto reason = v1::ChangeReason_Name(c.reason());
    reason.erase(0, std::string_view("CHANGE_REASON_").size());
    std::transform(reason.begin(), reason.end(), reason.begin(), ::tolower);
    s += " reason=" + reason;
    if (c.reason() == v1::CHANGE_REASON_SETTLE && c.layer() == v1::LAYER_COMMITTED)
      s += ":" + c.source();
  }
  return s;
}

std::string value_text(const v1::ParamChanged& c) {
  return c.cleared() ? "(cleared)" : sg::to_text(c.value());
}

// --- commands -------------------------------------------------------------------------------

int cmd_nodes(const global_options& g) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::ListNodesReply reply;
  if (auto s = stub->ListNodes(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  table rows{{"ID", "TYPE", "DEVICE", "REV", "STATE"}};
  for (const auto& n : reply.nodes())
    rows.push_back({n.id(), n.type(), or_dash(n.device()), std::to_string(n.node_rev()),
                    lower_state(v1::NodeStatus_State_Name(n.state()))});
  print_table(rows);
  return exit_ok;
}

int cmd_types(const global_options& g) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::ListNodeTypesReply reply;
  if (auto s = stub->ListNodeTypes(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  bool first = true;
  for (const auto& t : reply.types()) {
    std::cout << (first ? "" : "\n") << t.type() << " — " << t.summary() << '\n';
    first = false;
    if (t.params().empty())
      continue;
    table rows{{"  PARAM", "TYPE", "RANGE", "DEFAULT", "UNIT"}};
    for (const auto& p : t.params())
      rows.push_back({"  " + p.name(), type_text(p.type()), range_text(p),
                      or_dash(sg::to_text(p.default_value())), or_dash(p.unit())});
    print_table(rows);
  }
  return exit_ok;
}

grpc::Status get_node(const global_options& g, const std::string& node, v1::GetNodeReply& reply) {
  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::GetNodeRequest req;
  req.set_node(node);
  return stub->GetNode(make_context(g).get(), req, &reply);
}

/// One row of `get`: the parameter's layers, then its unit and range.
std::vector<std::string> layer_row(const v1::ParamState& p, const v1::ParamDescriptor* desc) {
  auto text = [](const v1::Value& v) { return or_dash(sg::to_text(v)); };
  std::string overlays;
  for (const auto& o : p.overlays())
    overlays += (overlays.empty() ? "" : ", ") + o.source() + "=" + sg::to_text(o.value());
  std::string committed = p.has_committed() ? text(p.committed()) + (p.persisted() ? "*" : "")
                                            : "-";
  return {p.name(),
          text(p.value()),
          text(p.base()),
          committed,
          or_dash(overlays),
          desc ? or_dash(desc->unit()) : "-",
          desc ? range_text(*desc) : "-"};
}

int cmd_get(const global_options& g, const std::string& node) {
  v1::GetNodeReply reply;
  if (auto s = get_node(g, node, reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& n = reply.node();
  std::cout << n.id() << " (" << n.type() << ") node_rev=" << n.node_rev()
            << " state=" << lower_state(v1::NodeStatus_State_Name(n.state()))
            << (n.device().empty() ? "" : " device=" + n.device()) << '\n';
  table rows{{"PARAM", "EFFECTIVE", "BASE", "COMMITTED", "OVERLAY", "UNIT", "RANGE"}};
  bool persisted = false;
  for (const auto& p : n.params()) {
    const v1::ParamDescriptor* desc = nullptr;
    for (const auto& d : reply.type_info().params())
      if (d.name() == p.name())
        desc = &d;
    rows.push_back(layer_row(p, desc));
    persisted |= p.has_committed() && p.persisted();
  }
  print_table(rows);
  if (persisted)
    std::cout << "* persisted\n";
  return exit_ok;
}

struct set_flags {
  bool persist = false;
  std::string overlay;
  uint32_t settle_ms = 0;
};

/// VALUE parsed with the type of `param` of the node in `node` (as the server will judge it),
/// or the INVALID_ARGUMENT status saying why not; `field` prefixes the field names.
grpc::Status parse_param(const v1::GetNodeReply& node, const std::string& param,
                         const std::string& text, const std::string& field, v1::Value& out) {
  const v1::ParamDescriptor* desc = nullptr;
  for (const auto& p : node.type_info().params())
    if (p.name() == param)
      desc = &p;
  if (!desc)
    return {grpc::StatusCode::INVALID_ARGUMENT,
            field + "param: node '" + node.node().id() + "' (" + node.node().type() +
              ") has no parameter '" + param + "'"};
  auto info = to_param_info(*desc);
  auto value =
    info ? sg::parse_value(*info, text) : sg::unexpected("parameter type unknown to this sgctl");
  if (!value)
    return {grpc::StatusCode::INVALID_ARGUMENT, field + "value: " + value.error()};
  out = *value;
  return grpc::Status::OK;
}

/// `set NODE P=V [P=V...]`: every value parsed first, then one SetParams (all or none).
int cmd_set_many(const global_options& g, const std::string& node_id,
                 const std::vector<std::string>& assignments, const set_flags& f) {
  for (const auto& a : assignments)
    if (a.find('=') == std::string::npos || a.front() == '=') {
      std::cerr << "sgctl: set: expected NODE.PARAM VALUE or NODE PARAM=VALUE..., got '" << a
                << "'\n";
      return exit_usage;
    }
  v1::GetNodeReply node;
  if (auto s = get_node(g, node_id, node); !s.ok())
    return fail(s);
  v1::SetParamsRequest req;
  req.set_node(node_id);
  req.set_persist(f.persist);
  req.set_overlay_source(f.overlay);
  req.set_settle_ms(f.settle_ms);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  for (size_t i = 0; i < assignments.size(); ++i) {
    const auto& a = assignments[i];
    const auto eq = a.find('=');
    auto* entry = req.add_params();
    entry->set_param(a.substr(0, eq));
    const std::string field = "params[" + std::to_string(i) + "].";
    if (auto s = parse_param(node, entry->param(), a.substr(eq + 1), field,
                             *entry->mutable_value());
        !s.ok())
      return fail(s);
  }
  v1::SetParamsReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->SetParams(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  for (const auto& a : reply.applied())
    std::cout << a.node() << '.' << a.param() << " = " << value_text(a)
              << " node_rev=" << a.node_rev() << change_details(a) << '\n';
  return exit_ok;
}

int cmd_set(const global_options& g, const std::string& target,
            const std::vector<std::string>& values, const set_flags& f) {
  if (target.find('.') == std::string::npos)
    return cmd_set_many(g, target, values, f);
  if (values.size() != 1) {
    std::cerr << "sgctl: set: NODE.PARAM takes one VALUE; for several use "
                 "'set NODE PARAM=VALUE PARAM=VALUE...'\n";
    return exit_usage;
  }
  const std::string& text = values.front();
  auto np = split_target("set", target);
  if (!np)
    return exit_usage;
  const auto& [node_id, param] = *np;
  v1::GetNodeReply node;
  if (auto s = get_node(g, node_id, node); !s.ok())
    return fail(s);
  v1::Value parsed;
  if (auto s = parse_param(node, param, text, "", parsed); !s.ok())
    return fail(s);
  const std::optional<v1::Value> value = parsed;

  v1::SetParamReply reply;
  const sg::set_options opts{
    .persist = f.persist, .overlay_source = f.overlay, .settle_ms = f.settle_ms};
  auto s = make_client(g)->set(node_id, param, *value, opts, &reply);
  if (!s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& a = reply.applied();
  std::cout << a.node() << '.' << a.param() << " = " << value_text(a)
            << " node_rev=" << a.node_rev() << change_details(a) << '\n';
  return exit_ok;
}

/// `settle NODE.PARAM SOURCE`, or `settle NODE SOURCE` for every parameter of that source.
int cmd_settle(const global_options& g, const std::string& target, const std::string& source) {
  std::string node = target, param;
  if (target.find('.') != std::string::npos) {
    auto np = split_target("settle", target);
    if (!np)
      return exit_usage;
    std::tie(node, param) = *np;
  }
  v1::SetParamReply reply;
  if (auto s = make_client(g)->settle(node, param, source, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& a = reply.applied();
  if (param.empty())
    std::cout << node << ": settled " << source << " node_rev=" << a.node_rev() << '\n';
  else
    std::cout << a.node() << '.' << a.param() << " = " << value_text(a)
              << " node_rev=" << a.node_rev() << " settled=" << source << '\n';
  return exit_ok;
}

// --- presets ------------------------------------------------------------------------------

std::string local_time(int64_t unix_ns) {
  if (unix_ns <= 0)
    return "-";
  const std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

struct preset_args {
  std::string name;
  std::vector<std::string> nodes;
  bool persist = false;
};

int cmd_preset(const global_options& g, const std::string& action, const preset_args& a) {
  auto stub = v1::PresetService::NewStub(make_channel(g));
  if (action == "save") {
    v1::SavePresetRequest req;
    req.set_name(a.name);
    for (const auto& n : a.nodes)
      req.add_nodes(n);
    v1::SavePresetReply reply;
    if (auto s = stub->SavePreset(make_context(g).get(), req, &reply); !s.ok())
      return fail(s);
    if (g.json)
      print_json(reply);
    else
      std::cout << "saved preset " << reply.preset().name() << ": " << reply.preset().params()
                << " params of " << reply.preset().nodes_size() << " nodes ("
                << join(reply.preset().nodes(), ", ") << ")\n";
    return exit_ok;
  }
  if (action == "load") {
    v1::LoadPresetReply reply;
    if (auto s = make_client(g)->load_preset(a.name, a.persist, &reply); !s.ok())
      return fail(s);
    if (g.json) {
      print_json(reply);
      return exit_ok;
    }
    const auto& l = reply.loaded();
    std::cout << "loaded preset " << l.name() << ": " << l.params() << " params on "
              << l.nodes_size() << " nodes (" << join(l.nodes(), ", ") << ")"
              << (a.persist ? ", persisted" : "") << '\n';
    if (!l.skipped().empty())
      std::cout << "skipped (not in the running graph): " << join(l.skipped(), ", ") << '\n';
    return exit_ok;
  }
  if (action == "list") {
    v1::ListPresetsReply reply;
    if (auto s = stub->ListPresets(make_context(g).get(), {}, &reply); !s.ok())
      return fail(s);
    if (g.json) {
      print_json(reply);
      return exit_ok;
    }
    table rows{{"NAME", "PARAMS", "NODES", "SAVED"}};
    for (const auto& p : reply.presets())
      rows.push_back({p.name(), std::to_string(p.params()), or_dash(join(p.nodes())),
                      local_time(p.saved_unix_ns())});
    print_table(rows);
    return exit_ok;
  }
  v1::DeletePresetRequest req;
  req.set_name(a.name);
  v1::DeletePresetReply reply;
  if (auto s = stub->DeletePreset(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << "deleted preset " << a.name << '\n';
  return exit_ok;
}

// --- panels and MIDI learn ------------------------------------------------------------------

struct panel_args {
  std::string id, type, bank, device;
  bool active = false, inactive = false;
  std::vector<std::string> maps, add_maps;
  std::vector<unsigned> remove;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

const char* action_text(v1::MappingAction a) {
  switch (a) {
    case v1::MAPPING_ACTION_SET: return "set";
    case v1::MAPPING_ACTION_TRIGGER: return "trigger";
    case v1::MAPPING_ACTION_TOGGLE: return "toggle";
    case v1::MAPPING_ACTION_MOMENTARY: return "momentary";
    case v1::MAPPING_ACTION_PLAY: return "play";
    default: return "default";
  }
}

/// "NUMBER[/CHANNEL]=[ACTION:]TARGET[,low=X][,high=X][,curve=linear|log|exp][,nopickup]",
/// e.g. "21=set:amp.level,curve=log", "36=trigger:kick", "37/10=toggle:fx.running".
std::optional<v1::PanelMapping> parse_mapping(const std::string& text, std::string& error) {
  v1::PanelMapping m;
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = "mapping \"" + text + "\": expected NUMBER[/CHANNEL]=[ACTION:]TARGET[,options]";
    return std::nullopt;
  }
  const std::string control = text.substr(0, eq);
  const auto slash = control.find('/');
  try {
    size_t used = 0;
    const std::string number = control.substr(0, slash);
    const unsigned long n = std::stoul(number, &used);
    if (used != number.size() || n > 127)
      throw std::invalid_argument("number");
    m.set_number(static_cast<uint32_t>(n));
    if (slash != std::string::npos) {
      const std::string channel = control.substr(slash + 1);
      const unsigned long c = std::stoul(channel, &used);
      if (used != channel.size() || c < 1 || c > 16)
        throw std::invalid_argument("channel");
      m.set_channel(static_cast<uint32_t>(c));
    }
  } catch (const std::exception&) {
    error = "mapping \"" + text + "\": expected a control number 0..127 and an optional /CHANNEL "
            "1..16 before '='";
    return std::nullopt;
  }
  std::vector<std::string> parts;
  std::stringstream rest(text.substr(eq + 1));
  for (std::string part; std::getline(rest, part, ',');)
    parts.push_back(part);
  if (parts.empty() || parts[0].empty()) {
    error = "mapping \"" + text + "\": expected a target after '='";
    return std::nullopt;
  }
  std::string target = parts[0];
  if (const auto colon = target.find(':'); colon != std::string::npos) {
    const std::string action = lower(target.substr(0, colon));
    std::string upper = action;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    v1::MappingAction a{};
    if (!v1::MappingAction_Parse("MAPPING_ACTION_" + upper, &a) ||
        a == v1::MAPPING_ACTION_UNSPECIFIED) {
      error = "mapping \"" + text + "\": unknown action '" + action +
              "' (set, trigger, toggle, momentary, play)";
      return std::nullopt;
    }
    m.set_action(a);
    target = target.substr(colon + 1);
  }
  m.set_target(target);
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string opt = lower(parts[i]);
    const auto oeq = opt.find('=');
    const std::string key = opt.substr(0, oeq);
    const std::string val = oeq == std::string::npos ? "" : opt.substr(oeq + 1);
    try {
      if (key == "low" || key == "high") {
        size_t used = 0;
        const double x = std::stod(val, &used);
        if (used != val.size())
          throw std::invalid_argument(key);
        key == "low" ? m.set_low(x) : m.set_high(x);
      } else if (key == "curve" && (val == "linear" || val == "log" || val == "exp")) {
        m.set_curve(val == "log"   ? v1::MAPPING_CURVE_LOG
                    : val == "exp" ? v1::MAPPING_CURVE_EXP
                                   : v1::MAPPING_CURVE_LINEAR);
      } else if (key == "nopickup" && val.empty()) {
        m.set_no_pickup(true);
      } else {
        throw std::invalid_argument(key);
      }
    } catch (const std::exception&) {
      error = "mapping \"" + text + "\": bad option '" + parts[i] +
              "' (low=F, high=F, curve=linear|log|exp, nopickup)";
      return std::nullopt;
    }
  }
  // Only low or only high given: the other end stays where the whole range has it.
  if (m.low() != 0 && m.high() == 0 && text.find("high=") == std::string::npos)
    m.set_high(1);
  return m;
}

std::string mapping_text(const v1::PanelMapping& m) {
  std::ostringstream os;
  os << m.number();
  if (m.channel())
    os << '/' << m.channel();
  os << '=' << action_text(m.action()) << ':' << m.target();
  if (m.low() != 0 || m.high() != 0)
    os << ",low=" << m.low() << ",high=" << m.high();
  if (m.curve() == v1::MAPPING_CURVE_LOG)
    os << ",curve=log";
  if (m.curve() == v1::MAPPING_CURVE_EXP)
    os << ",curve=exp";
  if (m.no_pickup())
    os << ",nopickup";
  return os.str();
}

const char* panel_type_text(v1::PanelType t) {
  return t == v1::PANEL_TYPE_PAD ? "pad" : t == v1::PANEL_TYPE_KNOB ? "knob" : "-";
}

void print_panel(const v1::Panel& p) {
  std::cout << "panel " << p.id() << ": " << panel_type_text(p.type()) << " bank " << p.bank()
            << " device " << or_dash(p.device()) << (p.active() ? " ACTIVE" : " inactive")
            << " rev " << p.rev() << '\n';
  for (const auto& m : p.mappings())
    std::cout << "  " << mapping_text(m) << '\n';
}

int panel_reply(const global_options& g, const grpc::Status& s, const v1::PanelReply& reply,
                const std::string& what) {
  if (!s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << what << " panel " << reply.panel().id() << " (rev " << reply.panel().rev()
            << (reply.persisted() ? ", saved" : ", not persisted") << ")";
  if (!reply.deactivated().empty())
    std::cout << "; deactivated " << join(reply.deactivated(), ", ");
  std::cout << '\n';
  return exit_ok;
}

int cmd_panel(const global_options& g, const std::string& action, const panel_args& a) {
  auto stub = v1::PanelService::NewStub(make_channel(g));
  const auto origin = [] {
    v1::Origin o;
    o.set_client_id(client_id());
    return o;
  }();
  if (action == "list") {
    v1::ListPanelsReply reply;
    if (auto s = stub->ListPanels(make_context(g).get(), {}, &reply); !s.ok())
      return fail(s);
    if (g.json) {
      print_json(reply);
      return exit_ok;
    }
    table rows{{"ID", "TYPE", "BANK", "DEVICE", "ACTIVE", "MAPPINGS", "REV"}};
    for (const auto& p : reply.panels())
      rows.push_back({p.id(), panel_type_text(p.type()), p.bank(), or_dash(p.device()),
                      p.active() ? "yes" : "no", std::to_string(p.mappings_size()),
                      std::to_string(p.rev())});
    print_table(rows);
    return exit_ok;
  }
  if (action == "show") {
    v1::GetPanelRequest req;
    req.set_id(a.id);
    v1::PanelReply reply;
    if (auto s = stub->GetPanel(make_context(g).get(), req, &reply); !s.ok())
      return fail(s);
    if (g.json)
      print_json(reply);
    else
      print_panel(reply.panel());
    return exit_ok;
  }
  if (action == "activate" || action == "deactivate") {
    v1::ActivatePanelRequest req;
    req.set_id(a.id);
    req.set_active(action == "activate");
    *req.mutable_origin() = origin;
    v1::PanelReply reply;
    auto s = stub->ActivatePanel(make_context(g).get(), req, &reply);
    return panel_reply(g, s, reply, action == "activate" ? "activated" : "deactivated");
  }
  if (action == "delete") {
    v1::DeletePanelRequest req;
    req.set_id(a.id);
    *req.mutable_origin() = origin;
    v1::PanelReply reply;
    auto s = stub->DeletePanel(make_context(g).get(), req, &reply);
    return panel_reply(g, s, reply, "deleted");
  }
  // create / update: build the panel (update starts from the current one).
  v1::PutPanelRequest req;
  auto& p = *req.mutable_panel();
  if (action == "update") {
    v1::GetPanelRequest get;
    get.set_id(a.id);
    v1::PanelReply current;
    if (auto s = stub->GetPanel(make_context(g).get(), get, &current); !s.ok())
      return fail(s);
    p = current.panel();
  }
  p.set_id(a.id);
  if (!a.type.empty()) {
    const auto t = lower(a.type);
    if (t != "pad" && t != "knob") {
      std::cerr << "sgctl: --type: expected pad or knob, got '" << a.type << "'\n";
      return exit_usage;
    }
    p.set_type(t == "pad" ? v1::PANEL_TYPE_PAD : v1::PANEL_TYPE_KNOB);
  }
  if (!a.bank.empty())
    p.set_bank(a.bank);
  if (!a.device.empty())
    p.set_device(a.device == "-" ? "" : a.device);
  if (a.active)
    p.set_active(true);
  if (a.inactive)
    p.set_active(false);
  std::string error;
  if (!a.maps.empty())
    p.clear_mappings();
  for (const auto& u : a.remove) {
    auto* maps = p.mutable_mappings();
    for (int i = maps->size() - 1; i >= 0; --i)
      if (maps->Get(i).number() == u)
        maps->DeleteSubrange(i, 1);
  }
  for (const auto* list : {&a.maps, &a.add_maps})
    for (const auto& text : *list) {
      auto m = parse_mapping(text, error);
      if (!m) {
        std::cerr << "sgctl: " << error << '\n';
        return exit_usage;
      }
      // An added mapping replaces the one of the same control.
      auto* maps = p.mutable_mappings();
      for (int i = maps->size() - 1; i >= 0; --i)
        if (maps->Get(i).number() == m->number() && maps->Get(i).channel() == m->channel())
          maps->DeleteSubrange(i, 1);
      *p.add_mappings() = *m;
    }
  p.clear_rev();
  p.clear_origin();
  req.set_create(action == "create");
  *req.mutable_origin() = origin;
  v1::PanelReply reply;
  auto s = stub->PutPanel(make_context(g).get(), req, &reply);
  return panel_reply(g, s, reply, action == "create" ? "created" : "updated");
}

int cmd_learn(const global_options& g, const std::string& target, const std::string& panel,
              double wait_s) {
  auto stub = v1::PanelService::NewStub(make_channel(g));
  v1::LearnRequest req;
  req.set_target(target);
  req.set_panel(panel);
  req.set_timeout_ms(static_cast<uint32_t>(wait_s * 1000));
  req.mutable_origin()->set_client_id(client_id());
  auto ctx = make_context(g);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000) + 5000));
  if (!g.json)
    std::cerr << "move a control on a MIDI device (" << wait_s << " s)...\n";
  v1::LearnReply reply;
  if (auto s = stub->Learn(ctx.get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << "learned " << mapping_text(reply.mapping()) << " from " << reply.device()
            << " into panel " << reply.panel().id() << " (" << panel_type_text(reply.panel().type())
            << " bank " << reply.panel().bank() << (reply.panel().active() ? ", active" : "")
            << ")\n";
  return exit_ok;
}

// --- watch ----------------------------------------------------------------------------------

std::optional<v1::EventKind> parse_kind(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), ::toupper);
  v1::EventKind k{};
  if (v1::EventKind_Parse("EVENT_KIND_" + name, &k) || v1::EventKind_Parse(name, &k))
    if (k != v1::EVENT_KIND_UNSPECIFIED)
      return k;
  return std::nullopt;
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

/// One line per event, e.g. "#12 param_changed osc.frequency = 220 rev=3 origin=sgctl-x-1:1".
std::string event_line(const v1::Event& ev) {
  std::ostringstream os;
  os << '#' << ev.seq() << ' ';
  switch (ev.body_case()) {
    case v1::Event::kSnapshot: {
      const auto& s = ev.snapshot();
      os << "snapshot graph=" << or_dash(s.graph_name()) << " rev=" << s.graph_rev()
         << " nodes=" << s.nodes_size() << " devices=" << s.devices_size();
      break;
    }
    case v1::Event::kParamChanged: {
      const auto& p = ev.param_changed();
      os << "param_changed " << p.node() << '.' << p.param() << " = " << value_text(p)
         << " rev=" << p.node_rev() << " origin=" << origin_text(p.origin())
         << change_details(p);
      break;
    }
    case v1::Event::kMeter:
      os << "meter " << ev.meter().node() << " peak=" << levels(ev.meter().peak_db())
         << " rms=" << levels(ev.meter().rms_db());
      break;
    case v1::Event::kNodeStatus: {
      const auto& n = ev.node_status();
      os << "node_status " << n.node() << ' ' << lower_state(v1::NodeStatus_State_Name(n.state()))
         << (n.message().empty() ? "" : " " + n.message());
      break;
    }
    case v1::Event::kDeviceStatus: {
      const auto& d = ev.device_status();
      os << "device_status " << d.device() << ' '
         << lower_state(v1::DeviceStatus_State_Name(d.state()))
         << " backend=" << or_dash(d.backend()) << " blocks=" << d.blocks()
         << " xruns=" << d.xruns() << " load=" << fixed(d.load() * 100, 1) << '%'
         << (d.message().empty() ? "" : " " + d.message());
      break;
    }
    case v1::Event::kGraphApplied: {
      const auto& a = ev.graph_applied();
      os << "graph_applied " << a.name() << " rev=" << a.graph_rev() << " nodes=" << a.nodes()
         << " edges=" << a.edges() << " devices=" << a.devices() << diff_text(a);
      break;
    }
    case v1::Event::kPresetLoaded: {
      const auto& p = ev.preset_loaded();
      os << "preset_loaded " << p.name() << " params=" << p.params()
         << " nodes=" << or_dash(join(p.nodes())) << " origin=" << origin_text(p.origin());
      if (!p.skipped().empty())
        os << " skipped=" << join(p.skipped());
      break;
    }
    case v1::Event::kDurable: {
      const auto& d = ev.durable();
      std::string entries;
      for (const auto& e : d.entries())
        entries += (entries.empty() ? "" : ",") + e.node() + '.' + e.param() + '@' +
                   std::to_string(e.node_rev());
      os << "durable batch=" << d.batch() << ' ' << or_dash(entries)
         << " coalesced=" << d.coalesced();
      break;
    }
    case v1::Event::kBypassed: {
      const auto& b = ev.bypassed();
      os << "bypass " << b.node() << (b.bypassed() ? " on" : " off") << " rev=" << b.node_rev()
         << " origin=" << origin_text(b.origin());
      break;
    }
    case v1::Event::kPanel: {
      const auto& pc = ev.panel();
      const auto& p = pc.panel();
      os << "panel " << p.id() << ' ' << pc.reason() << ' ' << panel_type_text(p.type())
         << " bank=" << p.bank() << (p.active() ? " active" : " inactive")
         << " mappings=" << p.mappings_size() << " rev=" << p.rev()
         << " origin=" << origin_text(p.origin()) << (pc.persisted() ? " saved" : "");
      break;
    }
    case v1::Event::kMidi: {
      const auto& m = ev.midi();
      char bytes[16];
      std::snprintf(bytes, sizeof bytes, "%02x %02x %02x", m.status(), m.data1(), m.data2());
      os << "midi " << m.device() << ' ' << bytes;
      break;
    }
    default: os << "unknown"; break;
  }
  return os.str();
}

struct watch_options {
  std::vector<std::string> nodes;
  std::vector<std::string> kinds;
  uint64_t count = 0;  // 0: forever
};

/// Follows the event stream through sg::state_client, which reconnects with backoff and
/// reseeds from each new Snapshot. Exits after --count events, or when the stream fails
/// before any event came or with anything but UNAVAILABLE.
int cmd_watch(const global_options& g, const watch_options& w) {
  v1::SubscribeRequest req;
  for (const auto& n : w.nodes)
    req.add_nodes(n);
  for (const auto& k : w.kinds) {
    auto kind = parse_kind(k);
    if (!kind) {
      std::cerr << "sgctl: watch: unknown event kind '" << k
                << "' (param_changed, node_status, device_status, graph_applied, meter, "
                   "snapshot, preset_loaded, durable, bypass, midi, panel)\n";
      return exit_usage;
    }
    req.add_kinds(*kind);
  }
  std::mutex mtx;
  std::condition_variable cv;
  bool done = false;
  std::optional<grpc::Status> failure;
  auto finish = [&](std::optional<grpc::Status> why) {
    std::lock_guard lock(mtx);
    done = true;
    failure = std::move(why);
    cv.notify_all();
  };
  // Touched on the watch thread only.
  uint64_t seen = 0;
  bool connected_once = false;

  auto client = make_client(g);
  client->watch(
    [&](const v1::Event& ev, bool) {
      if (w.count && seen >= w.count)
        return;
      connected_once = true;
      if (g.json)
        print_json(ev);
      else
        std::cout << event_line(ev) << std::endl;
      if (w.count && ++seen >= w.count) {
        client->request_stop();
        finish(std::nullopt);
      }
    },
    req,
    [&](const grpc::Status& status, std::chrono::milliseconds retry_in) {
      // CANCELLED here is never ours: a stopping server cancels the calls it still holds.
      const bool gone = status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                        status.error_code() == grpc::StatusCode::CANCELLED;
      if (!gone || !connected_once) {
        finish(status);
        return false;
      }
      std::cerr << "sgctl: watch: " << code_name(status.error_code()) << ": "
                << status.error_message() << "; reconnecting in " << retry_in.count()
                << " ms\n";
      return true;
    });
  {
    std::unique_lock lock(mtx);
    cv.wait(lock, [&] { return done; });
  }
  client->stop();
  return failure ? fail(*failure) : exit_ok;
}

// --- status, validate, apply ----------------------------------------------------------------

int cmd_status(const global_options& g) {
  auto stub = v1::SystemService::NewStub(make_channel(g));
  v1::StatusReply reply;
  if (auto s = stub->GetStatus(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << "version  " << reply.version() << '\n'
            << "uptime   " << fixed(reply.uptime_s(), 1) << " s\n"
            << "graph    " << or_dash(reply.graph_name()) << '\n'
            << "gateway  " << or_dash(reply.gateway_address())
            << (reply.tls() ? " tls" : " plaintext")
            << (reply.auth() ? " tokens" : " no-auth") << '\n';
  if (reply.devices().empty())
    return exit_ok;
  table rows{
    {"DEVICE", "STATE", "BACKEND", "RATE", "BLOCK", "CH", "BLOCKS", "XRUNS", "LOAD", "RT"}};
  for (const auto& d : reply.devices())
    rows.push_back({d.device(), lower_state(v1::DeviceStatus_State_Name(d.state())),
                    or_dash(d.backend()), std::to_string(d.sample_rate()),
                    std::to_string(d.block()), std::to_string(d.channels()),
                    std::to_string(d.blocks()), std::to_string(d.xruns()),
                    fixed(d.load() * 100, 1) + "%",
                    d.realtime_priority() ? "yes" : "no"});
  std::cout << '\n';
  print_table(rows);
  table loads{{"NODE", "DEVICE", "LOAD"}};
  for (const auto& d : reply.devices())
    for (const auto& nl : d.node_loads())
      loads.push_back({nl.node(), d.device(), fixed(nl.load() * 100, 2) + "%"});
  if (loads.size() > 1) {
    std::cout << '\n';
    print_table(loads);
  }
  table clients{{"CLIENT", "ROLE", "SUBS", "CALLS", "INTENTS", "LIMITED", "IDLE"}};
  for (const auto& c : reply.clients())
    clients.push_back({c.peer(), c.role(), std::to_string(c.subscriptions()),
                       std::to_string(c.calls()), std::to_string(c.intents()),
                       std::to_string(c.limited()), fixed(c.idle_s(), 1) + " s"});
  std::cout << '\n';
  print_table(clients);
  return exit_ok;
}

/// The whole file, or nullopt after telling why not.
std::optional<std::string> read_file(const std::string& command, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "sgctl: " << command << ": cannot read '" << file << "'\n";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Validates `text` on the server: exit_ok, exit_rejected after printing the diagnostics (or
/// the reply as JSON), or the exit code of a failed call. `print_ok`: also report success.
int validate(const global_options& g, const std::string& file,
                            const std::string& text, bool print_ok) {
  v1::ValidateGraphRequest req;
  req.set_yaml(text);
  req.set_file_name(file);
  auto stub = v1::GraphService::NewStub(make_channel(g));
  v1::ValidateGraphReply reply;
  if (auto s = stub->ValidateGraph(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json && (print_ok || !reply.ok()))
    print_json(reply);
  else if (reply.ok() && print_ok)
    std::cout << file << ": ok\n";
  else if (!reply.ok())
    for (const auto& d : reply.diagnostics())
      std::cerr << sg::format_diagnostic(d) << '\n';
  return reply.ok() ? exit_ok : exit_rejected;
}

int cmd_validate(const global_options& g, const std::string& file) {
  auto text = read_file("validate", file);
  return text ? validate(g, file, *text, true) : exit_usage;
}

/// Applies a graph file to the running system and prints what the diff touched. The file is
/// validated first so that its problems print exactly as `validate` prints them.
int cmd_apply(const global_options& g, const std::string& file) {
  auto text = read_file("apply", file);
  if (!text)
    return exit_usage;
  if (int code = validate(g, file, *text, false); code != exit_ok)
    return code;
  v1::ApplyGraphRequest req;
  req.set_yaml(*text);
  req.set_file_name(file);
  auto stub = v1::GraphService::NewStub(make_channel(g));
  v1::ApplyGraphReply reply;
  // Building the new graph can take longer than a plain request: at least 30 s.
  global_options slow = g;
  slow.timeout_s = std::max(g.timeout_s, 30.0);
  if (auto s = stub->ApplyGraph(make_context(slow).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  for (const auto& d : reply.diagnostics())
    std::cerr << sg::format_diagnostic(d) << '\n';
  const auto& a = reply.applied();
  std::cout << file << ": applied graph " << a.name() << " rev=" << a.graph_rev()
            << " nodes=" << a.nodes() << " edges=" << a.edges() << " devices=" << a.devices()
            << '\n';
  for (auto [name, items] : {std::pair{"added", &a.added()}, {"removed", &a.removed()},
                             {"retyped", &a.retyped()}, {"changed", &a.changed()}})
    if (!items->empty())
      std::cout << "  " << name << ": " << join(*items, ", ") << '\n';
  if (a.restored() > 0)
    std::cout << "  restored: " << a.restored() << " stored values\n";
  return exit_ok;
}


// --- bypass, trigger, graph, export, health -------------------------------------------------

int cmd_bypass(const global_options& g, const std::string& node, const std::string& state) {
  bool on = true;
  if (state == "off" || state == "false")
    on = false;
  else if (state != "on" && state != "true") {
    std::cerr << "sgctl: bypass: expected on or off, got '" << state << "'\n";
    return exit_usage;
  }
  v1::BypassRequest req;
  req.set_node(node);
  req.set_bypass(on);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  v1::BypassReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->Bypass(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << node << ": bypass " << (reply.applied().bypassed() ? "on" : "off")
              << " node_rev=" << reply.applied().node_rev() << '\n';
  return exit_ok;
}

struct trigger_args {
  std::string kind = "trigger";
  uint32_t note = 60;
  float velocity = 1;
  uint32_t delay_ms = 0;
};

int cmd_trigger(const global_options& g, const std::string& node, const trigger_args& t) {
  v1::TriggerRequest req;
  req.set_node(node);
  std::string kind = t.kind;
  std::transform(kind.begin(), kind.end(), kind.begin(), ::toupper);
  v1::TriggerRequest::Kind k{};
  if (!v1::TriggerRequest::Kind_Parse("KIND_" + kind, &k) ||
      k == v1::TriggerRequest::KIND_UNSPECIFIED) {
    std::cerr << "sgctl: trigger: unknown kind '" << t.kind
              << "' (trigger, note_on, note_off, stop)\n";
    return exit_usage;
  }
  req.set_kind(k);
  req.set_note(t.note);
  req.set_velocity(t.velocity);
  req.set_delay_ms(t.delay_ms);
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);
  v1::TriggerReply reply;
  auto stub = v1::NodeService::NewStub(make_channel(g));
  if (auto s = stub->Trigger(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << node << ": " << t.kind
              << (k == v1::TriggerRequest::KIND_NOTE_ON || k == v1::TriggerRequest::KIND_NOTE_OFF
                    ? " note=" + std::to_string(t.note)
                    : std::string())
              << '\n';
  return exit_ok;
}

/// The running graph: devices, nodes with their placement, edges.
int cmd_graph(const global_options& g) {
  auto stub = v1::GraphService::NewStub(make_channel(g));
  v1::GetGraphReply reply;
  if (auto s = stub->GetGraph(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& gr = reply.graph();
  std::cout << "graph " << or_dash(gr.name()) << " rev=" << reply.graph_rev()
            << " nodes=" << gr.nodes_size() << " edges=" << gr.edges_size()
            << " devices=" << gr.devices_size() << '\n';
  if (!gr.devices().empty()) {
    table rows{{"DEVICE", "KIND", "BACKEND", "RATE", "BLOCK", "CH"}};
    for (const auto& d : gr.devices())
      rows.push_back({d.name(), d.kind(), or_dash(d.backend()), std::to_string(d.sample_rate()),
                      std::to_string(d.block()), std::to_string(d.channels())});
    std::cout << '\n';
    print_table(rows);
  }
  table nodes{{"NODE", "TYPE", "DEVICE", "PARAMS"}};
  for (const auto& n : gr.nodes())
    nodes.push_back({n.id(), n.type(), or_dash(n.device()), std::to_string(n.params_size())});
  std::cout << '\n';
  print_table(nodes);
  if (!gr.edges().empty()) {
    std::cout << '\n';
    for (const auto& e : gr.edges())
      std::cout << e.from_node() << '.' << e.from_port() << " -> " << e.to_node() << '.'
                << e.to_port() << '\n';
  }
  return exit_ok;
}

/// The running graph as a graph file, to stdout or `out`.
int cmd_export(const global_options& g, bool committed, const std::string& out) {
  auto stub = v1::GraphService::NewStub(make_channel(g));
  v1::ExportGraphRequest req;
  req.set_committed(committed);
  v1::ExportGraphReply reply;
  if (auto s = stub->ExportGraph(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  if (out.empty() || out == "-") {
    std::cout << reply.yaml();
    return exit_ok;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!(file << reply.yaml()) || !file.flush()) {
    std::cerr << "sgctl: export: cannot write '" << out << "'\n";
    return exit_other;
  }
  std::cout << out << ": exported graph rev=" << reply.graph_rev() << '\n';
  return exit_ok;
}

/// grpc.health.v1 Check; exit 0 only when SERVING.
int cmd_health(const global_options& g, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(make_channel(g));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse reply;
  if (auto s = stub->Check(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << (service.empty() ? "server" : service) << ": "
              << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status())
              << '\n';
  return reply.status() == grpc::health::v1::HealthCheckResponse::SERVING ? exit_ok
                                                                           : exit_unreachable;
}

// --- top ------------------------------------------------------------------------------------

/// What `top` shows, rebuilt from the event stream: the Snapshot seeds it (also after a
/// reconnect), device status and meter events keep it current.
struct top_view {
  struct node_row {
    std::string id, type, device;
    v1::NodeStatus::State state{};
    bool bypassed = false;
  };
  std::string graph;
  uint64_t graph_rev = 0;
  std::vector<node_row> nodes;
  std::map<std::string, v1::DeviceStatus> devices;
  std::map<std::string, v1::MeterLevels> meters;
  uint64_t events = 0;
  uint64_t retries = 0;  // subscription attempts after the first
  std::string link = "connecting";

  void apply(const v1::Event& ev) {
    ++events;
    switch (ev.body_case()) {
      case v1::Event::kSnapshot: {
        const auto& snap = ev.snapshot();
        graph = snap.graph_name();
        graph_rev = snap.graph_rev();
        nodes.clear();
        for (const auto& n : snap.nodes())
          nodes.push_back({n.id(), n.type(), n.device(), n.state(), n.bypassed()});
        devices.clear();
        for (const auto& d : snap.devices())
          devices[d.device()] = d;
        link = "connected";
        break;
      }
      case v1::Event::kDeviceStatus: devices[ev.device_status().device()] = ev.device_status(); break;
      case v1::Event::kMeter: meters[ev.meter().node()] = ev.meter(); break;
      case v1::Event::kNodeStatus:
        for (auto& n : nodes)
          if (n.id == ev.node_status().node())
            n.state = ev.node_status().state();
        break;
      case v1::Event::kBypassed:
        for (auto& n : nodes)
          if (n.id == ev.bypassed().node())
            n.bypassed = ev.bypassed().bypassed();
        break;
      case v1::Event::kGraphApplied:
        graph = ev.graph_applied().name();
        graph_rev = ev.graph_applied().graph_rev();
        break;
      default: break;
    }
  }

  /// The load of `node` from its device's latest status, if reported.
  std::optional<double> node_load(const std::string& node) const {
    for (const auto& [name, d] : devices)
      for (const auto& nl : d.node_loads())
        if (nl.node() == node)
          return nl.load();
    return std::nullopt;
  }

  void print(std::ostream& os, const std::string& addr) const {
    char now[16];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    std::strftime(now, sizeof now, "%H:%M:%S", &tm);
    os << "studiograph top  " << addr << "  graph " << or_dash(graph) << " rev " << graph_rev
       << "  " << now << "  " << link << "  events " << events << "  retries " << retries
       << "\n\n";
    table dev{{"DEVICE", "STATE", "BACKEND", "RATE", "BLOCK", "BLOCKS", "XRUNS", "LOAD", "PEAK",
               "RT"}};
    for (const auto& [name, d] : devices)
      dev.push_back({name, lower_state(v1::DeviceStatus_State_Name(d.state())),
                     or_dash(d.backend()), std::to_string(d.sample_rate()),
                     std::to_string(d.block()), std::to_string(d.blocks()),
                     std::to_string(d.xruns()), fixed(d.load() * 100, 1) + "%",
                     fixed(d.peak_load() * 100, 1) + "%", d.realtime_priority() ? "yes" : "no"});
    print_table(dev, os);
    os << '\n';
    table rows{{"NODE", "TYPE", "DEVICE", "STATE", "LOAD", "BYPASS", "PEAK dB", "RMS dB"}};
    for (const auto& n : nodes) {
      auto load = node_load(n.id);
      auto meter = meters.find(n.id);
      rows.push_back({n.id, n.type, or_dash(n.device),
                      lower_state(v1::NodeStatus_State_Name(n.state)),
                      load ? fixed(*load * 100, 2) + "%" : "-", n.bypassed ? "on" : "-",
                      meter != meters.end() ? levels(meter->second.peak_db()) : "-",
                      meter != meters.end() ? levels(meter->second.rms_db()) : "-"});
    }
    print_table(rows, os);
  }
};

struct top_options {
  double interval_s = 1;
  uint64_t frames = 0;  // 0: until interrupted
};

/// A live view redrawn every interval; on a terminal the screen is cleared between frames,
/// otherwise frames follow each other separated by a blank line. Reconnects like `watch`.
int cmd_top(const global_options& g, const top_options& t) {
  if (g.json) {
    std::cerr << "sgctl: top: is a view for people; use 'watch --json' for scripts\n";
    return exit_usage;
  }
  std::mutex mtx;
  top_view view;
  std::optional<grpc::Status> failure;
  bool connected_once = false;
  auto client = make_client(g);
  client->watch(
    [&](const v1::Event& ev, bool) {
      std::lock_guard lock(mtx);
      connected_once = true;
      view.apply(ev);
    },
    {},
    [&](const grpc::Status& status, std::chrono::milliseconds retry_in) {
      std::lock_guard lock(mtx);
      const bool gone = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                        status.error_code() == grpc::StatusCode::CANCELLED || status.ok();
      if (!gone || !connected_once) {
        failure = status;
        return false;
      }
      view.link = "reconnecting in " + std::to_string(retry_in.count()) + " ms (" +
                  code_name(status.error_code()) + ")";
      return true;
    });
  const bool tty = isatty(STDOUT_FILENO);
  const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
    std::chrono::duration<double>(std::max(0.05, t.interval_s)));
  for (uint64_t frame = 0; t.frames == 0 || frame < t.frames; ++frame) {
    std::this_thread::sleep_for(interval);
    std::lock_guard lock(mtx);
    if (failure)
      break;
    std::cout << (tty ? "\x1b[H\x1b[2J" : (frame ? "\n" : ""));
    view.retries = client->reconnects();
    view.print(std::cout, g.addr);
    std::cout.flush();
  }
  client->stop();
  return failure ? fail(*failure) : exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"sgctl — inspect and control a running studiograph over gRPC"};
  app.footer(exit_codes_help);
  app.require_subcommand(1);
  app.fallthrough();
  global_options g;
  app.add_option("--addr", g.addr, "gateway address HOST:PORT")->capture_default_str();
  app.add_flag("--json", g.json, "print one JSON object per reply or event");
  std::string log_level = "warn";
  sg::add_log_level_option(app, log_level);
  app.add_option("--timeout", g.timeout_s, "seconds per request (watch: no limit)")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  app.add_option("--token-file", g.token_file,
                 "file holding the access token (TOKEN or 'ROLE TOKEN'), sent as "
                 "'authorization: Bearer TOKEN'");
  app.add_flag("--tls", g.security.tls, "connect with TLS (verified with the system's CAs)");
  app.add_option("--tls-ca", g.security.tls_ca, "verify the server with this PEM CA (implies --tls)");
  app.add_option("--tls-cert", g.security.tls_cert, "client certificate, PEM (implies --tls)");
  app.add_option("--tls-key", g.security.tls_key, "client private key, PEM");
  app.add_option("--tls-server-name", g.security.tls_server_name,
                 "the name the server certificate must carry (default: the host of --addr)");

  app.add_subcommand("nodes", "list running nodes: id, type, device, rev, state");
  app.add_subcommand("types", "list node types and their parameters");
  std::string node, target, file, source;
  app.add_subcommand("get", "show a node's parameters with every layer")
    ->add_option("NODE", node)
    ->required();

  set_flags sf;
  std::vector<std::string> values;
  auto* set = app.add_subcommand(
    "set", "set a parameter: NODE.PARAM VALUE, or several of one node atomically: "
           "NODE PARAM=VALUE PARAM=VALUE... (values parsed with the params' types)");
  set->add_option("TARGET", target, "NODE.PARAM, or NODE")->required();
  set->add_option("VALUES", values, "VALUE, or PARAM=VALUE...")->required();
  auto* overlay = set->add_option("--overlay", sf.overlay,
                                  "write SOURCE's overlay (automation) instead of committing")
                    ->type_name("SOURCE");
  set->add_flag("--persist", sf.persist, "store the committed value (survives restart)")
    ->excludes(overlay);
  set->add_option("--settle-ms", sf.settle_ms,
                  "overlay: settle into a session value after N ms without updates "
                  "(0: server default, 500)")
    ->type_name("N")
    ->needs(overlay);

  auto* settle = app.add_subcommand(
    "settle", "turn SOURCE's overlay into a session-only committed value (NODE: all params)");
  settle->add_option("NODE[.PARAM]", target)->required();
  settle->add_option("SOURCE", source)->required();

  preset_args pa;
  auto* preset = app.add_subcommand("preset", "save, load, list and delete presets");
  preset->require_subcommand(1);
  preset->fallthrough();
  auto* save = preset->add_subcommand("save", "store the committed values of some or all nodes");
  save->add_option("NAME", pa.name)->required();
  save->add_option("--nodes", pa.nodes, "only these nodes (comma-separated)")->delimiter(',');
  auto* load = preset->add_subcommand("load", "replace committed values with the preset's");
  load->add_option("NAME", pa.name)->required();
  load->add_flag("--persist", pa.persist, "also store the loaded values");
  preset->add_subcommand("list", "stored presets: name, params, nodes, time saved");
  preset->add_subcommand("delete", "remove a stored preset")
    ->add_option("NAME", pa.name)
    ->required();

  watch_options w;
  auto* watch = app.add_subcommand("watch", "print events as they come (reconnects)");
  watch->add_option("--node", w.nodes, "only events of this node (repeatable)");
  watch->add_option("--kind", w.kinds,
                    "only this kind: param_changed, node_status, device_status, "
                    "graph_applied, meter, snapshot, preset_loaded, durable, bypass, midi, panel (repeatable)");
  watch->add_option("--count", w.count, "exit after N events (the snapshot counts)");
  app.add_subcommand("status", "process status: version, uptime, graph, devices, node loads, "
                               "gateway clients");
  std::string bypass_state = "on";
  auto* bypass = app.add_subcommand("bypass", "bypass a node's processing (outputs carry inputs)");
  bypass->add_option("NODE", node)->required();
  bypass->add_option("STATE", bypass_state, "on or off")->capture_default_str();
  trigger_args ta;
  auto* trigger = app.add_subcommand("trigger", "send a trigger or note to a node");
  trigger->add_option("NODE", node)->required();
  trigger->add_option("KIND", ta.kind, "trigger, note_on, note_off or stop")
    ->capture_default_str();
  trigger->add_option("--note", ta.note, "MIDI note 0..127")->capture_default_str();
  trigger->add_option("--velocity", ta.velocity, "0..1")->capture_default_str();
  trigger->add_option("--delay-ms", ta.delay_ms, "due this many ms from now");
  panel_args pn;
  auto* panel = app.add_subcommand(
    "panel", "pad and knob panels: list, show, create, update, activate, deactivate, delete");
  panel->require_subcommand(1);
  panel->fallthrough();
  panel->add_subcommand("list", "every panel: id, type, bank, device, active, mappings");
  for (const char* verb : {"show", "activate", "deactivate", "delete"})
    panel->add_subcommand(verb, std::string(verb) == "show" ? "a panel and its mappings"
                                : std::string(verb) == "delete"
                                  ? "remove a panel"
                                  : std::string(verb) == "activate"
                                    ? "activate (deactivates the other panel of its type and bank)"
                                    : "stop a panel receiving input")
      ->add_option("ID", pn.id)
      ->required();
  for (const char* verb : {"create", "update"}) {
    auto* c = panel->add_subcommand(
      verb, std::string(verb) == "create" ? "create a panel"
                                          : "change a panel (unset options keep their value)");
    c->add_option("ID", pn.id)->required();
    auto* type = c->add_option("--type", pn.type, "pad (notes) or knob (CCs)");
    auto* bank = c->add_option("--bank", pn.bank, "the bank: panels of one type and bank "
                                                  "share the physical controls");
    if (std::string(verb) == "create") {
      type->required();
      bank->required();
    }
    c->add_option("--device", pn.device, "MIDI device id of the graph ('-': any)");
    c->add_flag("--active", pn.active, "active (deactivates the other of its type and bank)");
    c->add_flag("--inactive", pn.inactive, "inactive");
    c->add_option("--map", pn.maps,
                  "NUMBER[/CH]=[ACTION:]TARGET[,low=F,high=F,curve=log|exp,nopickup]; replaces "
                  "every mapping (repeatable)");
    if (std::string(verb) == "update") {
      c->add_option("--add-map", pn.add_maps, "add or replace one mapping (repeatable)");
      c->add_option("--remove-map", pn.remove, "remove the mappings of a control number");
    }
  }

  std::string learn_target, learn_panel;
  double learn_wait = 30;
  auto* midi = app.add_subcommand("midi", "MIDI: learn");
  midi->require_subcommand(1);
  midi->fallthrough();
  auto* learn = midi->add_subcommand(
    "learn", "bind the next control moved to NODE.PARAM (a knob) or NODE (a pad triggers it)");
  learn->add_option("TARGET", learn_target)->required();
  learn->add_option("--panel", learn_panel, "the panel to bind it in (default: the active panel "
                                            "of the control's kind, else learned-knobs/pads)");
  learn->add_option("--wait", learn_wait, "seconds to wait for a control")
    ->capture_default_str()
    ->check(CLI::Range(0.1, 300.0));

  app.add_subcommand("graph", "the running graph: devices, nodes, edges");
  bool committed = false;
  std::string out;
  auto* exp = app.add_subcommand("export", "the running graph as a graph file (YAML)");
  exp->add_flag("--committed", committed,
                "with the session's values (committed ?? base, never overlays)");
  exp->add_option("-o,--out", out, "write to FILE instead of stdout");
  std::string service;
  app.add_subcommand("health", "grpc.health.v1 Check (exit 0 only when SERVING)")
    ->add_option("SERVICE", service, "e.g. studiograph.v1.NodeService (default: the server)");
  top_options to;
  auto* top = app.add_subcommand("top", "live view: devices, xruns, load per device and node, "
                                        "meters (reconnects)");
  top->add_option("--interval", to.interval_s, "seconds between redraws")->capture_default_str();
  top->add_option("--frames", to.frames, "exit after N frames (0: until Ctrl-C)");
  app.add_subcommand("validate", "validate a graph file on the server")
    ->add_option("FILE", file)
    ->required();
  app.add_subcommand("apply", "apply a graph file to the running system (a diff)")
    ->add_option("FILE", file)
    ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_usage;
  }
  sg::start_logging("sgctl", log_level);

  if (!g.token_file.empty())
    if (auto e = sg::read_token_file(g.token_file, g.security.token)) {
      std::cerr << "sgctl: " << *e << '\n';
      return exit_usage;
    }
  {
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (auto e = sg::channel_credentials(g.security, creds)) {
      std::cerr << "sgctl: " << *e << '\n';
      return exit_usage;
    }
  }

  const auto* cmd = app.get_subcommands().front();
  const auto& name = cmd->get_name();
  if (name == "nodes")
    return cmd_nodes(g);
  if (name == "types")
    return cmd_types(g);
  if (name == "get")
    return cmd_get(g, node);
  if (name == "set")
    return cmd_set(g, target, values, sf);
  if (name == "bypass")
    return cmd_bypass(g, node, bypass_state);
  if (name == "trigger")
    return cmd_trigger(g, node, ta);
  if (name == "graph")
    return cmd_graph(g);
  if (name == "export")
    return cmd_export(g, committed, out);
  if (name == "health")
    return cmd_health(g, service);
  if (name == "top")
    return cmd_top(g, to);
  if (name == "settle")
    return cmd_settle(g, target, source);
  if (name == "preset")
    return cmd_preset(g, cmd->get_subcommands().front()->get_name(), pa);
  if (name == "watch")
    return cmd_watch(g, w);
  if (name == "panel")
    return cmd_panel(g, cmd->get_subcommands().front()->get_name(), pn);
  if (name == "midi")
    return cmd_learn(g, learn_target, learn_panel, learn_wait);
  if (name == "status")
    return cmd_status(g);
  if (name == "apply")
    return cmd_apply(g, file);
  return cmd_validate(g, file);
}
