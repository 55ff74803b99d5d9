#include "graph/score.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

namespace sg {

namespace {

namespace v1 = studiograph::v1;

class reporter {
public:
  reporter(const std::string& file, std::vector<v1::Diagnostic>& out) : file_(file), out_(out) {}

  void error(const YAML::Mark& m, std::string message) {
    v1::Diagnostic d;
    d.set_file(file_);
    d.set_line(m.is_null() || m.line < 0 ? 1 : static_cast<uint32_t>(m.line + 1));
    d.set_column(m.is_null() || m.column < 0 ? 1 : static_cast<uint32_t>(m.column + 1));
    d.set_message(std::move(message));
    out_.push_back(std::move(d));
  }
  void error(const YAML::Node& n, std::string message) { error(n.Mark(), std::move(message)); }

private:
  const std::string& file_;
  std::vector<v1::Diagnostic>& out_;
};

std::optional<double> number(const YAML::Node& n) {
  if (!n.IsScalar())
    return std::nullopt;
  try {
    const double v = n.as<double>();
    return std::isfinite(v) ? std::optional(v) : std::nullopt;
  } catch (const YAML::Exception&) {
    return std::nullopt;
  }
}

const std::map<std::string, kernel_event::kind_t, std::less<>>& kinds() {
  static const std::map<std::string, kernel_event::kind_t, std::less<>> k{
    {"note_on", kernel_event::note_on},
    {"note_off", kernel_event::note_off},
    {"trigger", kernel_event::trigger},
    {"stop", kernel_event::stop}};
  return k;
}

/// Node id -> its type, for the events' checks.
std::map<std::string, std::string, std::less<>> node_types(const v1::GraphSpec& graph) {
  std::map<std::string, std::string, std::less<>> types;
  for (const auto& n : graph.nodes())
    types[n.id()] = n.type();
  return types;
}

/// One entry of `events`; nullopt (with errors reported) when it is not valid.
using type_map = std::map<std::string, std::string, std::less<>>;

std::optional<score_event> read_event(const YAML::Node& item, const type_map& types,
                                      const node_registry& reg, reporter& report) {
  if (!item.IsMap()) {
    report.error(item, "expected an event mapping { at, node, kind, ... }");
    return std::nullopt;
  }
  score_event ev;
  bool ok = true;
  bool has_at = false, has_node = false, has_kind = false, has_velocity = false;
  bool kind_missing = true;  // no `kind` key at all (an invalid one is reported where it is)
  YAML::Node note_node;  // valid when has_note (a default YAML::Node is a defined null)
  bool has_note = false;
  for (const auto& kv : item) {
    const auto key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "at") {
      has_at = true;
      auto at = number(v);
      if (!at || *at < 0 || *at > 86400) {
        report.error(v, "at: expected seconds from the start, 0..86400");
        ok = false;
      } else {
        ev.at = *at;
      }
    } else if (key == "node") {
      has_node = true;
      if (!v.IsScalar()) {
        report.error(v, "node: expected a node id");
        ok = false;
        continue;
      }
      ev.node = v.as<std::string>();
      const auto it = types.find(ev.node);
      const node_info* info = it == types.end() ? nullptr : reg.find(it->second);
      if (it == types.end()) {
        report.error(v, "node: no node '" + ev.node + "' in the graph");
        ok = false;
      } else if (!info || !info->accepts_events) {
        report.error(v, "node: '" + ev.node + "' (" + it->second +
                          ") takes no notes or triggers (audio.synth and audio.player do)");
        ok = false;
      }
    } else if (key == "kind") {
      const auto text = v.IsScalar() ? v.as<std::string>() : std::string();
      const auto it = kinds().find(text);
      if (it == kinds().end()) {
        report.error(v, "kind: expected note_on, note_off, trigger or stop");
        ok = false;
        kind_missing = false;
      } else {
        ev.kind = it->second;
        has_kind = true;
      }
    } else if (key == "note") {
      note_node.reset(v);
      has_note = true;
    } else if (key == "velocity") {
      has_velocity = true;
      auto vel = number(v);
      if (!vel || *vel < 0 || *vel > 1) {
        report.error(v, "velocity: expected 0..1");
        ok = false;
      } else {
        ev.velocity = static_cast<float>(*vel);
      }
    } else {
      report.error(kv.first, "unknown key '" + key + "': expected at, node, kind, note or velocity");
      ok = false;
    }
  }
  for (auto [given, name] :
       {std::pair{has_at, "at"}, {has_node, "node"}, {has_kind || !kind_missing, "kind"}})
    if (!given) {
      report.error(item, std::string("missing '") + name + "'");
      ok = false;
    }
  const bool is_note = ev.kind == kernel_event::note_on || ev.kind == kernel_event::note_off;
  if (has_note) {
    auto n = number(note_node);
    if (has_kind && !is_note) {  // (an invalid kind is reported already)
      report.error(note_node, "note: only note_on and note_off take a note");
      ok = false;
    } else if (!n || *n < 0 || *n > 127 || *n != std::floor(*n)) {
      report.error(note_node, "note: expected a MIDI note number 0..127");
      ok = false;
    } else {
      ev.note = static_cast<uint8_t>(*n);
    }
  } else if (has_kind && is_note) {
    report.error(item, "missing 'note' (note_on and note_off need one)");
    ok = false;
  }
  if (ev.kind == kernel_event::note_on && !has_velocity)
    ev.velocity = 1.0f;
  if (!ok)
    return std::nullopt;
  return ev;
}

void read_score(const YAML::Node& root, const v1::GraphSpec& graph, const node_registry& reg,
                reporter& report, score_load_result& result) {
  if (!root.IsMap()) {
    report.error(root, "expected a mapping with 'version: 1' and 'events'");
    return;
  }
  YAML::Node events;
  bool has_version = false;
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    if (key == "version") {
      has_version = true;
      if (auto v = number(kv.second); !v || *v != 1)
        report.error(kv.second, "version: expected 1");
    } else if (key == "events") {
      events = kv.second;
    } else {
      report.error(kv.first, "unknown key '" + key + "': expected version or events");
    }
  }
  if (!has_version)
    report.error(root, "missing 'version: 1'");
  if (!events) {
    report.error(root, "missing 'events' (a list of { at, node, kind, ... })");
    return;
  }
  if (!events.IsSequence()) {
    report.error(events, "events: expected a list of { at, node, kind, ... }");
    return;
  }
  const auto types = node_types(graph);
  for (const auto& item : events)
    if (auto ev = read_event(item, types, reg, report))
      result.events.push_back(std::move(*ev));
  std::stable_sort(result.events.begin(), result.events.end(),
                   [](const score_event& a, const score_event& b) { return a.at < b.at; });
}

} // namespace

score_load_result load_score_string(std::string_view yaml, const std::string& file_name,
                                    const v1::GraphSpec& graph, const node_registry& reg) {
  score_load_result result;
  reporter report(file_name, result.errors);
  try {
    read_score(YAML::Load(std::string(yaml)), graph, reg, report, result);
  } catch (const YAML::Exception& e) {
    report.error(e.mark, "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    v1::Diagnostic d;
    d.set_file(file_name);
    d.set_message(std::string("internal error while loading the score: ") + e.what());
    result.errors.push_back(std::move(d));
  }
  if (!result.errors.empty())
    result.events.clear();
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line(), a.column()) < std::pair(b.line(), b.column());
  });
  return result;
}

score_load_result load_score_file(const std::string& path, const v1::GraphSpec& graph,
                                  const node_registry& reg) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    score_load_result result;
    v1::Diagnostic d;
    d.set_file(path);
    d.set_message("cannot open score file: " + std::string(std::strerror(errno)));
    result.errors.push_back(std::move(d));
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_score_string(text.str(), path, graph, reg);
}

} // namespace sg
