// A device's ports as other programs see them: names taken from the nodes, and which of the
// server's ports each node's `connect` list reaches, paired with its channels.

#include <gtest/gtest.h>

#include "hardware/audio_domain.hpp"
#include "hardware/device_ports.hpp"

namespace sg {
namespace {

/// A node of a built-in type with `texts` set (channels, connect).
node_spec node(const std::string& id, const std::string& type,
               std::vector<std::pair<std::string, std::string>> texts = {}) {
  node_spec n;
  n.id = id;
  n.type = type;
  n.device = "card";
  n.info = node_registry::builtin().find(type);
  n.values = n.info->defaults();
  for (const auto& [name, value] : texts)
    n.values.strings[static_cast<size_t>(n.info->param_index(name))] = value;
  return n;
}

audio_domain domain(uint32_t inputs, uint32_t outputs, std::vector<node_spec> nodes) {
  audio_domain d;
  d.device.name = "card";
  d.device.kind = "audio";
  d.device.inputs = inputs;
  d.device.channels = outputs;
  d.nodes = std::move(nodes);
  return d;
}

TEST(device_ports, channels_are_named_after_the_first_node_listing_them) {
  const auto ports = plan_device_ports(domain(
    4, 4,
    {node("guitar", "audio.input", {{"channels", "3"}}),
     node("mics", "audio.input", {{"channels", "1-2"}}),
     node("again", "audio.input", {{"channels", "2"}}),
     node("main", "audio.output", {{"channels", "1, 2"}}),
     node("cue", "audio.output", {{"channels", "4"}})}));
  EXPECT_EQ(ports.input_names, (std::vector<std::string>{"mics_1", "mics_2", "guitar", "in_4"}));
  EXPECT_EQ(ports.output_names, (std::vector<std::string>{"main_1", "main_2", "out_3", "cue"}));
  ASSERT_EQ(ports.input_groups.size(), 3u);
  EXPECT_EQ(ports.input_groups[1].channels, (std::vector<uint32_t>{0, 1}));
}

TEST(device_ports, an_output_without_channels_plays_on_all_and_connects_to_the_sound_card) {
  const auto ports = plan_device_ports(domain(0, 2, {node("out", "audio.output")}));
  EXPECT_EQ(ports.output_names, (std::vector<std::string>{"out_1", "out_2"}));
  ASSERT_EQ(ports.output_groups.size(), 1u);
  EXPECT_EQ(ports.output_groups[0].channels, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(ports.output_groups[0].patterns, std::vector<std::string>{physical_ports});
  EXPECT_TRUE(ports.input_names.empty());
}

TEST(device_ports, connect_items_are_the_lines_of_the_list_trimmed) {
  EXPECT_EQ(connect_items("a:1\n  b:.*  \n\nc"), (std::vector<std::string>{"a:1", "b:.*", "c"}));
  EXPECT_TRUE(connect_items("").empty());
}

TEST(device_ports, exact_names_regular_expressions_and_physical_ports_match_in_order) {
  const std::vector<std::string> available = {"system:capture_1", "system:capture_2",
                                              "synth:out_L", "synth:out_R", "synth:out_L2"};
  const std::vector<std::string> physical = {"system:capture_1", "system:capture_2"};
  EXPECT_EQ(match_ports({"synth:out_R", "synth:out_L"}, available),
            (std::vector<std::string>{"synth:out_R", "synth:out_L"}));
  EXPECT_EQ(match_ports({"synth:out_[LR]"}, available),
            (std::vector<std::string>{"synth:out_L", "synth:out_R"}))
    << "a whole-name match: out_L2 is not out_[LR]";
  EXPECT_EQ(match_ports({"physical", "system:.*"}, available, physical), physical)
    << "each port once";
  EXPECT_TRUE(match_ports({"synth:out_(", "nobody:out"}, available).empty())
    << "an invalid expression names only itself";
}

TEST(device_ports, matches_pair_with_channels_and_a_mono_node_takes_every_match) {
  port_group stereo{"main", {2, 3}, {}};
  EXPECT_EQ(group_connections(stereo, {"a", "b", "c"}),
            (std::vector<std::pair<uint32_t, std::string>>{{2, "a"}, {3, "b"}}));
  port_group mono{"mic", {1}, {}};
  EXPECT_EQ(group_connections(mono, {"a", "b"}),
            (std::vector<std::pair<uint32_t, std::string>>{{1, "a"}, {1, "b"}}));
}

} // namespace
} // namespace sg
