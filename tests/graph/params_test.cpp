// graph/params.cpp: how a protobuf Value is judged against a parameter, and the conversions
// between Values, engine numbers and text.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "graph/params.hpp"
#include "nodes/core/describe.hpp"

namespace sg {
namespace {

using kind = v1::Value::KindCase;


const param_info real_p = describe::real("level", -120, 24, 0, "dB", "");
const param_info int_p = describe::integer("inputs", 1, 32, 2, "", "");
const param_info bool_p = describe::boolean("on", false, "");
const param_info string_p = describe::text("label", "", "").applied_live();
const param_info enum_p =
  describe::choice("shape", {"sine", "square", "saw"}, 0, "");

v1::Value d(double x) {
  v1::Value v;
  v.set_double_value(x);
  return v;
}
v1::Value i(int64_t x) {
  v1::Value v;
  v.set_int_value(x);
  return v;
}
v1::Value b(bool x) {
  v1::Value v;
  v.set_bool_value(x);
  return v;
}
v1::Value s(const std::string& x) {
  v1::Value v;
  v.set_string_value(x);
  return v;
}
v1::Value e(const std::string& x) {
  v1::Value v;
  v.set_enum_value(x);
  return v;
}

bool accepted(const param_info& p, const v1::Value& v) {
  return check_value(p, v).has_value();
}

/// Why check_value refuses `v`, or "(accepted)".
std::string refusal(const param_info& p, const v1::Value& v) {
  auto checked = check_value(p, v);
  return checked ? "(accepted)" : checked.error();
}

/// Why parse_value cannot read `text`, or "(parsed)".
std::string parse_error(const param_info& p, const std::string& text) {
  auto parsed = parse_value(p, text);
  return parsed ? "(parsed)" : parsed.error();
}

TEST(type_name, names_every_type) {
  EXPECT_STREQ(type_name(param_type::real), "double");
  EXPECT_STREQ(type_name(param_type::integer), "int");
  EXPECT_STREQ(type_name(param_type::boolean), "bool");
  EXPECT_STREQ(type_name(param_type::string), "string");
  EXPECT_STREQ(type_name(param_type::enumeration), "enum");
}

TEST(check_value, real_accepts_numbers_in_range) {
  EXPECT_TRUE(accepted(real_p, d(-6.5)));
  EXPECT_TRUE(accepted(real_p, i(-6)));
  EXPECT_TRUE(accepted(real_p, d(-120)));
  EXPECT_TRUE(accepted(real_p, d(24)));
  EXPECT_EQ(refusal(real_p, d(24.5)), "value out of range: expected -120..24 dB");
  EXPECT_FALSE(accepted(real_p, i(-121)));
  EXPECT_FALSE(accepted(real_p, d(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_FALSE(accepted(real_p, d(-std::numeric_limits<double>::infinity())));
  EXPECT_EQ(refusal(real_p, s("-6")), "wrong type: expected a number (-120..24 dB)");
  EXPECT_FALSE(accepted(real_p, b(true)));
  EXPECT_FALSE(accepted(real_p, v1::Value{}));
}

TEST(check_value, integer_accepts_whole_numbers_in_range) {
  EXPECT_TRUE(accepted(int_p, i(3)));
  EXPECT_TRUE(accepted(int_p, d(3.0)));
  EXPECT_EQ(refusal(int_p, d(2.5)), "wrong type: expected an integer (1..32)");
  EXPECT_EQ(refusal(int_p, i(0)), "value out of range: expected 1..32");
  EXPECT_FALSE(accepted(int_p, i(33)));
  EXPECT_FALSE(accepted(int_p, s("3")));
  EXPECT_FALSE(accepted(int_p, d(std::numeric_limits<double>::infinity())));
}

TEST(check_value, boolean_accepts_only_bools) {
  EXPECT_TRUE(accepted(bool_p, b(true)));
  EXPECT_TRUE(accepted(bool_p, b(false)));
  EXPECT_EQ(refusal(bool_p, i(1)), "wrong type: expected true or false");
  EXPECT_FALSE(accepted(bool_p, s("true")));
}

TEST(check_value, string_accepts_only_strings) {
  EXPECT_TRUE(accepted(string_p, s("")));
  EXPECT_TRUE(accepted(string_p, s("hello")));
  EXPECT_EQ(refusal(string_p, i(42)), "wrong type: expected a string");
  EXPECT_FALSE(accepted(string_p, e("hello")));
}

TEST(check_value, enumeration_accepts_choice_names) {
  EXPECT_TRUE(accepted(enum_p, e("square")));
  EXPECT_TRUE(accepted(enum_p, s("saw")));
  EXPECT_EQ(refusal(enum_p, e("triangle")),
            "unknown choice 'triangle': expected one of sine, square, saw");
  EXPECT_EQ(refusal(enum_p, i(1)), "wrong type: expected one of sine, square, saw");
}

TEST(to_number, gives_the_engine_number) {
  EXPECT_EQ(to_number(real_p, d(-6.5)), -6.5);
  EXPECT_EQ(to_number(real_p, i(-6)), -6.0);
  EXPECT_EQ(to_number(bool_p, b(true)), 1.0);
  EXPECT_EQ(to_number(bool_p, b(false)), 0.0);
  EXPECT_EQ(to_number(enum_p, e("saw")), 2.0);
  EXPECT_EQ(to_number(enum_p, s("square")), 1.0);
  EXPECT_EQ(to_number(real_p, v1::Value{}), real_p.def);
}

TEST(to_value, inverts_to_number_for_every_type) {
  const std::vector<std::pair<const param_info*, v1::Value>> cases = {
    {&real_p, d(-6.5)}, {&int_p, i(7)}, {&bool_p, b(true)}, {&bool_p, b(false)},
    {&enum_p, e("square")}, {&enum_p, e("sine")}};
  for (const auto& [p, v] : cases) {
    const auto back = to_value(*p, to_number(*p, v));
    EXPECT_EQ(back.kind_case(), v.kind_case()) << p->name;
    EXPECT_EQ(back.SerializeAsString(), v.SerializeAsString()) << p->name;
  }
  const auto text = to_value(string_p, 0, "hello");
  EXPECT_EQ(text.kind_case(), kind::kStringValue);
  EXPECT_EQ(text.string_value(), "hello");
}

TEST(to_value, gives_the_declared_kind) {
  EXPECT_EQ(to_value(real_p, 3).kind_case(), kind::kDoubleValue);
  EXPECT_EQ(to_value(int_p, 3.4).int_value(), 3);
  EXPECT_EQ(to_value(enum_p, 5).enum_value(), "");  // out of range index: no name
}

TEST(to_text, writes_every_kind) {
  EXPECT_EQ(to_text(d(440)), "440");
  EXPECT_EQ(to_text(d(-6.5)), "-6.5");
  EXPECT_EQ(to_text(i(3)), "3");
  EXPECT_EQ(to_text(b(true)), "true");
  EXPECT_EQ(to_text(b(false)), "false");
  EXPECT_EQ(to_text(s("hi")), "hi");
  EXPECT_EQ(to_text(e("sine")), "sine");
  EXPECT_EQ(to_text(v1::Value{}), "");
}

TEST(parse_value, reads_numbers) {
  auto v = parse_value(real_p, "-6.5");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->double_value(), -6.5);
  v = parse_value(int_p, "12");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->int_value(), 12);
  EXPECT_EQ(parse_error(real_p, "abc"), "'abc' is not a number");
  EXPECT_FALSE(parse_value(real_p, ""));
  EXPECT_FALSE(parse_value(real_p, "1.5x"));
  EXPECT_EQ(parse_error(int_p, "1.5"), "'1.5' is not an integer");
}

TEST(parse_value, reads_booleans) {
  for (const std::string t : {"true", "on", "1"}) {
    auto v = parse_value(bool_p, t);
    ASSERT_TRUE(v) << t;
    EXPECT_TRUE(v->bool_value()) << t;
  }
  for (const std::string t : {"false", "off", "0"}) {
    auto v = parse_value(bool_p, t);
    ASSERT_TRUE(v) << t;
    EXPECT_FALSE(v->bool_value()) << t;
  }
  EXPECT_EQ(parse_error(bool_p, "maybe"), "'maybe' is not a boolean (true/false)");
}

TEST(parse_value, reads_strings_and_choice_names) {
  auto text = parse_value(string_p, "any text");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->string_value(), "any text");
  auto v = parse_value(enum_p, "saw");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->enum_value(), "saw");
  // Choice names are judged by check_value, like every other value.
  v = parse_value(enum_p, "triangle");
  ASSERT_TRUE(v);
  EXPECT_FALSE(accepted(enum_p, *v));
}

TEST(parse_value, agrees_with_to_text) {
  const std::vector<std::pair<const param_info*, v1::Value>> cases = {
    {&real_p, d(-6.5)}, {&int_p, i(7)}, {&bool_p, b(true)}, {&string_p, s("x y")},
    {&enum_p, e("saw")}};
  for (const auto& [p, v] : cases) {
    auto back = parse_value(*p, to_text(v));
    ASSERT_TRUE(back) << p->name << ": " << back.error();
    EXPECT_EQ(back->SerializeAsString(), v.SerializeAsString()) << p->name;
  }
}

TEST(to_param_values, lays_spec_values_over_defaults) {
  node_info info;
  info.type = "test.all";
  info.params = {real_p, int_p, bool_p, string_p, enum_p};
  info.params[3].def_string = "default";
  v1::NodeSpec spec;
  (*spec.mutable_params())["inputs"] = i(5);
  (*spec.mutable_params())["shape"] = e("saw");
  const auto values = to_param_values(info, spec);
  ASSERT_EQ(values.numbers.size(), 5u);
  EXPECT_EQ(values.numbers[0], real_p.def);
  EXPECT_EQ(values.numbers[1], 5.0);
  EXPECT_EQ(values.numbers[2], 0.0);
  EXPECT_EQ(values.strings[3], "default");
  EXPECT_EQ(values.numbers[4], 2.0);
  (*spec.mutable_params())["label"] = s("given");
  EXPECT_EQ(to_param_values(info, spec).strings[3], "given");
}

} // namespace
} // namespace sg
