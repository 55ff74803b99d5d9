// The built-in node registry: the single source the loader validates against, so its contents
// and its descriptors are checked here.

#include <gtest/gtest.h>

#include <algorithm>

#include "graph/params.hpp"
#include "nodes/core/kernel.hpp"
#include "nodes/core/describe.hpp"

namespace sg {
namespace {

std::vector<std::string> port_names(const std::vector<resolved_port>& ports) {
  std::vector<std::string> names;
  for (const auto& p : ports)
    names.push_back(p.name);
  return names;
}

TEST(registry, holds_the_builtin_types) {
  std::vector<std::string> types;
  for (const auto& t : node_registry::builtin().all())
    types.push_back(t.type);
  EXPECT_EQ(types, (std::vector<std::string>{"audio.sine", "audio.gain", "audio.mixer",
                                             "audio.meter", "audio.input", "audio.output",
                                             "store.sqlite",
                                             "audio.osc", "audio.noise", "audio.pan",
                                             "audio.filter", "audio.delay",
                                             "audio.compressor",
                                             "audio.reverb", "audio.synth", "audio.player",
                                             "audio.recorder",
                                             "video.testsrc", "video.camera", "video.player",
                                             "video.image", "video.compositor",
                                             "video.overlay", "video.convert", "video.gst",
                                             "video.output", "video.framesrc",
                                             "control.clock", "control.lfo", "control.ramp",
                                             "control.osc", "control.midi"}));
  EXPECT_EQ(node_registry::builtin().find("audio.sinus"), nullptr);
}

TEST(registry, every_audio_type_makes_a_kernel_and_only_the_device_ends_need_a_device) {
  for (const auto& t : node_registry::builtin().all()) {
    if (t.type.rfind("video.", 0) == 0) {  // GStreamer elements, built by the video device
      EXPECT_FALSE(t.make) << t.type;
      EXPECT_EQ(t.needs_device, t.type == "video.output") << t.type;
      EXPECT_FALSE(t.summary.empty()) << t.type;
      continue;
    }
    if (t.type.rfind("audio.", 0) != 0) {
      EXPECT_FALSE(t.make) << t.type << " runs on the control plane";
      EXPECT_TRUE(t.ports.empty()) << t.type;
      continue;
    }
    ASSERT_TRUE(t.make) << t.type;
    EXPECT_NE(t.make(), nullptr) << t.type;
    EXPECT_EQ(t.needs_device, t.type == "audio.output" || t.type == "audio.input") << t.type;
    EXPECT_FALSE(t.summary.empty()) << t.type;
  }
}

TEST(registry, instruments_and_file_nodes_declare_events_and_history) {
  const auto& reg = node_registry::builtin();
  auto flags = [&](const char* type) {
    const auto* t = reg.find(type);
    return std::pair{t->accepts_events, t->keeps_history};
  };
  EXPECT_EQ(flags("audio.reverb"), std::pair(false, true));
  EXPECT_EQ(flags("audio.synth"), std::pair(true, true));
  EXPECT_EQ(flags("audio.player"), std::pair(true, false));
  EXPECT_EQ(flags("audio.recorder"), std::pair(false, false));
  // File paths are configuration: changing one rebuilds the node.
  for (const char* type : {"audio.player", "audio.recorder"}) {
    const auto* t = reg.find(type);
    const auto& file = t->params[t->param_index("file")];
    EXPECT_EQ(file.type, param_type::string) << type;
    EXPECT_FALSE(file.live) << type;
  }
}

TEST(registry, every_default_is_an_acceptable_value) {
  for (const auto& t : node_registry::builtin().all())
    for (const auto& p : t.params) {
      EXPECT_LE(p.min, p.def) << t.type << "." << p.name;
      EXPECT_LE(p.def, p.max) << t.type << "." << p.name;
      EXPECT_TRUE(check_value(p, to_value(p, p.def, p.def_string))) << t.type << "." << p.name;
    }
}

TEST(registry, ports_of_the_fixed_types) {
  const auto& reg = node_registry::builtin();
  auto ports = [&](const char* type) {
    const auto* info = reg.find(type);
    return port_names(resolve_ports(*info, info->defaults()));
  };
  using names = std::vector<std::string>;
  EXPECT_EQ(ports("audio.sine"), names{"out"});
  EXPECT_EQ(ports("audio.gain"), (names{"in", "out"}));
  EXPECT_EQ(ports("audio.meter"), names{"in"});
  EXPECT_EQ(ports("audio.output"), names{"in"});
  EXPECT_EQ(reg.find("audio.sine")->ports[0].channels, 1u);
}

TEST(registry, mixer_ports_resolve_to_in1_to_inN) {
  const auto* mixer = node_registry::builtin().find("audio.mixer");
  ASSERT_NE(mixer, nullptr);
  auto values = mixer->defaults();
  EXPECT_EQ(port_names(resolve_ports(*mixer, values)),
            (std::vector<std::string>{"in1", "in2", "out"}));
  const int inputs = mixer->param_index("inputs");
  ASSERT_GE(inputs, 0);
  values.numbers[static_cast<size_t>(inputs)] = 5;
  const auto ports = resolve_ports(*mixer, values);
  EXPECT_EQ(port_names(ports),
            (std::vector<std::string>{"in1", "in2", "in3", "in4", "in5", "out"}));
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(ports[i].dir, port_dir::in);
    EXPECT_EQ(ports[i].kind, media_kind::audio);
  }
  EXPECT_EQ(ports[5].dir, port_dir::out);
}

TEST(registry, param_index_finds_declared_params) {
  const auto* sine = node_registry::builtin().find("audio.sine");
  EXPECT_EQ(sine->param_index("frequency"), 0);
  EXPECT_EQ(sine->param_index("level"), 1);
  EXPECT_EQ(sine->param_index("freq"), -1);
  const auto defaults = sine->defaults();
  EXPECT_EQ(defaults.numbers, (std::vector<double>{440, -12}));
}

TEST(descriptor, describes_the_mixer) {
  const auto d = to_descriptor(*node_registry::builtin().find("audio.mixer"));
  EXPECT_EQ(d.type(), "audio.mixer");
  EXPECT_FALSE(d.needs_device());
  ASSERT_EQ(d.ports_size(), 2);
  EXPECT_EQ(d.ports(0).name(), "in");
  EXPECT_EQ(d.ports(0).direction(), v1::PORT_DIRECTION_IN);
  EXPECT_EQ(d.ports(0).kind(), v1::MEDIA_KIND_AUDIO);
  EXPECT_EQ(d.ports(0).repeat_param(), "inputs");
  EXPECT_EQ(d.ports(1).direction(), v1::PORT_DIRECTION_OUT);
  ASSERT_EQ(d.params_size(), 18);  // inputs, level, level1..level16
  EXPECT_EQ(d.params(0).name(), "inputs");
  EXPECT_EQ(d.params(0).type(), v1::PARAM_TYPE_INT);
  EXPECT_EQ(d.params(0).default_value().int_value(), 2);
  EXPECT_FALSE(d.params(0).live());
  EXPECT_EQ(d.params(1).type(), v1::PARAM_TYPE_DOUBLE);
  EXPECT_EQ(d.params(1).unit(), "dB");
  EXPECT_TRUE(d.params(1).live());
  EXPECT_EQ(d.params(17).name(), "level16");
  EXPECT_EQ(d.params(0).max(), 16);  // one level per possible input
}

TEST(descriptor, describes_sine_and_output) {
  const auto sine = to_descriptor(*node_registry::builtin().find("audio.sine"));
  ASSERT_EQ(sine.params_size(), 2);
  EXPECT_EQ(sine.params(0).min(), 1);
  EXPECT_EQ(sine.params(0).max(), 20000);
  EXPECT_EQ(sine.params(0).unit(), "Hz");
  EXPECT_EQ(sine.params(1).default_value().double_value(), -12);
  EXPECT_EQ(sine.ports(0).channels(), 1u);
  const auto out = to_descriptor(*node_registry::builtin().find("audio.output"));
  EXPECT_TRUE(out.needs_device());
}

TEST(descriptor, maps_every_param_type) {
  node_info info;
  info.type = "test.all";
  info.params = {describe::real("r", 0, 1, 0, "", ""),
                 describe::integer("i", 0, 1, 0, "", ""),
                 describe::boolean("b", false, ""),
                 describe::text("s", "", "").applied_live(),
                 describe::choice("e", {"x", "y"}, 1, "")};
  info.params[3].def_string = "text";
  const auto d = to_descriptor(info);
  ASSERT_EQ(d.params_size(), 5);
  EXPECT_EQ(d.params(0).type(), v1::PARAM_TYPE_DOUBLE);
  EXPECT_EQ(d.params(1).type(), v1::PARAM_TYPE_INT);
  EXPECT_EQ(d.params(2).type(), v1::PARAM_TYPE_BOOL);
  EXPECT_EQ(d.params(3).type(), v1::PARAM_TYPE_STRING);
  EXPECT_EQ(d.params(3).default_value().string_value(), "text");
  EXPECT_EQ(d.params(4).type(), v1::PARAM_TYPE_ENUM);
  EXPECT_EQ(d.params(4).default_value().enum_value(), "y");
  EXPECT_EQ(d.params(4).choices_size(), 2);
}

} // namespace
} // namespace sg
