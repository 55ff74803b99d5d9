/// The graph: show the running one, export it as a graph file, validate a graph file on the
/// server, apply one (a diff).

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "graph/loader.hpp"
#include "nodes/core/expected.hpp"

namespace sg::sgctl {
namespace {

/// The whole file, or the usage message of `command` saying it cannot be read.
sg::expected<std::string> read_file(const std::string& command, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return sg::unexpected(command + ": cannot read '" + file + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Validates `text` on the server: exit_ok, exit_rejected after printing the diagnostics (or
/// the reply as JSON), or the exit code of a failed call. `print_ok`: also report success.
int validate(const global_options& g, const std::string& file, const std::string& text,
             bool print_ok) {
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

/// What `apply` prints for an applied graph: its size, then the nodes the diff touched.
void print_applied(const std::string& file, const v1::GraphApplied& a) {
  std::cout << file << ": applied graph " << a.name() << " rev=" << a.graph_rev()
            << " nodes=" << a.nodes() << " edges=" << a.edges() << " devices=" << a.devices()
            << '\n';
  for (auto [name, items] : {std::pair{"added", &a.added()},
                             {"removed", &a.removed()},
                             {"retyped", &a.retyped()},
                             {"changed", &a.changed()}})
    if (!items->empty())
      std::cout << "  " << name << ": " << join(*items, ", ") << '\n';
  if (a.restored() > 0)
    std::cout << "  restored: " << a.restored() << " stored values\n";
}

} // namespace

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

int cmd_validate(const global_options& g, const std::string& file) {
  auto text = read_file("validate", file);
  return text ? validate(g, file, *text, true) : usage_error(text.error());
}

/// The file is validated first so that its problems print exactly as `validate` prints them.
int cmd_apply(const global_options& g, const std::string& file) {
  auto text = read_file("apply", file);
  if (!text)
    return usage_error(text.error());
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
  print_applied(file, reply.applied());
  return exit_ok;
}

} // namespace sg::sgctl
