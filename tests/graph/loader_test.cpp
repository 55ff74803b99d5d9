// Valid graphs load into the expected spec; the loader types values by declared parameter type,
// never throws, and checks what the malformed/ files cannot reach with the built-in node types
// (bool, enum and string parameters; video ports).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <google/protobuf/util/message_differencer.h>
#include <yaml-cpp/yaml.h>

#include "graph/loader.hpp"
#include "graph/params.hpp"
#include "nodes/core/describe.hpp"

namespace sg {
namespace {

using kind = v1::Value::KindCase;

const std::string hello_path = std::string(SG_EXAMPLES_DIR) + "/hello.yaml";

std::string errors_text(const graph_load_result& r) {
  std::string s;
  for (const auto& d : r.errors)
    s += "  " + format_diagnostic(d) + "\n";
  return s;
}

const v1::NodeSpec* find_node(const v1::GraphSpec& g, const std::string& id) {
  for (const auto& n : g.nodes())
    if (n.id() == id)
      return &n;
  return nullptr;
}

const v1::Value& param(const v1::GraphSpec& g, const std::string& id, const std::string& name) {
  static const v1::Value none;
  const auto* n = find_node(g, id);
  if (!n || !n->params().contains(name))
    return none;
  return n->params().at(name);
}

// ---------------------------------------------------------------------------------------------
// examples/hello.yaml

TEST(hello_example, loads_without_errors) {
  const auto r = load_graph_file(hello_path);
  EXPECT_TRUE(r.ok()) << errors_text(r);
}

TEST(hello_example, has_the_declared_device) {
  const auto g = load_graph_file(hello_path).spec;
  EXPECT_EQ(g.version(), 1u);
  EXPECT_EQ(g.name(), "hello");
  EXPECT_TRUE(g.hosts().empty());
  ASSERT_EQ(g.devices_size(), 1);
  const auto& d = g.devices(0);
  EXPECT_EQ(d.name(), "main");
  EXPECT_EQ(d.kind(), "audio");
  EXPECT_EQ(d.backend(), "auto");
  EXPECT_EQ(d.sample_rate(), 48000u);
  EXPECT_EQ(d.block(), 128u);
  EXPECT_EQ(d.channels(), 2u);
  EXPECT_TRUE(d.options().empty());
}

TEST(hello_example, has_nodes_with_values_of_the_declared_types) {
  const auto g = load_graph_file(hello_path).spec;
  ASSERT_EQ(g.nodes_size(), 4);
  const std::vector<std::pair<std::string, std::string>> ids = {{"osc", "audio.sine"},
                                                                 {"amp", "audio.gain"},
                                                                 {"meter", "audio.meter"},
                                                                 {"out", "audio.output"}};
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(g.nodes(static_cast<int>(i)).id(), ids[i].first);
    EXPECT_EQ(g.nodes(static_cast<int>(i)).type(), ids[i].second);
  }
  // `frequency: 440` is an int literal; the declared type (double) decides the Value's kind.
  EXPECT_EQ(param(g, "osc", "frequency").kind_case(), kind::kDoubleValue);
  EXPECT_EQ(param(g, "osc", "frequency").double_value(), 440.0);
  EXPECT_EQ(param(g, "osc", "level").kind_case(), kind::kDoubleValue);
  EXPECT_EQ(param(g, "osc", "level").double_value(), -12.0);
  EXPECT_EQ(param(g, "amp", "level").double_value(), -6.0);
  EXPECT_TRUE(find_node(g, "meter")->params().empty());
  EXPECT_EQ(find_node(g, "out")->device(), "main");
  EXPECT_EQ(find_node(g, "osc")->device(), "");
  EXPECT_EQ(find_node(g, "osc")->host(), "");
}

TEST(hello_example, has_edges_in_file_order) {
  const auto g = load_graph_file(hello_path).spec;
  ASSERT_EQ(g.edges_size(), 3);
  const auto text = [](const v1::EdgeSpec& e) {
    return e.from_node() + "." + e.from_port() + " -> " + e.to_node() + "." + e.to_port();
  };
  EXPECT_EQ(text(g.edges(0)), "osc.out -> amp.in");
  EXPECT_EQ(text(g.edges(1)), "amp.out -> out.in");
  EXPECT_EQ(text(g.edges(2)), "amp.out -> meter.in");
}

// ---------------------------------------------------------------------------------------------
// Round trip: spec → YAML → spec gives the same spec.

void emit_value(YAML::Emitter& out, const v1::Value& v) {
  switch (v.kind_case()) {
    case kind::kDoubleValue: out << v.double_value(); break;
    case kind::kIntValue: out << v.int_value(); break;
    case kind::kBoolValue: out << v.bool_value(); break;
    case kind::kStringValue: out << YAML::DoubleQuoted << v.string_value(); break;
    case kind::kEnumValue: out << v.enum_value(); break;
    default: out << YAML::Null; break;
  }
}

std::string to_yaml(const v1::GraphSpec& g) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "version" << YAML::Value << g.version();
  out << YAML::Key << "name" << YAML::Value << g.name();
  out << YAML::Key << "hosts" << YAML::Value << YAML::BeginMap;
  for (const auto& [name, addr] : g.hosts())
    out << YAML::Key << name << YAML::Value << addr;
  out << YAML::EndMap << YAML::Key << "devices" << YAML::Value << YAML::BeginMap;
  for (const auto& d : g.devices()) {
    out << YAML::Key << d.name() << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "kind" << YAML::Value << d.kind();
    out << YAML::Key << "backend" << YAML::Value << d.backend();
    out << YAML::Key << "sample_rate" << YAML::Value << d.sample_rate();
    out << YAML::Key << "block" << YAML::Value << d.block();
    out << YAML::Key << "channels" << YAML::Value << d.channels();
    for (const auto& [k, v] : d.options())
      out << YAML::Key << k << YAML::Value << v;
    out << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::Key << "nodes" << YAML::Value << YAML::BeginSeq;
  for (const auto& n : g.nodes()) {
    out << YAML::BeginMap << YAML::Key << "id" << YAML::Value << n.id();
    out << YAML::Key << "type" << YAML::Value << n.type();
    out << YAML::Key << "params" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, v] : n.params()) {
      out << YAML::Key << k << YAML::Value;
      emit_value(out, v);
    }
    out << YAML::EndMap;
    if (!n.device().empty())
      out << YAML::Key << "device" << YAML::Value << n.device();
    if (!n.host().empty())
      out << YAML::Key << "host" << YAML::Value << n.host();
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::Key << "edges" << YAML::Value << YAML::BeginSeq;
  for (const auto& e : g.edges())
    out << e.from_node() + "." + e.from_port() + " -> " + e.to_node() + "." + e.to_port();
  out << YAML::EndSeq << YAML::EndMap;
  return out.c_str();
}

bool same(const v1::GraphSpec& a, const v1::GraphSpec& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

TEST(load_graph_string, reads_the_same_spec_as_load_graph_file) {
  std::ifstream in(hello_path);
  std::stringstream text;
  text << in.rdbuf();
  const auto from_file = load_graph_file(hello_path);
  const auto from_string = load_graph_string(text.str(), hello_path);
  EXPECT_TRUE(from_string.ok()) << errors_text(from_string);
  EXPECT_TRUE(same(from_file.spec, from_string.spec));
}

TEST(load_graph_string, round_trips_through_yaml) {
  const auto first = load_graph_file(hello_path);
  ASSERT_TRUE(first.ok()) << errors_text(first);
  const std::string yaml = to_yaml(first.spec);
  const auto second = load_graph_string(yaml, "emitted.yaml");
  ASSERT_TRUE(second.ok()) << errors_text(second) << yaml;
  EXPECT_TRUE(same(first.spec, second.spec)) << yaml;
}

TEST(load_graph_string, round_trips_hosts_options_and_every_value_kind) {
  node_registry reg;
  node_info knobs;
  knobs.type = "test.knobs";
  knobs.ports = {{"out", port_dir::out, media_kind::audio, 1, {}}};
  knobs.params = {describe::real("gain", -1, 1, 0, "", ""),
                  describe::integer("count", 1, 8, 1, "", ""),
                  describe::boolean("on", false, ""),
                  describe::text("label", "", "").applied_live(),
                  describe::choice("shape", {"sine", "square"}, 0, "")};
  reg.add(knobs);
  const auto first = load_graph_string(R"(
version: 1
name: knobs
hosts: { rack: "10.0.0.2:7400" }
devices:
  file: { kind: audio, backend: null, path: /tmp/out.wav, channels: 1 }
nodes:
  - id: k
    host: rack
    type: test.knobs
    params: { gain: 0.25, count: 3, on: true, label: "7", shape: square }
)",
                                       "knobs.yaml", reg);
  ASSERT_TRUE(first.ok()) << errors_text(first);
  const auto second = load_graph_string(to_yaml(first.spec), "emitted.yaml", reg);
  ASSERT_TRUE(second.ok()) << errors_text(second);
  EXPECT_TRUE(same(first.spec, second.spec)) << to_yaml(first.spec);
}

// ---------------------------------------------------------------------------------------------
// Devices

TEST(devices, take_defaults_for_absent_fields) {
  const auto r = load_graph_string("version: 1\ndevices: { main: { kind: audio } }\nnodes: []\n",
                                   "d.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.spec.devices_size(), 1);
  const auto& d = r.spec.devices(0);
  EXPECT_EQ(d.backend(), "auto");
  EXPECT_EQ(d.sample_rate(), 48000u);
  EXPECT_EQ(d.block(), 128u);
  EXPECT_EQ(d.channels(), 2u);
}

TEST(devices, put_backend_specific_keys_into_options) {
  const auto r = load_graph_string(R"(
version: 1
devices:
  file: { kind: audio, backend: null, path: out.wav }
  card: { kind: audio, backend: alsa, device: "hw:1", sample_rate: 96000, block: 64, channels: 8 }
  studio: { kind: audio, backend: jack, client_name: sg }
nodes: []
)",
                                   "d.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.spec.devices_size(), 3);
  // A plain `null` is YAML's null; the loader reads it back as the null backend's name.
  EXPECT_EQ(r.spec.devices(0).backend(), "null");
  EXPECT_EQ(r.spec.devices(0).options().at("path"), "out.wav");
  EXPECT_EQ(r.spec.devices(1).backend(), "alsa");
  EXPECT_EQ(r.spec.devices(1).options().at("device"), "hw:1");
  EXPECT_EQ(r.spec.devices(1).sample_rate(), 96000u);
  EXPECT_EQ(r.spec.devices(1).block(), 64u);
  EXPECT_EQ(r.spec.devices(1).channels(), 8u);
  EXPECT_EQ(r.spec.devices(2).options().at("client_name"), "sg");
}

TEST(devices, report_an_empty_backend_as_missing) {
  const auto r = load_graph_string("version: 1\ndevices:\n  main:\n    kind: audio\n    backend:\n"
                                   "nodes: []\n",
                                   "d.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line(), 5u);
  EXPECT_NE(r.errors[0].message().find("missing value for 'backend'"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Nodes and edges

TEST(mixer, with_three_inputs_validates) {
  const auto r = load_graph_string(R"(
version: 1
devices:
  main: { kind: audio }
nodes:
  - { id: a, type: audio.sine, params: { frequency: 220 } }
  - { id: b, type: audio.sine, params: { frequency: 330 } }
  - { id: c, type: audio.sine, params: { frequency: 440 } }
  - { id: mix, type: audio.mixer, params: { inputs: 3, level: -6, level3: -12 } }
  - { id: out, type: audio.output, device: main }
edges:
  - a.out -> mix.in1
  - b.out -> mix.in2
  - { from: c.out, to: mix.in3 }
  - mix.out -> out.in
)",
                                   "mixer.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(param(r.spec, "mix", "inputs").kind_case(), kind::kIntValue);
  EXPECT_EQ(param(r.spec, "mix", "inputs").int_value(), 3);
  EXPECT_EQ(param(r.spec, "mix", "level3").double_value(), -12.0);
  ASSERT_EQ(r.spec.edges_size(), 4);
  EXPECT_EQ(r.spec.edges(2).from_node(), "c");
  EXPECT_EQ(r.spec.edges(2).to_port(), "in3");
}

TEST(edges, tolerate_whitespace_around_the_arrow) {
  const auto r = load_graph_string(R"(
version: 1
nodes:
  - { id: osc, type: audio.sine }
  - { id: a, type: audio.gain }
  - { id: b, type: audio.gain }
  - { id: my-meter_2, type: audio.meter }
edges:
  - osc.out->a.in
  - "a.out   ->b.in"
  - b.out ->   my-meter_2.in
)",
                                   "ws.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.spec.edges_size(), 3);
  EXPECT_EQ(r.spec.edges(1).from_node(), "a");
  EXPECT_EQ(r.spec.edges(1).to_node(), "b");
  EXPECT_EQ(r.spec.edges(2).to_node(), "my-meter_2");
}

TEST(edges, several_sources_may_feed_one_input_and_one_device_may_take_several_outputs) {
  const auto r = load_graph_string(R"(
version: 1
devices: { main: { kind: audio }, phones: { kind: audio } }
nodes:
  - { id: a, type: audio.sine }
  - { id: b, type: audio.sine }
  - { id: left, type: audio.output, device: main }
  - { id: right, type: audio.output, device: main }
  - { id: c, type: audio.sine }
  - { id: cue, type: audio.output, device: phones }
edges:
  - a.out -> left.in
  - b.out -> left.in
  - b.out -> right.in
  - c.out -> cue.in
)",
                                   "domains.yaml");
  EXPECT_TRUE(r.ok()) << errors_text(r);
}

TEST(nodes, name_defaults_to_the_file_stem) {
  const auto r = load_graph_string("version: 1\nnodes: []\n", "/some/dir/my-graph.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.spec.name(), "my-graph");
}

TEST(nodes, keep_only_accepted_parameter_values) {
  const auto r = load_graph_string(
    "version: 1\nnodes:\n  - { id: osc, type: audio.sine, params: { frequency: 0, level: -3 } }\n",
    "p.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  ASSERT_EQ(r.spec.nodes_size(), 1);
  EXPECT_FALSE(r.spec.nodes(0).params().contains("frequency"));
  EXPECT_EQ(param(r.spec, "osc", "level").double_value(), -3.0);
}

TEST(nodes, with_a_bad_port_count_do_not_cascade_into_edge_errors) {
  const auto r = load_graph_string(R"(
version: 1
nodes:
  - { id: osc, type: audio.sine }
  - { id: mix, type: audio.mixer, params: { inputs: 40 } }
edges:
  - osc.out -> mix.in7
)",
                                   "cascade.yaml");
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_NE(r.errors[0].message().find("'inputs'"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------
// Parameter kinds the built-in types do not use, and non-audio ports

node_registry test_registry() {
  node_registry reg;
  for (const auto& t : node_registry::builtin().all())
    reg.add(t);
  node_info knobs;
  knobs.type = "test.knobs";
  knobs.ports = {{"out", port_dir::out, media_kind::audio, 1, {}}};
  knobs.params = {describe::integer("count", 1, 8, 1, "", ""),
                  describe::boolean("on", false, ""),
                  describe::text("label", "", "").applied_live(),
                  describe::choice("shape", {"sine", "square"}, 0, "")};
  reg.add(knobs);
  node_info camera;
  camera.type = "video.camera";
  camera.ports = {{"out", port_dir::out, media_kind::video, 0, {}}};
  reg.add(camera);
  return reg;
}

TEST(typed_values, follow_the_declared_parameter_type) {
  const auto reg = test_registry();
  const auto r = load_graph_string(R"(
version: 1
nodes:
  - id: k
    type: test.knobs
    params: { count: 4, on: true, label: 42, shape: square }
  - id: k2
    type: test.knobs
    params: { count: 2.0, on: False, label: "quoted text", shape: "sine" }
)",
                                   "typed.yaml", reg);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(param(r.spec, "k", "count").kind_case(), kind::kIntValue);
  EXPECT_EQ(param(r.spec, "k", "count").int_value(), 4);
  EXPECT_EQ(param(r.spec, "k", "on").kind_case(), kind::kBoolValue);
  EXPECT_TRUE(param(r.spec, "k", "on").bool_value());
  // A string parameter takes the scalar's text, whatever YAML would have typed it as.
  EXPECT_EQ(param(r.spec, "k", "label").kind_case(), kind::kStringValue);
  EXPECT_EQ(param(r.spec, "k", "label").string_value(), "42");
  EXPECT_EQ(param(r.spec, "k", "shape").kind_case(), kind::kEnumValue);
  EXPECT_EQ(param(r.spec, "k", "shape").enum_value(), "square");
  EXPECT_EQ(param(r.spec, "k2", "count").kind_case(), kind::kIntValue);
  EXPECT_EQ(param(r.spec, "k2", "count").int_value(), 2);
  EXPECT_FALSE(param(r.spec, "k2", "on").bool_value());
  EXPECT_EQ(param(r.spec, "k2", "label").string_value(), "quoted text");
  EXPECT_EQ(param(r.spec, "k2", "shape").enum_value(), "sine");
}

TEST(typed_values, report_bool_and_enum_mistakes) {
  const auto reg = test_registry();
  const auto r = load_graph_string(R"(
version: 1
nodes:
  - id: k
    type: test.knobs
    params:
      on: yes
      shape: triangle
      count: 9
)",
                                   "typed.yaml", reg);
  ASSERT_EQ(r.errors.size(), 3u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line(), 7u);
  EXPECT_NE(r.errors[0].message().find("expected true or false"), std::string::npos);
  EXPECT_EQ(r.errors[1].line(), 8u);
  EXPECT_EQ(r.errors[1].column(), 14u);
  EXPECT_NE(r.errors[1].message().find("unknown choice 'triangle': expected one of sine, square"),
            std::string::npos);
  EXPECT_NE(r.errors[2].message().find("out of range: expected 1..8"), std::string::npos);
}

TEST(edges, between_different_media_kinds_are_rejected) {
  const auto reg = test_registry();
  const auto r = load_graph_string(R"(
version: 1
nodes:
  - { id: cam, type: video.camera }
  - { id: amp, type: audio.gain }
edges:
  - cam.out -> amp.in
)",
                                   "kinds.yaml", reg);
  ASSERT_EQ(r.errors.size(), 1u) << errors_text(r);
  EXPECT_EQ(r.errors[0].line(), 7u);
  EXPECT_EQ(r.errors[0].column(), 5u);
  EXPECT_EQ(r.errors[0].message(),
            "media kind mismatch: cam.out is video but amp.in is audio: expected ports of the "
            "same kind");
}

// ---------------------------------------------------------------------------------------------
// Files and robustness

TEST(load_graph_file, reports_a_missing_file_once_at_line_zero) {
  const auto r = load_graph_file("/nonexistent/graph.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line(), 0u);
  EXPECT_EQ(r.errors[0].file(), "/nonexistent/graph.yaml");
  EXPECT_EQ(format_diagnostic(r.errors[0]),
            "/nonexistent/graph.yaml: error: cannot open graph file: No such file or directory");
}

TEST(format_diagnostic, names_file_line_and_column) {
  v1::Diagnostic d;
  d.set_file("g.yaml");
  d.set_line(3);
  d.set_column(7);
  d.set_message("unknown node type 'x'");
  EXPECT_EQ(format_diagnostic(d), "g.yaml:3:7: error: unknown node type 'x'");
}

TEST(load_graph_string, never_throws_on_garbage) {
  const std::vector<std::string> inputs = {
    "", "\t", "{", "[", ": :", ",", ",a", "[:", "{:", "*alias", "&a [*a]", "version: 1\nnodes: [", "\x01\x02\xff",
    "version: !!binary AAAA\nnodes: !!map {}\n", "? [a, b]\n: c\n", "version: 1\nnodes:\n  - ~\n",
    "version: 1\nnodes: []\nedges:\n  - ->\n  - .->.\n  - a.b->c.d->e.f\n  - {}\n"};
  for (const auto& text : inputs) {
    graph_load_result r;
    EXPECT_NO_THROW(r = load_graph_string(text, "garbage.yaml")) << text;
    EXPECT_FALSE(r.ok()) << text;
  }
}

TEST(load_graph_string, reports_errors_in_source_order_across_both_passes) {
  const auto r = load_graph_string(R"(
version: 1
devices: { main: { kind: audio, block: 100 } }
nodes:
  - { id: a, type: audio.nope }
  - { id: a, type: audio.gain, params: { level: 99 } }
  - { id: out, type: audio.output, device: main, color: red }
edges:
  - a.out -> out.in
  - a.out -> out.in
)",
                                   "order.yaml");
  ASSERT_GE(r.errors.size(), 5u) << errors_text(r);
  for (size_t i = 1; i < r.errors.size(); ++i) {
    const auto& p = r.errors[i - 1];
    const auto& c = r.errors[i];
    EXPECT_TRUE(p.line() < c.line() || (p.line() == c.line() && p.column() <= c.column()))
      << errors_text(r);
  }
}

// ---------------------------------------------------------------------------------------------
// Device inputs and outputs, channel lists, connections

const char* const duplex_graph = R"(version: 1
name: duplex
devices:
  card: { kind: audio, backend: null }
nodes:
  - id: mic
    type: audio.input
    device: card
    params: { channels: [1, 3], connect: [other:out_1, "other:out_[23]"] }
  - { id: out, type: audio.output, device: card, params: { channels: 2-4 } }
  - { id: mono, type: audio.output, device: card, params: { channels: 1, connect: [] } }
edges:
  - mic.out -> out.in
)";

TEST(device_channels, counts_not_set_grow_to_what_the_nodes_use) {
  const auto r = load_graph_string(duplex_graph, "duplex.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  ASSERT_EQ(r.spec.devices_size(), 1);
  EXPECT_EQ(r.spec.devices(0).inputs(), 3u) << "mic lists input 3";
  EXPECT_EQ(r.spec.devices(0).channels(), 4u) << "out lists output 4";
}

TEST(device_channels, lists_are_held_joined_and_round_trip) {
  const auto r = load_graph_string(duplex_graph, "duplex.yaml");
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(param(r.spec, "mic", "channels").string_value(), "1, 3");
  EXPECT_EQ(param(r.spec, "mic", "connect").string_value(), "other:out_1\nother:out_[23]");
  EXPECT_EQ(param(r.spec, "mono", "connect").string_value(), "") << "an empty list";
  EXPECT_EQ(param(r.spec, "out", "channels").string_value(), "2-4");
  const auto again = load_graph_string(to_yaml(r.spec), "emitted.yaml");
  ASSERT_TRUE(again.ok()) << errors_text(again) << to_yaml(r.spec);
  EXPECT_TRUE(same(r.spec, again.spec)) << to_yaml(r.spec);
}

TEST(device_channels, an_audio_device_without_audio_inputs_has_none) {
  const auto r = load_graph_file(hello_path);
  ASSERT_TRUE(r.ok()) << errors_text(r);
  EXPECT_EQ(r.spec.devices(0).inputs(), 0u);
  EXPECT_EQ(r.spec.devices(0).channels(), 2u);
}

} // namespace
} // namespace sg

namespace {

TEST(loader_enums, a_choice_named_by_a_number_is_accepted_bare_or_quoted) {
  for (const char* bits : {"16", "\"16\"", "float"}) {
    const std::string yaml = std::string("version: 1\nnodes:\n  - { id: rec, type: audio.recorder, "
                                         "params: { file: /tmp/x.wav, bits: ") +
                             bits + " } }\n";
    auto r = sg::load_graph_string(yaml, "enum.yaml");
    ASSERT_TRUE(r.ok()) << bits << ": " << (r.errors.empty() ? "" : r.errors[0].message());
  }
  auto bad = sg::load_graph_string("version: 1\nnodes:\n  - { id: rec, type: audio.recorder, "
                                   "params: { file: /tmp/x.wav, bits: 12 } }\n",
                                   "enum.yaml");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].message().find("one of 16, 24, float"), std::string::npos)
    << bad.errors[0].message();
}

} // namespace
