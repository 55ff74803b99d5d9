// The graph loader's driver: reads one YAML document and runs the passes over it in order
// (graph/load_context.hpp lists them). Pass 1 follows the file's top-level keys; pass 2 checks
// nodes, then edges, then the whole graph.

#include "graph/loader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "graph/load_context.hpp"

namespace sg {

namespace {

using namespace graph_load;

const names top_keys = {"version", "name", "hosts", "devices", "nodes", "edges"};

void read_version(context& c, const entry& e) {
  std::optional<int64_t> v;
  if (e.value.IsScalar() && !is_quoted(e.value))
    v = parse_int(e.value.Scalar());
  if (!v) {
    const std::string got = e.value.IsScalar() ? q(e.value.Scalar()) : "no value";
    c.report.error(at(e.value.IsNull() ? e.key_node : e.value),
                   "expected 'version: 1', got " + got);
    return;
  }
  if (*v != 1) {
    c.report.error(at(e.value), "unsupported version " + std::to_string(*v) +
                                  ": expected 1 (the only version this build reads)");
    return;
  }
  c.spec.set_version(1);
}

/// Pass 1: the top-level keys in file order, each section handed to its pass.
void read_graph(context& c, const YAML::Node& root) {
  if (!root.IsMap()) {
    c.report.error(at(root), "expected a mapping at the top level (version, name, hosts, "
                             "devices, nodes, edges)");
    return;
  }
  bool has_version = false, has_nodes = false;
  for (const auto& e : entries(c, root, "at the top level", &top_keys)) {
    if (e.key == "version") {
      has_version = true;
      read_version(c, e);
    } else if (e.key == "name") {
      if (auto s = string_field(c, e, "'name'"))
        c.spec.set_name(*s);
    } else if (e.key == "hosts") {
      read_hosts(c, e);
    } else if (e.key == "devices") {
      read_devices(c, e);
    } else if (e.key == "nodes") {
      has_nodes = true;
      read_nodes(c, e);
    } else if (e.key == "edges") {
      read_edges(c, e);
    }
  }
  if (!has_version)
    c.report.error(at(root), "missing 'version': expected 'version: 1'");
  if (!has_nodes)
    c.report.error(at(root), "missing 'nodes': expected a list of nodes");
}

void load_documents(std::string_view text, const node_registry& reg, reporter& report,
                    graph_load_result& result) {
  if (!one_document(text, report))
    return;
  context c{text, reg, report, result.spec};
  read_graph(c, YAML::Load(std::string(text)));
  check_nodes(c);
  check_edges(c);
  check_cycles(c);
  check_clock_domains(c);
}

} // namespace

graph_load_result load_graph_string(std::string_view yaml, const std::string& file_name,
                                    const node_registry& reg) {
  graph_load_result result;
  reporter report(file_name, result.errors);
  try {
    result.spec.set_name(std::filesystem::path(file_name).stem().string());
    load_documents(yaml, reg, report, result);
  } catch (const YAML::Exception& e) {
    report.error(at(e.mark), "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    report.error({}, std::string("internal error while loading the graph: ") + e.what());
  } catch (...) {
    report.error({}, "internal error while loading the graph");
  }
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line(), a.column()) < std::pair(b.line(), b.column());
  });
  return result;
}

graph_load_result load_graph_file(const std::string& path, const node_registry& reg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    graph_load_result result;
    reporter(path, result.errors)
      .error({}, "cannot open graph file: " + std::string(std::strerror(errno)));
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_graph_string(text.str(), path, reg);
}

std::string format_diagnostic(const v1::Diagnostic& d) {
  std::ostringstream os;
  os << d.file();
  if (d.line() > 0)
    os << ':' << d.line() << ':' << d.column();
  os << ": error: " << d.message();
  return os.str();
}

} // namespace sg
