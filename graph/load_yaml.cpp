// The document as the loader's passes read it: exactly one YAML document, positions, mapping
// entries, fields and scalars typed by the YAML 1.2 core schema.

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "graph/load_context.hpp"

namespace sg::graph_load {

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
  std::string quoted;
  quoted.reserve(s.size() + 2);
  quoted += '\'';
  quoted += s;
  quoted += '\'';
  return quoted;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool is_identifier(std::string_view s) {
  auto ch = [](char c) { return static_cast<unsigned char>(c); };
  if (s.empty() || !(std::isalpha(ch(s[0])) || s[0] == '_'))
    return false;
  return std::all_of(s.begin() + 1, s.end(),
                     [&](char c) { return std::isalnum(ch(c)) || c == '_' || c == '-'; });
}

const char* const identifier_rule = "letters, digits, '_' or '-', starting with a letter or '_'";

// ---------------------------------------------------------------------------------------------
// Positions

pos at(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0)
    return {1, 1};
  return {static_cast<uint32_t>(m.line + 1), static_cast<uint32_t>(m.column + 1)};
}

pos at(const YAML::Node& n) {
  return at(n.Mark());
}

// ---------------------------------------------------------------------------------------------
// One document

namespace {

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

} // namespace

/// Not YAML::LoadAll: on a stray ',' yaml-cpp 0.7 yields empty documents forever without
/// consuming input, allocating until the process dies (jbeder/yaml-cpp#1040, fixed upstream in
/// #1319); a document that does not advance stops here.
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

// ---------------------------------------------------------------------------------------------
// Mappings and fields

std::vector<entry> entries(context& c, const YAML::Node& map, const std::string& where,
                           const names* allowed) {
  std::vector<entry> out;
  std::map<std::string, pos> seen;
  for (const auto& kv : map) {
    // A copy: yaml-cpp's iterator hands out a temporary pair, so a reference would dangle.
    const YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      c.report.error(at(k), "expected a name as key " + where);
      continue;
    }
    const std::string& key = k.Scalar();
    if (auto [first, fresh] = seen.emplace(key, at(k)); !fresh) {
      c.report.error(at(k), "duplicate key " + q(key) + " " + where + " (first at line " +
                              std::to_string(first->second.line) + ")");
      continue;
    }
    if (allowed && !contains(*allowed, key)) {
      c.report.error(at(k),
                     "unknown key " + q(key) + " " + where + ": expected one of " + join(*allowed));
      continue;
    }
    out.push_back({key, k, kv.second});
  }
  return out;
}

std::optional<std::string> string_field(context& c, const entry& e, const std::string& what) {
  if (e.value.IsNull()) {
    c.report.error(at(e.key_node), "missing value for " + what + ": expected a string");
    return std::nullopt;
  }
  if (!e.value.IsScalar()) {
    c.report.error(at(e.value), "expected a string for " + what + ", not a list or mapping");
    return std::nullopt;
  }
  return e.value.Scalar();
}

std::optional<int64_t> int_field(context& c, const entry& e, const std::string& what, int64_t min,
                                 int64_t max) {
  const std::string expected =
    "expected an integer " + std::to_string(min) + ".." + std::to_string(max) + " for " + what;
  if (e.value.IsNull()) {
    c.report.error(at(e.key_node), "missing value: " + expected);
    return std::nullopt;
  }
  std::optional<int64_t> x;
  if (e.value.IsScalar() && !is_quoted(e.value))
    x = parse_int(e.value.Scalar());
  if (!x || *x < min || *x > max) {
    const std::string got = !e.value.IsScalar()  ? "a list or mapping"
                            : is_quoted(e.value) ? "the string \"" + e.value.Scalar() + "\""
                                                 : q(e.value.Scalar());
    c.report.error(at(e.value), expected + ", got " + got);
    return std::nullopt;
  }
  return x;
}

/// yaml-cpp turns a plain `null` or `~` into a null node and drops the text; the source at the
/// node's mark tells "backend: null" (the null backend) from "backend:" (no value).
bool is_null_literal(const context& c, const YAML::Node& n) {
  const auto m = n.Mark();
  if (m.is_null() || m.pos < 0 || static_cast<size_t>(m.pos) >= c.text.size())
    return false;
  auto rest = c.text.substr(static_cast<size_t>(m.pos));
  for (std::string_view lit : {"null", "Null", "NULL", "~"}) {
    if (!rest.starts_with(lit))
      continue;
    auto after = rest.substr(lit.size());
    if (after.empty() || std::string_view(" \t\r\n,}]#").find(after[0]) != std::string_view::npos)
      return true;
  }
  return false;
}

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

namespace {

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

} // namespace

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

} // namespace sg::graph_load
