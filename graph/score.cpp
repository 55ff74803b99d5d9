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

using type_map = std::map<std::string, std::string, std::less<>>;

/// Node id -> its type, for the events' checks.
type_map node_types(const v1::GraphSpec& graph) {
  type_map types;
  for (const auto& n : graph.nodes())
    types[n.id()] = n.type();
  return types;
}

/// What reading one entry of `events` has found so far.
struct event_reading {
  score_event ev;
  bool ok = true;
  bool has_at = false, has_node = false, has_kind = false, has_velocity = false;
  bool kind_missing = true;  // no `kind` key at all (an invalid one is reported where it is)
  YAML::Node note_node;  // valid when has_note (a default YAML::Node is a defined null)
  bool has_note = false;
};

/// `node`: a node of the graph that takes events.
void read_event_node(const YAML::Node& v, const type_map& types, const node_registry& reg,
                     reporter& report, event_reading& r) {
  r.has_node = true;
  if (!v.IsScalar()) {
    report.error(v, "node: expected a node id");
    r.ok = false;
    return;
  }
  r.ev.node = v.as<std::string>();
  const auto it = types.find(r.ev.node);
  const node_info* info = it == types.end() ? nullptr : reg.find(it->second);
  if (it == types.end()) {
    report.error(v, "node: no node '" + r.ev.node + "' in the graph");
    r.ok = false;
  } else if (!info || !info->accepts_events) {
    report.error(v, "node: '" + r.ev.node + "' (" + it->second +
                      ") takes no notes or triggers (audio.synth and audio.player do)");
    r.ok = false;
  }
}

/// One key of an event and its value.
void read_event_field(const YAML::Node& key_node, const YAML::Node& v, const type_map& types,
                      const node_registry& reg, reporter& report, event_reading& r) {
  const auto key = key_node.as<std::string>();
  if (key == "at") {
    r.has_at = true;
    auto at = number(v);
    if (!at || *at < 0 || *at > 86400) {
      report.error(v, "at: expected seconds from the start, 0..86400");
      r.ok = false;
    } else {
      r.ev.at = *at;
    }
  } else if (key == "node") {
    read_event_node(v, types, reg, report, r);
  } else if (key == "kind") {
    const auto text = v.IsScalar() ? v.as<std::string>() : std::string();
    const auto it = kinds().find(text);
    if (it == kinds().end()) {
      report.error(v, "kind: expected note_on, note_off, trigger or stop");
      r.ok = false;
      r.kind_missing = false;
    } else {
      r.ev.kind = it->second;
      r.has_kind = true;
    }
  } else if (key == "note") {
    r.note_node.reset(v);
    r.has_note = true;
  } else if (key == "velocity") {
    r.has_velocity = true;
    auto vel = number(v);
    if (!vel || *vel < 0 || *vel > 1) {
      report.error(v, "velocity: expected 0..1");
      r.ok = false;
    } else {
      r.ev.velocity = static_cast<float>(*vel);
    }
  } else {
    report.error(key_node, "unknown key '" + key + "': expected at, node, kind, note or velocity");
    r.ok = false;
  }
}

/// The keys every event needs, and `note` exactly for the note kinds.
void check_event_keys(const YAML::Node& item, reporter& report, event_reading& r) {
  for (auto [given, name] :
       {std::pair{r.has_at, "at"}, {r.has_node, "node"}, {r.has_kind || !r.kind_missing, "kind"}})
    if (!given) {
      report.error(item, std::string("missing '") + name + "'");
      r.ok = false;
    }
  const bool is_note = r.ev.kind == kernel_event::note_on || r.ev.kind == kernel_event::note_off;
  if (r.has_note) {
    auto n = number(r.note_node);
    if (r.has_kind && !is_note) {  // (an invalid kind is reported already)
      report.error(r.note_node, "note: only note_on and note_off take a note");
      r.ok = false;
    } else if (!n || *n < 0 || *n > 127 || *n != std::floor(*n)) {
      report.error(r.note_node, "note: expected a MIDI note number 0..127");
      r.ok = false;
    } else {
      r.ev.note = static_cast<uint8_t>(*n);
    }
  } else if (r.has_kind && is_note) {
    report.error(item, "missing 'note' (note_on and note_off need one)");
    r.ok = false;
  }
}

/// One entry of `events`; nullopt (with errors reported) when it is not valid.
std::optional<score_event> read_event(const YAML::Node& item, const type_map& types,
                                      const node_registry& reg, reporter& report) {
  if (!item.IsMap()) {
    report.error(item, "expected an event mapping { at, node, kind, ... }");
    return std::nullopt;
  }
  event_reading r;
  for (const auto& kv : item)
    read_event_field(kv.first, kv.second, types, reg, report, r);
  check_event_keys(item, report, r);
  if (r.ev.kind == kernel_event::note_on && !r.has_velocity)
    r.ev.velocity = 1.0f;
  if (!r.ok)
    return std::nullopt;
  return r.ev;
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
