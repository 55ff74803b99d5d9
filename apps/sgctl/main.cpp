/// sgctl — the command-line client of a studiograph gateway (docs/API.md).
///
/// Every command is one or two unary RPCs, except `watch`, which follows the event stream and
/// reconnects with exponential backoff (100 ms .. 5 s), reseeding from the new Snapshot.
/// Exit codes: 0 ok, 1 usage, 2 rejected (INVALID_ARGUMENT / FAILED_PRECONDITION, or a graph
/// with errors), 3 not found, 4 cannot reach the server (UNAVAILABLE / deadline), 5 other.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "graph/loader.hpp"
#include "graph/params.hpp"
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
};

constexpr const char* exit_codes_help =
  "Exit codes:\n"
  "  0  ok\n"
  "  1  usage error\n"
  "  2  the server rejected the request (INVALID_ARGUMENT, FAILED_PRECONDITION);\n"
  "     validate: the graph has errors\n"
  "  3  not found (NOT_FOUND)\n"
  "  4  cannot reach the server (UNAVAILABLE, DEADLINE_EXCEEDED)\n"
  "  5  any other error\n";

struct global_options {
  std::string addr = "127.0.0.1:50051";
  bool json = false;
  double timeout_s = 5;
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
void print_table(const table& rows) {
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
    std::cout << line << '\n';
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

std::shared_ptr<grpc::Channel> make_channel(const global_options& g) {
  grpc::ChannelArguments args;
  // Let `watch` drive reconnection with its own backoff instead of gRPC's (up to 120 s).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
  return grpc::CreateCustomChannel(g.addr, grpc::InsecureChannelCredentials(), args);
}

/// A client context bounded by --timeout.
std::unique_ptr<grpc::ClientContext> make_context(const global_options& g) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::duration<double>(g.timeout_s)));
  return ctx;
}

std::string client_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0)
    std::snprintf(host, sizeof host, "unknown");
  return "sgctl-" + std::string(host) + "-" + std::to_string(getpid());
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

int cmd_get(const global_options& g, const std::string& node) {
  v1::GetNodeReply reply;
  if (auto s = get_node(g, node, reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& n = reply.node();
  std::cout << n.id() << " (" << n.type() << ") rev=" << n.node_rev()
            << " state=" << lower_state(v1::NodeStatus_State_Name(n.state()))
            << (n.device().empty() ? "" : " device=" + n.device()) << '\n';
  table rows{{"PARAM", "VALUE", "TYPE", "RANGE", "UNIT"}};
  for (const auto& p : reply.type_info().params()) {
    std::string value = "-";
    for (const auto& ps : n.params())
      if (ps.name() == p.name())
        value = sg::to_text(ps.value());
    rows.push_back({p.name(), value, type_text(p.type()), range_text(p), or_dash(p.unit())});
  }
  print_table(rows);
  return exit_ok;
}

int cmd_set(const global_options& g, const std::string& target, const std::string& text) {
  auto dot = target.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == target.size()) {
    std::cerr << "sgctl: set: expected NODE.PARAM, got '" << target << "'\n";
    return exit_usage;
  }
  v1::SetParamRequest req;
  req.set_node(target.substr(0, dot));
  req.set_param(target.substr(dot + 1));

  v1::GetNodeReply node;
  if (auto s = get_node(g, req.node(), node); !s.ok())
    return fail(s);
  const v1::ParamDescriptor* desc = nullptr;
  for (const auto& p : node.type_info().params())
    if (p.name() == req.param())
      desc = &p;
  if (!desc)
    return fail({grpc::StatusCode::INVALID_ARGUMENT,
                 "param: node '" + req.node() + "' (" + node.node().type() +
                   ") has no parameter '" + req.param() + "'"});
  auto info = to_param_info(*desc);
  std::string error;
  auto value = info ? sg::parse_value(*info, text, error) : std::nullopt;
  if (!value)
    return fail({grpc::StatusCode::INVALID_ARGUMENT,
                 "value: " + (info ? error : "parameter type unknown to this sgctl")});
  *req.mutable_value() = *value;
  req.mutable_origin()->set_client_id(client_id());
  req.mutable_origin()->set_client_rev(1);

  auto stub = v1::NodeService::NewStub(make_channel(g));
  v1::SetParamReply reply;
  if (auto s = stub->SetParam(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& a = reply.applied();
  std::cout << a.node() << '.' << a.param() << " = " << sg::to_text(a.value())
            << " node_rev=" << a.node_rev() << '\n';
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
  for (float x : db)
    s += (s.empty() ? "" : ",") + fixed(x, 1);
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
      os << "param_changed " << p.node() << '.' << p.param() << " = " << sg::to_text(p.value())
         << " rev=" << p.node_rev() << " origin=" << or_dash(p.origin().client_id()) << ':'
         << p.origin().client_rev();
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
         << " edges=" << a.edges() << " devices=" << a.devices();
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

int cmd_watch(const global_options& g, const watch_options& w) {
  v1::SubscribeRequest req;
  for (const auto& n : w.nodes)
    req.add_nodes(n);
  for (const auto& k : w.kinds) {
    auto kind = parse_kind(k);
    if (!kind) {
      std::cerr << "sgctl: watch: unknown event kind '" << k
                << "' (param_changed, node_status, device_status, graph_applied, meter, "
                   "snapshot)\n";
      return exit_usage;
    }
    req.add_kinds(*kind);
  }
  uint64_t seen = 0;
  bool connected_once = false;
  auto backoff = 100ms;
  for (;;) {
    // A fresh channel per attempt: a new connection, not one parked in gRPC's own backoff.
    auto stub = v1::EventService::NewStub(make_channel(g));
    grpc::ClientContext ctx;
    auto reader = stub->Subscribe(&ctx, req);
    v1::Event ev;
    while (reader->Read(&ev)) {
      connected_once = true;
      backoff = 100ms;
      if (g.json)
        print_json(ev);
      else
        std::cout << event_line(ev) << std::endl;
      if (w.count && ++seen >= w.count) {
        ctx.TryCancel();
        reader->Finish();
        return exit_ok;
      }
    }
    auto status = reader->Finish();
    bool gone = status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE;
    if (!gone || !connected_once)
      return fail(status);
    std::cerr << "sgctl: watch: " << code_name(status.error_code()) << ": "
              << status.error_message() << "; reconnecting in " << backoff.count() << " ms\n";
    std::this_thread::sleep_for(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5s);
  }
}

// --- status, validate -------------------------------------------------------------------------

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
            << "gateway  " << or_dash(reply.gateway_address()) << '\n';
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
  return exit_ok;
}

int cmd_validate(const global_options& g, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "sgctl: validate: cannot read '" << file << "'\n";
    return exit_usage;
  }
  std::ostringstream text;
  text << in.rdbuf();
  v1::ValidateGraphRequest req;
  req.set_yaml(text.str());
  req.set_file_name(file);
  auto stub = v1::GraphService::NewStub(make_channel(g));
  v1::ValidateGraphReply reply;
  if (auto s = stub->ValidateGraph(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else if (reply.ok())
    std::cout << file << ": ok\n";
  else
    for (const auto& d : reply.diagnostics())
      std::cerr << sg::format_diagnostic(d) << '\n';
  return reply.ok() ? exit_ok : exit_rejected;
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
  app.add_option("--timeout", g.timeout_s, "seconds per request (watch: no limit)")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);

  app.add_subcommand("nodes", "list running nodes: id, type, device, rev, state");
  app.add_subcommand("types", "list node types and their parameters");
  std::string node, target, value, file;
  app.add_subcommand("get", "show a node's parameters")->add_option("NODE", node)->required();
  auto* set = app.add_subcommand("set", "set a parameter (VALUE parsed with the param's type)");
  set->add_option("NODE.PARAM", target)->required();
  set->add_option("VALUE", value)->required();
  watch_options w;
  auto* watch = app.add_subcommand("watch", "print events as they come (reconnects)");
  watch->add_option("--node", w.nodes, "only events of this node (repeatable)");
  watch->add_option("--kind", w.kinds,
                    "only this kind: param_changed, node_status, device_status, "
                    "graph_applied, meter, snapshot (repeatable)");
  watch->add_option("--count", w.count, "exit after N events (the snapshot counts)");
  app.add_subcommand("status", "process status: version, uptime, graph, devices");
  app.add_subcommand("validate", "validate a graph file on the server")
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

  const auto* cmd = app.get_subcommands().front();
  const auto& name = cmd->get_name();
  if (name == "nodes")
    return cmd_nodes(g);
  if (name == "types")
    return cmd_types(g);
  if (name == "get")
    return cmd_get(g, node);
  if (name == "set")
    return cmd_set(g, target, value);
  if (name == "watch")
    return cmd_watch(g, w);
  if (name == "status")
    return cmd_status(g);
  return cmd_validate(g, file);
}
