#include "graph/params.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace sg {

const char* type_name(param_type t) {
  switch (t) {
    case param_type::real: return "double";
    case param_type::integer: return "int";
    case param_type::boolean: return "bool";
    case param_type::string: return "string";
    case param_type::enumeration: return "enum";
  }
  return "?";
}

namespace {

std::string range_text(const param_info& p) {
  std::ostringstream os;
  os << p.min << ".." << p.max;
  if (!p.unit.empty())
    os << ' ' << p.unit;
  return os.str();
}

std::string choices_text(const param_info& p) {
  std::string s;
  for (const auto& c : p.choices)
    s += (s.empty() ? "" : ", ") + c;
  return s;
}

expected<void> check_number(const param_info& p, double x) {
  if (!std::isfinite(x) || x < p.min || x > p.max)
    return unexpected("value out of range: expected " + range_text(p));
  return {};
}

} // namespace

expected<void> check_value(const param_info& p, const v1::Value& v) {
  using k = v1::Value::KindCase;
  switch (p.type) {
    case param_type::real:
      if (v.kind_case() == k::kDoubleValue)
        return check_number(p, v.double_value());
      if (v.kind_case() == k::kIntValue)
        return check_number(p, static_cast<double>(v.int_value()));
      return unexpected("wrong type: expected a number (" + range_text(p) + ")");
    case param_type::integer:
      if (v.kind_case() == k::kIntValue)
        return check_number(p, static_cast<double>(v.int_value()));
      if (v.kind_case() == k::kDoubleValue && v.double_value() == std::floor(v.double_value()))
        return check_number(p, v.double_value());
      return unexpected("wrong type: expected an integer (" + range_text(p) + ")");
    case param_type::boolean:
      if (v.kind_case() == k::kBoolValue)
        return {};
      return unexpected("wrong type: expected true or false");
    case param_type::string: {
      if (v.kind_case() != k::kStringValue)
        return unexpected("wrong type: expected a string");
      if (!p.check_text)
        return {};
      const std::string why = p.check_text(v.string_value());
      return why.empty() ? expected<void>{} : unexpected(why);
    }
    case param_type::enumeration: {
      const std::string* name = v.kind_case() == k::kEnumValue     ? &v.enum_value()
                                : v.kind_case() == k::kStringValue ? &v.string_value()
                                                                   : nullptr;
      if (!name)
        return unexpected("wrong type: expected one of " + choices_text(p));
      for (const auto& c : p.choices)
        if (c == *name)
          return {};
      return unexpected("unknown choice '" + *name + "': expected one of " + choices_text(p));
    }
  }
  return unexpected("unsupported parameter type");
}

double to_number(const param_info& p, const v1::Value& v) {
  using k = v1::Value::KindCase;
  switch (v.kind_case()) {
    case k::kDoubleValue: return v.double_value();
    case k::kIntValue: return static_cast<double>(v.int_value());
    case k::kBoolValue: return v.bool_value() ? 1.0 : 0.0;
    case k::kEnumValue:
    case k::kStringValue: {
      const auto& name = v.kind_case() == k::kEnumValue ? v.enum_value() : v.string_value();
      for (size_t i = 0; i < p.choices.size(); ++i)
        if (p.choices[i] == name)
          return static_cast<double>(i);
      return 0;
    }
    default: return p.def;
  }
}

v1::Value to_value(const param_info& p, double number, const std::string& text) {
  v1::Value v;
  switch (p.type) {
    case param_type::real: v.set_double_value(number); break;
    case param_type::integer: v.set_int_value(std::llround(number)); break;
    case param_type::boolean: v.set_bool_value(number != 0); break;
    case param_type::string: v.set_string_value(text); break;
    case param_type::enumeration: {
      auto i = static_cast<size_t>(std::llround(number));
      v.set_enum_value(i < p.choices.size() ? p.choices[i] : std::string{});
      break;
    }
  }
  return v;
}

std::string to_text(const v1::Value& v) {
  using k = v1::Value::KindCase;
  switch (v.kind_case()) {
    case k::kDoubleValue: {
      std::ostringstream os;
      os << v.double_value();
      return os.str();
    }
    case k::kIntValue: return std::to_string(v.int_value());
    case k::kBoolValue: return v.bool_value() ? "true" : "false";
    case k::kStringValue: return v.string_value();
    case k::kEnumValue: return v.enum_value();
    default: return "";
  }
}

expected<v1::Value> parse_value(const param_info& p, const std::string& text) {
  v1::Value v;
  const char* b = text.data();
  const char* e = text.data() + text.size();
  switch (p.type) {
    case param_type::real: {
      double x = 0;
      auto [ptr, ec] = std::from_chars(b, e, x);
      if (ec != std::errc{} || ptr != e || text.empty())
        return unexpected("'" + text + "' is not a number");
      v.set_double_value(x);
      return v;
    }
    case param_type::integer: {
      int64_t x = 0;
      auto [ptr, ec] = std::from_chars(b, e, x);
      if (ec != std::errc{} || ptr != e || text.empty())
        return unexpected("'" + text + "' is not an integer");
      v.set_int_value(x);
      return v;
    }
    case param_type::boolean:
      if (text == "true" || text == "on" || text == "1") {
        v.set_bool_value(true);
        return v;
      }
      if (text == "false" || text == "off" || text == "0") {
        v.set_bool_value(false);
        return v;
      }
      return unexpected("'" + text + "' is not a boolean (true/false)");
    case param_type::string: v.set_string_value(text); return v;
    case param_type::enumeration: v.set_enum_value(text); return v;
  }
  return unexpected("unsupported parameter type");
}

param_values to_param_values(const node_info& info, const v1::NodeSpec& spec) {
  auto values = info.defaults();
  for (size_t i = 0; i < info.params.size(); ++i) {
    auto it = spec.params().find(info.params[i].name);
    if (it == spec.params().end())
      continue;
    if (info.params[i].type == param_type::string)
      values.strings[i] = it->second.string_value();
    else
      values.numbers[i] = to_number(info.params[i], it->second);
  }
  return values;
}

v1::NodeTypeDescriptor to_descriptor(const node_info& info) {
  v1::NodeTypeDescriptor d;
  d.set_type(info.type);
  d.set_summary(info.summary);
  d.set_needs_device(info.needs_device);
  for (const auto& p : info.ports) {
    auto* pd = d.add_ports();
    pd->set_name(p.name);
    pd->set_direction(p.dir == port_dir::in ? v1::PORT_DIRECTION_IN : v1::PORT_DIRECTION_OUT);
    pd->set_kind(p.kind == media_kind::audio   ? v1::MEDIA_KIND_AUDIO
                 : p.kind == media_kind::video ? v1::MEDIA_KIND_VIDEO
                                               : v1::MEDIA_KIND_CONTROL);
    pd->set_channels(p.channels);
    pd->set_repeat_param(p.repeat_param);
  }
  for (const auto& p : info.params) {
    auto* pd = d.add_params();
    pd->set_name(p.name);
    pd->set_type(static_cast<v1::ParamType>(static_cast<int>(p.type) + 1));
    pd->set_min(p.min);
    pd->set_max(p.max);
    *pd->mutable_default_value() = to_value(p, p.def, p.def_string);
    pd->set_unit(p.unit);
    for (const auto& c : p.choices)
      pd->add_choices(c);
    pd->set_summary(p.summary);
    pd->set_live(p.live);
  }
  return d;
}

} // namespace sg
