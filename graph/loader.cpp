#include "graph/loader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "graph/params.hpp"

namespace sg {

namespace {

// ---------------------------------------------------------------------------------------------
// Vocabulary of the format (docs/GRAPH_FORMAT.md)

using names = std::vector<std::string>;

const names top_keys = {"version", "name", "hosts", "devices", "nodes", "edges"};
const names device_keys = {"kind",   "backend", "sample_rate", "block",      "channels",
                           "device", "path",    "client_name", "priority"};
const names device_option_keys = {"device", "path", "client_name"};
// Video devices (actors/devices/video_device.hpp): one GStreamer pipeline and its sink.
const names midi_device_keys = {"kind", "backend", "port"};
const names video_device_keys = {"kind", "sink", "width", "height", "fps",
                                 "path", "host", "port", "codec", "bitrate"};
const names video_sinks = {"window", "file", "rtp", "null", "app"};
const names video_codecs = {"vp8", "mjpeg"};
const names backends = {"auto", "jack", "alsa", "pulse", "null"};
const names node_keys = {"id", "type", "params", "device", "host"};
const names edge_keys = {"from", "to"};

constexpr uint32_t default_sample_rate = 48000;
constexpr uint32_t default_block = 128;
constexpr uint32_t default_channels = 2;

// ---------------------------------------------------------------------------------------------
// Small text helpers

std::string join(const names& items) {
  std::string s;
  for (const auto& i : items)
    s += (s.empty() ? "" : ", ") + i;
  return s.empty() ? "none" : s;
}

bool contains(const names& items, std::string_view x) {
  return std::find(items.begin(), items.end(), x) != items.end();
}

std::string q(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

/// Names of nodes, devices, hosts and ports: `[A-Za-z_][A-Za-z0-9_-]*`. No '.', so an edge
/// endpoint splits unambiguously, and no '>', so "->" is always the arrow.
bool is_identifier(std::string_view s) {
  auto ch = [](char c) { return static_cast<unsigned char>(c); };
  if (s.empty() || !(std::isalpha(ch(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return std::isalnum(ch(c)) || c == '_' || c == '-'; });
}

const char* identifier_rule = "letters, digits, '_' or '-', starting with a letter or '_'";

// ---------------------------------------------------------------------------------------------
// Scalars typed by the YAML 1.2 core schema

bool is_quoted(const YAML::Node& n) {
  return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str";
}

std::optional<int64_t> parse_int(std::string_view s) {
  bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '-' || s[0] == '+'))
    s.remove_prefix(1);
  int base = 10;
  if (s.starts_with("0x") || s.starts_with("0o")) {
    base = s[1] == 'x' ? 16 : 8;
    s.remove_prefix(2);
  }
  uint64_t x = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x, base);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() ||
      x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::nullopt;
  return negative ? -static_cast<int64_t>(x) : static_cast<int64_t>(x);
}

std::optional<double> parse_double(std::string_view s) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (std::string_view i : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
    if (s == i)
      return inf;
  for (std::string_view i : {"-.inf", "-.Inf", "-.INF"})
    if (s == i)
      return -inf;
  for (std::string_view i : {".nan", ".NaN", ".NAN"})
    if (s == i)
      return std::numeric_limits<double>::quiet_NaN();
  // from_chars alone would also take "inf", "nan" and hex floats, which YAML reads as strings.
  if (s.empty() || s.find_first_not_of("0123456789+-.eE") != std::string_view::npos ||
      s.find_first_of("0123456789") == std::string_view::npos)
    return std::nullopt;
  if (s[0] == '+')
    s.remove_prefix(1);
  double x = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return x;
}

/// A scalar as YAML itself types it: quoted → string, true/false → bool, then int, float,
/// and any other plain text → string.
v1::Value typed_scalar(const YAML::Node& n) {
  v1::Value v;
  const std::string& s = n.Scalar();
  if (is_quoted(n))
    v.set_string_value(s);
  else if (s == "true" || s == "True" || s == "TRUE")
    v.set_bool_value(true);
  else if (s == "false" || s == "False" || s == "FALSE")
    v.set_bool_value(false);
  else if (auto i = parse_int(s))
    v.set_int_value(*i);
  else if (auto d = parse_double(s))
    v.set_double_value(*d);
  else
    v.set_string_value(s);
  return v;
}

/// A parameter value guided by the declared type: string parameters take any scalar's text,
/// enumerations take names; everything else is typed by YAML and judged by check_value.
v1::Value param_value(const param_info& p, const YAML::Node& n) {
  v1::Value v;
  if (p.type == param_type::string) {
    v.set_string_value(n.Scalar());
    return v;
  }
  v = typed_scalar(n);
  // Enumerations are named by their text, whatever YAML types it as (`bits: 16`).
  if (p.type == param_type::enumeration && n.IsScalar() &&
      v.kind_case() != v1::Value::kBoolValue)
    v.set_enum_value(n.Scalar());
  return v;
}

/// The accepted value in the declared type's own form (440 for a double becomes 440.0), so
/// consumers of the spec never see an int where a double is declared.
v1::Value normalized(const param_info& p, const v1::Value& v) {
  const bool text = v.kind_case() == v1::Value::kStringValue;
  return to_value(p, to_number(p, v), text ? v.string_value() : std::string{});
}

/// What a parameter of `p`'s type looks like, for messages about absent or shapeless values.
std::string expected(const param_info& p) {
  switch (p.type) {
    case param_type::real: return "a number";
    case param_type::integer: return "an integer";
    case param_type::boolean: return "true or false";
    case param_type::string: return "a string";
    case param_type::enumeration: return "one of " + join(p.choices);
  }
  return "a value";
}

std::string describe(const v1::Value& v) {
  if (v.kind_case() == v1::Value::kStringValue)
    return "the string \"" + v.string_value() + "\"";
  return q(to_text(v));
}

// ---------------------------------------------------------------------------------------------
// Locations and diagnostics

/// A 1-based source position; line 0 stands for the file as a whole.
struct pos {
  uint32_t line = 0;
  uint32_t column = 0;
};

pos at(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0)
    return {1, 1};
  return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

pos at(const YAML::Node& n) {
  return at(n.Mark());
}

class reporter {
public:
  reporter(const std::string& file, std::vector<v1::Diagnostic>& out) : file_(file), out_(out) {}

  void error(pos p, std::string message) {
    v1::Diagnostic d;
    d.set_file(file_);
    d.set_line(p.line);
    d.set_column(p.column);
    d.set_message(std::move(message));
    out_.push_back(std::move(d));
  }

private:
  const std::string& file_;
  std::vector<v1::Diagnostic>& out_;
};

// ---------------------------------------------------------------------------------------------
// Where each part of the spec came from, so the semantic pass can point into the source

/// A mapping entry whose key is a scalar.
struct entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
};

struct node_source {
  pos item, id, type, device, host;
  bool device_given = false;
  /// Raw values: only the semantic pass knows each parameter's type.
  std::vector<entry> params;
};

struct edge_source {
  pos item, from, to;
};

struct graph_source {
  std::vector<node_source> nodes;  // parallel to spec.nodes
  std::vector<edge_source> edges;  // parallel to spec.edges
};

struct endpoint {
  std::string node, port;
};

/// "node.port" → endpoint, or nullopt when it is not of that form.
std::optional<endpoint> parse_endpoint(std::string_view text) {
  text = trim(text);
  auto dot = text.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  endpoint e{std::string(text.substr(0, dot)), std::string(text.substr(dot + 1))};
  if (!is_identifier(e.node) || !is_identifier(e.port))
    return std::nullopt;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Pass 1, structure: YAML shapes, keys and self-contained values (devices, syntax of names and
// edges). Fills the spec and the source map; knows nothing about node types except their names.

class structure_pass {
public:
  structure_pass(std::string_view text, const node_registry& reg, reporter& r,
                 v1::GraphSpec& spec, graph_source& src)
    : text_(text), report_(r), spec_(spec), src_(src) {
    for (const auto& t : reg.all())
      types_.push_back(t.type);
  }

  void run(const YAML::Node& root);

private:
  std::vector<entry> entries(const YAML::Node& map, const std::string& where,
                             const names* allowed);
  std::optional<std::string> string_field(const entry& e, const std::string& what);
  std::optional<int64_t> int_field(const entry& e, const std::string& what, int64_t min,
                                   int64_t max);
  bool is_null_literal(const YAML::Node& n) const;

  void version(const entry& e);
  void hosts(const entry& e);
  void devices(const entry& e);
  void device(const entry& e);
  void device_field(v1::DeviceSpec& d, const entry& f);
  void midi_device(v1::DeviceSpec& d, const entry& e);
  void video_device_field(v1::DeviceSpec& d, const entry& f);
  void video_device_check(const v1::DeviceSpec& d, const entry& e);
  void backend(v1::DeviceSpec& d, const entry& f);
  void nodes(const entry& e);
  void node(const YAML::Node& item);
  void node_field(v1::NodeSpec& n, node_source& s, const entry& f, const std::string& of);
  void edges(const entry& e);
  void edge_text(const YAML::Node& item);
  void edge_map(const YAML::Node& item);
  void add_edge(const endpoint& from, const endpoint& to, edge_source s);

  std::string_view text_;
  reporter& report_;
  v1::GraphSpec& spec_;
  graph_source& src_;
  names types_;
};

void structure_pass::run(const YAML::Node& root) {
  if (!root.IsMap()) {
    report_.error(at(root), "expected a mapping at the top level (version, name, hosts, "
                            "devices, nodes, edges)");
    return;
  }
  bool has_version = false, has_nodes = false;
  for (const auto& e : entries(root, "at the top level", &top_keys)) {
    if (e.key == "version") {
      has_version = true;
      version(e);
    } else if (e.key == "name") {
      if (auto s = string_field(e, "'name'"))
        spec_.set_name(*s);
    } else if (e.key == "hosts") {
      hosts(e);
    } else if (e.key == "devices") {
      devices(e);
    } else if (e.key == "nodes") {
      has_nodes = true;
      nodes(e);
    } else if (e.key == "edges") {
      edges(e);
    }
  }
  if (!has_version)
    report_.error(at(root), "missing 'version': expected 'version: 1'");
  if (!has_nodes)
    report_.error(at(root), "missing 'nodes': expected a list of nodes");
}

/// The mapping's entries in order, each key once; reports non-scalar, duplicate and (when
/// `allowed` is given) unknown keys, and leaves those entries out.
std::vector<entry> structure_pass::entries(const YAML::Node& map, const std::string& where,
                                           const names* allowed) {
  std::vector<entry> out;
  std::map<std::string, pos> seen;
  for (const auto& kv : map) {
    // A copy: yaml-cpp's iterator hands out a temporary pair, so a reference would dangle.
    const YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      report_.error(at(k), "expected a name as key " + where);
      continue;
    }
    const std::string& key = k.Scalar();
    if (auto [first, fresh] = seen.emplace(key, at(k)); !fresh) {
      report_.error(at(k), "duplicate key " + q(key) + " " + where + " (first at line " +
                             std::to_string(first->second.line) + ")");
      continue;
    }
    if (allowed && !contains(*allowed, key)) {
      report_.error(at(k),
                    "unknown key " + q(key) + " " + where + ": expected one of " + join(*allowed));
      continue;
    }
    out.push_back({key, k, kv.second});
  }
  return out;
}

std::optional<std::string> structure_pass::string_field(const entry& e, const std::string& what) {
  if (e.value.IsNull()) {
    report_.error(at(e.key_node), "missing value for " + what + ": expected a string");
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    report_.error(at(e.value), "expected a string for " + what + ", not a list or mapping");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<int64_t> structure_pass::int_field(const entry& e, const std::string& what,
                                                 int64_t min, int64_t max) {
  const std::string expected =
    "expected an integer " + std::to_string(min) + ".." + std::to_string(max) + " for " + what;
  if (e.value.IsNull()) {
    report_.error(at(e.key_node), "missing value: " + expected);
    return std::nullopt;
  }
  std::optional<int64_t> x;
  if (e.value.IsScalar() && !is_quoted(e.value))
    x = parse_int(e.value.Scalar());
  if (!x || *x < min || *x > max) {
    const std::string got = !e.value.IsScalar() ? "a list or mapping"
                            : is_quoted(e.value) ? "the string \"" + e.value.Scalar() + "\""
                                                 : q(e.value.Scalar());
    report_.error(at(e.value), expected + ", got " + got);
    return std::nullopt;
  }
  return x;
}

/// yaml-cpp turns a plain `null` or `~` into a null node and drops the text; the source at the
/// node's mark tells "backend: null" (the null backend) from "backend:" (no value).
bool structure_pass::is_null_literal(const YAML::Node& n) const {
  const auto m = n.Mark();
  if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= text_.size())
    return false;
  auto rest = text_.substr(static_cast<size_t>(m.pos));
  for (std::string_view lit : {"null", "Null", "NULL", "~"}) {
    if (!rest.starts_with(lit))
      continue;
    auto after = rest.substr(lit.size());
    if (after.empty() || std::string_view(" \t\r\n,}]#").find(after[0]) != std::string_view::npos)
      return true;
  }
  return false;
}

void structure_pass::version(const entry& e) {
  std::optional<int64_t> v;
  if (e.value.IsScalar() && !is_quoted(e.value))
    v = parse_int(e.value.Scalar());
  if (!v) {
    const std::string got = e.value.IsScalar() ? q(e.value.Scalar()) : "no value";
    report_.error(at(e.value.IsNull() ? e.key_node : e.value),
                  "expected 'version: 1', got " + got);
    return;
  }
  if (*v != 1) {
    report_.error(at(e.value), "unsupported version " + std::to_string(*v) +
                                 ": expected 1 (the only version this build reads)");
    return;
  }
  spec_.set_version(1);
}

void structure_pass::hosts(const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsMap()) {
    report_.error(at(e.value), "expected a mapping of host name to address for 'hosts'");
    return;
  }
  for (const auto& h : entries(e.value, "in 'hosts'", nullptr)) {
    if (!is_identifier(h.key))
      report_.error(at(h.key_node), "invalid host name " + q(h.key) + ": expected " +
                                      identifier_rule);
    if (auto addr = string_field(h, "host " + q(h.key) + " (its address)"))
      (*spec_.mutable_hosts())[h.key] = *addr;
  }
}

void structure_pass::devices(const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsMap()) {
    report_.error(at(e.value), "expected a mapping of device name to settings for 'devices'");
    return;
  }
  for (const auto& d : entries(e.value, "in 'devices'", nullptr))
    device(d);
}

void structure_pass::device(const entry& e) {
  // The device is recorded even when broken, so nodes naming it do not report it twice.
  auto& d = *spec_.add_devices();
  d.set_name(e.key);
  d.set_backend("auto");
  d.set_sample_rate(default_sample_rate);
  d.set_block(default_block);
  d.set_channels(default_channels);
  if (!is_identifier(e.key))
    report_.error(at(e.key_node), "invalid device name " + q(e.key) + ": expected " +
                                    identifier_rule);
  if (!e.value.IsMap()) {
    report_.error(at(e.value.IsNull() ? e.key_node : e.value),
                  "expected a mapping for device " + q(e.key) + " (" + join(device_keys) + ")");
    return;
  }
  bool has_kind = false;
  const YAML::Node kind = e.value["kind"];
  if (kind && kind.IsScalar() && kind.Scalar() == "video") {
    d.set_kind("video");
    d.set_backend("gstreamer");
    auto& o = *d.mutable_options();
    o["sink"] = "null", o["width"] = "1280", o["height"] = "720", o["fps"] = "30";
    for (const auto& f : entries(e.value, "in video device " + q(e.key), &video_device_keys))
      video_device_field(d, f);
    video_device_check(d, e);
    return;
  }
  if (kind && kind.IsScalar() && kind.Scalar() == "midi") {
    midi_device(d, e);
    return;
  }
  for (const auto& f : entries(e.value, "in device " + q(e.key), &device_keys)) {
    has_kind = has_kind || f.key == "kind";
    device_field(d, f);
  }
  if (!has_kind)
    report_.error(at(e.value), "device " + q(e.key) + " has no 'kind': expected 'kind: audio'");
}

/// `NAME: { kind: midi, backend: auto|jack|alsa, port: SOURCE }`: a MIDI input; `port`, when
/// given, is the source port connected to it (a JACK or ALSA port name, or part of one).
void structure_pass::midi_device(v1::DeviceSpec& d, const entry& e) {
  d.set_kind("midi");
  d.set_backend("auto");
  d.set_sample_rate(0);
  d.set_block(0);
  d.set_channels(0);
  for (const auto& f : entries(e.value, "in MIDI device " + q(e.key), &midi_device_keys)) {
    const std::string what = q(f.key) + " of MIDI device " + q(d.name());
    if (f.key == "backend") {
      auto s = string_field(f, what);
      if (s && *s != "auto" && *s != "jack" && *s != "alsa")
        report_.error(at(f.value), "unknown MIDI backend " + q(*s) + " of device " +
                                     q(d.name()) + ": expected auto, jack or alsa");
      else if (s)
        d.set_backend(*s);
    } else if (f.key == "port") {
      if (auto s = string_field(f, what))
        (*d.mutable_options())["port"] = *s;
    }
  }
}

void structure_pass::device_field(v1::DeviceSpec& d, const entry& f) {
  const std::string what = q(f.key) + " of device " + q(d.name());
  if (f.key == "kind") {
    auto k = string_field(f, what);
    if (!k)
      return;
    d.set_kind(*k);
    if (*k != "audio")
      report_.error(at(f.value),
                    "unknown device kind " + q(*k) + ": expected audio, video or midi");
  } else if (f.key == "backend") {
    backend(d, f);
  } else if (f.key == "sample_rate") {
    if (auto x = int_field(f, what, 8000, 384000))
      d.set_sample_rate(static_cast<uint32_t>(*x));
  } else if (f.key == "block") {
    auto x = int_field(f, what, 16, 4096);
    if (x && (*x & (*x - 1)) != 0)
      report_.error(at(f.value), "block " + std::to_string(*x) + " is not a power of two: "
                                   "expected 16, 32, 64, 128, 256, 512, 1024, 2048 or 4096");
    else if (x)
      d.set_block(static_cast<uint32_t>(*x));
  } else if (f.key == "channels") {
    if (auto x = int_field(f, what, 1, 64))
      d.set_channels(static_cast<uint32_t>(*x));
  } else if (f.key == "priority") {
    if (auto x = int_field(f, what, 1, 95))
      (*d.mutable_options())["priority"] = std::to_string(*x);
  } else if (contains(device_option_keys, f.key)) {
    if (auto s = string_field(f, what))
      (*d.mutable_options())[f.key] = *s;
  }
}

void structure_pass::video_device_field(v1::DeviceSpec& d, const entry& f) {
  const std::string what = q(f.key) + " of video device " + q(d.name());
  auto& o = *d.mutable_options();
  auto choice = [&](const names& allowed) {
    auto s = string_field(f, what);
    if (s && !contains(allowed, *s))
      report_.error(at(f.value), "unknown " + f.key + " " + q(*s) + " of video device " +
                                   q(d.name()) + ": expected one of " + join(allowed));
    else if (s)
      o[f.key] = *s;
  };
  if (f.key == "sink" && f.value.IsNull() && is_null_literal(f.value)) {
    o["sink"] = "null";  // `sink: null` is YAML's null literal; it names the null sink here
  } else if (f.key == "sink") {
    choice(video_sinks);
  } else if (f.key == "codec") {
    choice(video_codecs);
  } else if (f.key == "width" || f.key == "height") {
    if (auto x = int_field(f, what, 16, 7680))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "fps") {
    if (auto x = int_field(f, what, 1, 240))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "port") {
    if (auto x = int_field(f, what, 1, 65535))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "bitrate") {
    if (auto x = int_field(f, what, 16, 100000))
      o[f.key] = std::to_string(*x);
  } else if (f.key == "path" || f.key == "host") {
    if (auto s = string_field(f, what))
      o[f.key] = *s;
  }
}

/// What each sink needs: a file path, an RTP destination.
void structure_pass::video_device_check(const v1::DeviceSpec& d, const entry& e) {
  const auto& o = d.options();
  const std::string& sink = o.at("sink");
  if (sink == "file" && !o.count("path"))
    report_.error(at(e.value), "video device " + q(d.name()) +
                                 " has sink 'file' but no 'path': expected path: out.mkv");
  if (sink == "rtp" && !o.count("port"))
    report_.error(at(e.value), "video device " + q(d.name()) +
                                 " has sink 'rtp' but no 'port': expected port: 5000 "
                                 "(and host, default 127.0.0.1)");
}

void structure_pass::backend(v1::DeviceSpec& d, const entry& f) {
  std::optional<std::string> b;
  if (f.value.IsNull() && is_null_literal(f.value))
    b = "null";
  else
    b = string_field(f, "'backend' of device " + q(d.name()));
  if (!b)
    return;
  if (!contains(backends, *b)) {
    report_.error(at(f.value), "unknown backend " + q(*b) + ": expected one of " + join(backends));
    return;
  }
  d.set_backend(*b);
}

void structure_pass::nodes(const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsSequence()) {
    report_.error(at(e.value), "expected a list of nodes for 'nodes' (- id: ..., type: ...)");
    return;
  }
  for (const auto& item : e.value) {
    if (item.IsMap())
      node(item);
    else
      report_.error(at(item), "expected a node as a mapping with 'id' and 'type'");
  }
}

void structure_pass::node(const YAML::Node& item) {
  v1::NodeSpec n;
  node_source s;
  s.item = s.id = s.type = s.device = s.host = at(item);
  // Messages name the node even when `id` comes after the key they are about.
  const YAML::Node id = item["id"];
  const std::string name = id && id.IsScalar() ? q(id.Scalar()) : "";
  const std::string of = name.empty() ? "" : " of node " + name;
  bool has_id = false, has_type = false;
  for (const auto& f : entries(item, name.empty() ? "in this node" : "in node " + name,
                               &node_keys)) {
    has_id = has_id || f.key == "id";
    has_type = has_type || f.key == "type";
    node_field(n, s, f, of);
  }
  if (!has_id)
    report_.error(s.item, "node has no 'id': expected 'id: <name>' (" +
                            std::string(identifier_rule) + ")");
  if (!has_type)
    report_.error(s.item, "node " + (n.id().empty() ? std::string() : q(n.id()) + " ") +
                            "has no 'type': expected one of " + join(types_));
  *spec_.add_nodes() = std::move(n);
  src_.nodes.push_back(std::move(s));
}

void structure_pass::node_field(v1::NodeSpec& n, node_source& s, const entry& f,
                                const std::string& of) {
  const std::string what = q(f.key) + of;
  if (f.key == "params") {
    if (f.value.IsMap())
      s.params = entries(f.value, "in the params" + of, nullptr);
    else if (!f.value.IsNull())
      report_.error(at(f.value), "expected a mapping of parameter name to value for " + what);
    return;
  }
  s.device_given = s.device_given || f.key == "device";
  const auto v = string_field(f, what);
  if (!v)
    return;
  const pos p = at(f.value);
  if (f.key == "id" && !is_identifier(*v)) {
    report_.error(p, "invalid node id " + q(*v) + ": expected " + identifier_rule);
  } else if (f.key == "id") {
    n.set_id(*v);
    s.id = p;
  } else if (f.key == "type") {
    n.set_type(*v);
    s.type = p;
  } else if (f.key == "device") {
    n.set_device(*v);
    s.device = p;
  } else if (f.key == "host") {
    n.set_host(*v);
    s.host = p;
  }
}

void structure_pass::edges(const entry& e) {
  if (e.value.IsNull())
    return;
  if (!e.value.IsSequence()) {
    report_.error(at(e.value), "expected a list of edges for 'edges' (- node.port -> node.port)");
    return;
  }
  for (const auto& item : e.value) {
    if (item.IsScalar())
      edge_text(item);
    else if (item.IsMap())
      edge_map(item);
    else
      report_.error(at(item), "expected an edge 'node.port -> node.port' or "
                              "{from: node.port, to: node.port}");
  }
}

void structure_pass::edge_text(const YAML::Node& item) {
  const std::string& text = item.Scalar();
  const auto arrow = text.find("->");
  const std::string expected = "expected 'node.port -> node.port'";
  if (arrow == std::string::npos || text.find("->", arrow + 2) != std::string::npos) {
    report_.error(at(item), "malformed edge " + q(text) + ": " + expected);
    return;
  }
  auto from = parse_endpoint(std::string_view(text).substr(0, arrow));
  auto to = parse_endpoint(std::string_view(text).substr(arrow + 2));
  if (!from || !to) {
    const auto side = from ? std::string_view(text).substr(arrow + 2)
                           : std::string_view(text).substr(0, arrow);
    const auto bad = trim(side);
    report_.error(at(item), "malformed edge " + q(text) + ": " + q(bad) +
                              " is not 'node.port' (" + expected + ")");
    return;
  }
  add_edge(*from, *to, {at(item), at(item), at(item)});
}

void structure_pass::edge_map(const YAML::Node& item) {
  edge_source s{at(item), at(item), at(item)};
  std::optional<endpoint> from, to;
  for (const auto& f : entries(item, "in edge", &edge_keys)) {
    auto text = string_field(f, q(f.key) + " of edge");
    if (!text)
      return;
    auto ep = parse_endpoint(*text);
    if (!ep) {
      report_.error(at(f.value), "malformed edge endpoint " + q(*text) + ": expected 'node.port'");
      return;
    }
    (f.key == "from" ? from : to) = ep;
    (f.key == "from" ? s.from : s.to) = at(f.value);
  }
  if (!from || !to) {
    report_.error(s.item, std::string("edge has no '") + (from ? "to" : "from") +
                            "': expected {from: node.port, to: node.port}");
    return;
  }
  add_edge(*from, *to, s);
}

void structure_pass::add_edge(const endpoint& from, const endpoint& to, edge_source s) {
  auto& e = *spec_.add_edges();
  e.set_from_node(from.node);
  e.set_from_port(from.port);
  e.set_to_node(to.node);
  e.set_to_port(to.port);
  src_.edges.push_back(s);
}

// ---------------------------------------------------------------------------------------------
// Pass 2, semantics: node types, parameters, placement, edge resolution, cycles and clock
// domains. Works on the spec and the source map only.

class semantic_pass {
public:
  semantic_pass(const node_registry& reg, reporter& r, v1::GraphSpec& spec,
                const graph_source& src)
    : reg_(reg), report_(r), spec_(spec), src_(src) {}

  void run() {
    check_nodes();
    check_edges();
    check_cycles();
    check_clock_domains();
  }

private:
  struct node_state {
    const node_info* info = nullptr;
    /// False when the type or a port-count parameter is invalid: edges to the node are not
    /// judged then, which would only repeat the node's own error.
    bool ports_known = false;
    std::vector<resolved_port> ports;
  };
  /// A resolved edge end: node index and port.
  struct port_ref {
    size_t node;
    const resolved_port* port;
  };
  /// A valid audio edge between node indices, with the index of its EdgeSpec.
  struct link {
    size_t from, to, edge;
  };

  std::string label(size_t i) const;
  void check_nodes();
  void check_id(size_t i);
  void check_type(size_t i);
  void check_params(size_t i);
  bool check_param(size_t i, const entry& e);
  void check_placement(size_t i);
  void check_device_kind(size_t i, const node_info& info);
  void check_edges();
  bool is_duplicate(size_t e, std::map<std::string, size_t>& seen);
  std::optional<port_ref> resolve_end(size_t e, bool from_side);
  std::string unknown_port(size_t node, const std::string& port) const;
  void check_cycles();
  std::vector<size_t> path(size_t from, size_t to, const std::vector<link>& links) const;
  void check_clock_domains();

  const node_registry& reg_;
  reporter& report_;
  v1::GraphSpec& spec_;
  const graph_source& src_;
  std::vector<node_state> nodes_;
  std::map<std::string, size_t> ids_;
  std::vector<link> links_;
};

std::string semantic_pass::label(size_t i) const {
  const auto& n = spec_.nodes(static_cast<int>(i));
  return "node " + q(n.id()) + (nodes_[i].info ? " (" + n.type() + ")" : "");
}

void semantic_pass::check_nodes() {
  nodes_.resize(static_cast<size_t>(spec_.nodes_size()));
  for (size_t i = 0; i < nodes_.size(); ++i) {
    check_id(i);
    check_type(i);
    check_params(i);
    check_placement(i);
  }
}

void semantic_pass::check_id(size_t i) {
  const auto& id = spec_.nodes(static_cast<int>(i)).id();
  if (id.empty())
    return;
  auto [first, fresh] = ids_.emplace(id, i);
  if (!fresh)
    report_.error(src_.nodes[i].id, "duplicate node id " + q(id) + ": already declared at line " +
                                      std::to_string(src_.nodes[first->second].id.line));
}

void semantic_pass::check_type(size_t i) {
  const auto& type = spec_.nodes(static_cast<int>(i)).type();
  if (type.empty())
    return;
  nodes_[i].info = reg_.find(type);
  if (nodes_[i].info)
    return;
  names types;
  for (const auto& t : reg_.all())
    types.push_back(t.type);
  report_.error(src_.nodes[i].type,
                "unknown node type " + q(type) + ": expected one of " + join(types));
}

void semantic_pass::check_params(size_t i) {
  auto& st = nodes_[i];
  if (!st.info)
    return;
  st.ports_known = true;
  for (const auto& e : src_.nodes[i].params) {
    if (check_param(i, e))
      continue;
    for (const auto& p : st.info->ports)
      st.ports_known = st.ports_known && p.repeat_param != e.key;
  }
  if (st.ports_known)
    st.ports = resolve_ports(*st.info, to_param_values(*st.info, spec_.nodes(static_cast<int>(i))));
}

/// Types one parameter, judges it with check_value and stores it when accepted.
bool semantic_pass::check_param(size_t i, const entry& e) {
  const node_info& info = *nodes_[i].info;
  const std::string what = "parameter " + q(e.key) + " of " + label(i);
  const int idx = info.param_index(e.key);
  if (idx < 0) {
    names known;
    for (const auto& p : info.params)
      known.push_back(p.name);
    report_.error(at(e.key_node), "unknown " + what + ": expected one of " + join(known));
    return false;
  }
  const param_info& p = info.params[static_cast<size_t>(idx)];
  if (e.value.IsNull()) {
    report_.error(at(e.key_node), "missing value for " + what + ": expected " + expected(p));
    return false;
  }
  if (!e.value.IsScalar()) {
    report_.error(at(e.value), what + ": expected " + expected(p) + ", not a list or mapping");
    return false;
  }
  const v1::Value v = param_value(p, e.value);
  if (auto why = check_value(p, v)) {
    report_.error(at(e.value), what + ": " + *why + ", got " + describe(v));
    return false;
  }
  (*spec_.mutable_nodes(static_cast<int>(i))->mutable_params())[e.key] = normalized(p, v);
  return true;
}

void semantic_pass::check_placement(size_t i) {
  const auto& n = spec_.nodes(static_cast<int>(i));
  const auto& s = src_.nodes[i];
  const node_info* info = nodes_[i].info;
  names devices;
  for (const auto& d : spec_.devices())
    devices.push_back(d.name());
  if (!n.device().empty()) {
    if (!contains(devices, n.device()))
      report_.error(s.device, "unknown device " + q(n.device()) + ": expected one of " +
                                (devices.empty() ? "the keys of 'devices' (none declared)"
                                                 : join(devices)));
    else if (info && !info->needs_device)
      report_.error(s.device, "node type " + info->type + " does not play on a device: "
                              "expected no 'device' (only types such as audio.output take one)");
    else if (info)
      check_device_kind(i, *info);
  } else if (info && info->needs_device && !s.device_given) {
    report_.error(s.item, label(i) + " needs a device: expected 'device: <name>' naming one of " +
                            (devices.empty() ? "the keys of 'devices' (none declared)"
                                             : join(devices)));
  }
  if (n.host().empty() || spec_.hosts().count(n.host()) > 0)
    return;
  names hosts;
  for (const auto& [name, addr] : spec_.hosts())
    hosts.push_back(name);
  std::sort(hosts.begin(), hosts.end());
  report_.error(s.host, "unknown host " + q(n.host()) + ": expected one of " +
                          (hosts.empty() ? "the keys of 'hosts' (none declared)" : join(hosts)));
}

/// A node playing video needs a video device, one playing audio an audio device.
void semantic_pass::check_device_kind(size_t i, const node_info& info) {
  const auto& n = spec_.nodes(static_cast<int>(i));
  bool video = false;
  for (const auto& p : info.ports)
    video = video || p.kind == media_kind::video;
  const std::string wanted = !info.device_kind.empty() ? info.device_kind
                             : video                   ? "video"
                                                       : "audio";
  for (const auto& d : spec_.devices())
    if (d.name() == n.device() && d.kind() != wanted && !d.kind().empty())
      report_.error(src_.nodes[i].device, "device " + q(d.name()) + " is " +
                                            (d.kind() == "audio"   ? "an audio"
                                             : d.kind() == "midi" ? "a MIDI"
                                                                  : "a video") +
                                            " device but " + label(i) + " plays " + wanted +
                                            ": expected a device with kind: " + wanted);
}

void semantic_pass::check_edges() {
  std::map<std::string, size_t> seen;
  for (size_t e = 0; e < static_cast<size_t>(spec_.edges_size()); ++e) {
    if (is_duplicate(e, seen))
      continue;
    auto from = resolve_end(e, true);
    auto to = resolve_end(e, false);
    if (!from || !to)
      continue;
    if (from->port->kind != to->port->kind) {
      auto kind = [](media_kind k) {
        return k == media_kind::audio ? "audio" : k == media_kind::video ? "video" : "control";
      };
      const auto& ed = spec_.edges(static_cast<int>(e));
      report_.error(src_.edges[e].item,
                    "media kind mismatch: " + ed.from_node() + "." + ed.from_port() + " is " +
                      kind(from->port->kind) + " but " + ed.to_node() + "." + ed.to_port() +
                      " is " + kind(to->port->kind) + ": expected ports of the same kind");
      continue;
    }
    if (from->port->kind == media_kind::audio)
      links_.push_back({from->node, to->node, e});
  }
}

bool semantic_pass::is_duplicate(size_t e, std::map<std::string, size_t>& seen) {
  const auto& ed = spec_.edges(static_cast<int>(e));
  const std::string text =
    ed.from_node() + "." + ed.from_port() + " -> " + ed.to_node() + "." + ed.to_port();
  auto [first, fresh] = seen.emplace(text, e);
  if (!fresh)
    report_.error(src_.edges[e].item, "duplicate edge " + text + " (first at line " +
                                        std::to_string(src_.edges[first->second].item.line) +
                                        ")");
  return !fresh;
}

std::optional<semantic_pass::port_ref> semantic_pass::resolve_end(size_t e, bool from_side) {
  const auto& ed = spec_.edges(static_cast<int>(e));
  const std::string& id = from_side ? ed.from_node() : ed.to_node();
  const std::string& port = from_side ? ed.from_port() : ed.to_port();
  const pos p = from_side ? src_.edges[e].from : src_.edges[e].to;
  auto it = ids_.find(id);
  if (it == ids_.end()) {
    names ids;
    for (const auto& n : spec_.nodes())
      if (!n.id().empty())
        ids.push_back(n.id());
    report_.error(p, "dangling edge: no node " + q(id) + ": expected one of " + join(ids));
    return std::nullopt;
  }
  const auto& st = nodes_[it->second];
  if (!st.ports_known)
    return std::nullopt;
  for (const auto& rp : st.ports) {
    if (rp.name != port)
      continue;
    const port_dir want = from_side ? port_dir::out : port_dir::in;
    if (rp.dir == want)
      return port_ref{it->second, &rp};
    names others;
    for (const auto& o : st.ports)
      if (o.dir == want)
        others.push_back(o.name);
    report_.error(p, id + "." + port + " is an " + (from_side ? "input" : "output") + ": the " +
                       (from_side ? "left side of an edge must be an output"
                                  : "right side of an edge must be an input") +
                       " (" + id + " has " + (from_side ? "outputs: " : "inputs: ") +
                       join(others) + ")");
    return std::nullopt;
  }
  report_.error(p, unknown_port(it->second, port));
  return std::nullopt;
}

/// "node 'mix' (audio.mixer) has no port 'in4': expected one of in1, in2, in3, out", with a
/// hint when the name belongs to a port family whose size comes from a parameter.
std::string semantic_pass::unknown_port(size_t node, const std::string& port) const {
  const auto& st = nodes_[node];
  names ports;
  for (const auto& rp : st.ports)
    ports.push_back(rp.name);
  std::string msg = label(node) + " has no port " + q(port) + ": expected one of " + join(ports);
  for (const auto& p : st.info->ports) {
    const auto suffix = std::string_view(port).substr(std::min(port.size(), p.name.size()));
    if (p.repeat_param.empty() || !port.starts_with(p.name) || suffix.empty() ||
        suffix.find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    const int idx = st.info->param_index(p.repeat_param);
    const auto values = to_param_values(*st.info, spec_.nodes(static_cast<int>(node)));
    const long n = idx < 0 ? 0 : std::lround(values.numbers[static_cast<size_t>(idx)]);
    msg += " (" + p.repeat_param + " = " + std::to_string(n) + " gives " + p.name + "1.." +
           p.name + std::to_string(n) + ")";
  }
  return msg;
}

/// Edges are added in source order; an edge whose target already reaches its source closes a
/// cycle and is reported there (and left out, so each cycle is reported once).
void semantic_pass::check_cycles() {
  std::vector<link> acyclic;
  for (const auto& l : links_) {
    auto back = path(l.to, l.from, acyclic);
    if (back.empty() && l.to != l.from) {
      acyclic.push_back(l);
      continue;
    }
    std::string cycle = spec_.nodes(static_cast<int>(l.from)).id();
    cycle += " -> " + spec_.nodes(static_cast<int>(l.to)).id();
    for (auto n : back)
      cycle += " -> " + spec_.nodes(static_cast<int>(n)).id();
    report_.error(src_.edges[l.edge].item,
                  "cycle among audio edges: " + cycle +
                    ": expected audio to flow one way within a clock domain");
  }
}

/// Nodes after `from` on a path from `from` to `to` over `links` (breadth first, so the
/// shortest); empty when there is none or when from == to.
std::vector<size_t> semantic_pass::path(size_t from, size_t to,
                                        const std::vector<link>& links) const {
  if (from == to)
    return {};
  std::vector<long> parent(nodes_.size(), -1);
  std::vector<size_t> queue{from};
  parent[from] = static_cast<long>(from);
  for (size_t q_i = 0; q_i < queue.size() && parent[to] < 0; ++q_i)
    for (const auto& l : links)
      if (l.from == queue[q_i] && parent[l.to] < 0) {
        parent[l.to] = static_cast<long>(l.from);
        queue.push_back(l.to);
      }
  if (parent[to] < 0)
    return {};
  std::vector<size_t> out;
  for (size_t n = to; n != from; n = static_cast<size_t>(parent[n]))
    out.push_back(n);
  std::reverse(out.begin(), out.end());
  return out;
}

/// Nodes joined by audio edges share one clock, so at most one device may drive them.
/// Components grow edge by edge in source order; the edge that would join two devices is the
/// one reported.
void semantic_pass::check_clock_domains() {
  std::vector<size_t> root(nodes_.size());
  std::vector<long> bound_by(nodes_.size(), -1);  // per root: the node binding its device
  names devices;
  for (const auto& d : spec_.devices())
    devices.push_back(d.name());
  for (size_t i = 0; i < root.size(); ++i) {
    root[i] = i;
    const auto& n = spec_.nodes(static_cast<int>(i));
    if (nodes_[i].info && nodes_[i].info->needs_device && contains(devices, n.device()))
      bound_by[i] = static_cast<long>(i);
  }
  auto find = [&](size_t x) {
    while (root[x] != x)
      x = root[x] = root[root[x]];
    return x;
  };
  for (const auto& l : links_) {
    const size_t a = find(l.from), b = find(l.to);
    if (a == b)
      continue;
    if (bound_by[a] >= 0 && bound_by[b] >= 0) {
      const auto& na = spec_.nodes(static_cast<int>(bound_by[a]));
      const auto& nb = spec_.nodes(static_cast<int>(bound_by[b]));
      if (na.device() != nb.device()) {
        report_.error(src_.edges[l.edge].item,
                      "edge crosses clock domains: it joins nodes played by " + na.id() +
                        " on device " + q(na.device()) + " with nodes played by " + nb.id() +
                        " on device " + q(nb.device()) +
                        ": expected one device per connected audio graph (cross-domain "
                        "bridges come later)");
        continue;
      }
    }
    root[b] = a;
    if (bound_by[a] < 0)
      bound_by[a] = bound_by[b];
  }
}

// ---------------------------------------------------------------------------------------------

/// Where each document of a stream starts, without building nodes.
class document_starts final : public YAML::EventHandler {
public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& m) override { marks.push_back(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

/// Checks that `text` holds exactly one document. Not YAML::LoadAll: on a stray ',' yaml-cpp 0.7
/// yields empty documents forever without consuming input, allocating until the process dies
/// (jbeder/yaml-cpp#1040, fixed upstream in #1319); a document that does not advance stops here.
bool one_document(std::string_view text, reporter& report) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  document_starts docs;
  while (parser.HandleNextDocument(docs)) {
    const auto n = docs.marks.size();
    if (n >= 2 && docs.marks[n - 1].pos <= docs.marks[n - 2].pos) {
      const auto& m = docs.marks[n - 1];
      const auto at_mark = static_cast<size_t>(std::max(m.pos, 0));
      const std::string what = at_mark < text.size() ? q(text.substr(at_mark, 1)) : "end of file";
      report.error(at(m), "invalid YAML: unexpected " + what);
      return false;
    }
  }
  if (docs.marks.empty()) {
    report.error({1, 1}, "the file is empty: expected a mapping with 'version: 1' and 'nodes'");
    return false;
  }
  if (docs.marks.size() > 1)
    report.error(at(docs.marks[1]), "expected one YAML document, found " +
                                      std::to_string(docs.marks.size()) +
                                      " (only the first is read)");
  return true;
}

void load_documents(std::string_view text, const node_registry& reg, reporter& report,
                    graph_load_result& result) {
  if (!one_document(text, report))
    return;
  graph_source src;
  structure_pass(text, reg, report, result.spec, src).run(YAML::Load(std::string(text)));
  semantic_pass(reg, report, result.spec, src).run();
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
