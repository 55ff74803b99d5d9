/// Pad and knob panels (list, show, create, update, activate, deactivate, delete) and MIDI
/// learn, with the text form of a panel mapping both ways: what `--map` parses and what
/// `panel show` prints.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "nodes/core/expected.hpp"

namespace sg::sgctl {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

/// All of `text` as an unsigned decimal number (what std::stoul reads), or nullopt.
std::optional<unsigned long> whole_number(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const unsigned long n = std::strtoul(begin, &end, 10);
  if (end == begin || errno == ERANGE || end != begin + text.size())
    return std::nullopt;
  return n;
}

/// All of `text` as a floating-point number (what std::stod reads), or nullopt.
std::optional<double> real_number(const std::string& text) {
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double x = std::strtod(begin, &end);
  if (end == begin || errno == ERANGE || end != begin + text.size())
    return std::nullopt;
  return x;
}

const char* action_text(v1::MappingAction a) {
  switch (a) {
  case v1::MAPPING_ACTION_SET:
    return "set";
  case v1::MAPPING_ACTION_TRIGGER:
    return "trigger";
  case v1::MAPPING_ACTION_TOGGLE:
    return "toggle";
  case v1::MAPPING_ACTION_MOMENTARY:
    return "momentary";
  case v1::MAPPING_ACTION_PLAY:
    return "play";
  default:
    return "default";
  }
}

/// "NUMBER[/CHANNEL]" (0..127, 1..16) into `m`; false when it is not that.
bool parse_control(const std::string& control, v1::PanelMapping& m) {
  const auto slash = control.find('/');
  const auto n = whole_number(control.substr(0, slash));
  if (!n || *n > 127)
    return false;
  m.set_number(static_cast<uint32_t>(*n));
  if (slash == std::string::npos)
    return true;
  const auto c = whole_number(control.substr(slash + 1));
  if (!c || *c < 1 || *c > 16)
    return false;
  m.set_channel(static_cast<uint32_t>(*c));
  return true;
}

/// "[ACTION:]TARGET" into `m`, or why not.
sg::expected<void> parse_target(std::string target, v1::PanelMapping& m) {
  if (const auto colon = target.find(':'); colon != std::string::npos) {
    const std::string action = lower(target.substr(0, colon));
    std::string upper = action;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    v1::MappingAction a{};
    if (!v1::MappingAction_Parse("MAPPING_ACTION_" + upper, &a) ||
        a == v1::MAPPING_ACTION_UNSPECIFIED)
      return sg::unexpected("unknown action '" + action +
                            "' (set, trigger, toggle, momentary, play)");
    m.set_action(a);
    target = target.substr(colon + 1);
  }
  m.set_target(target);
  return {};
}

/// One ",option" of a mapping (low=F, high=F, curve=..., nopickup) into `m`; false when it is
/// none of them.
bool parse_option(const std::string& part, v1::PanelMapping& m) {
  const std::string opt = lower(part);
  const auto eq = opt.find('=');
  const std::string key = opt.substr(0, eq);
  const std::string val = eq == std::string::npos ? "" : opt.substr(eq + 1);
  if (key == "low" || key == "high") {
    const auto x = real_number(val);
    if (!x)
      return false;
    key == "low" ? m.set_low(*x) : m.set_high(*x);
  } else if (key == "curve" && (val == "linear" || val == "log" || val == "exp")) {
    m.set_curve(val == "log"   ? v1::MAPPING_CURVE_LOG
                : val == "exp" ? v1::MAPPING_CURVE_EXP
                               : v1::MAPPING_CURVE_LINEAR);
  } else if (key == "nopickup" && val.empty()) {
    m.set_no_pickup(true);
  } else {
    return false;
  }
  return true;
}

/// "NUMBER[/CHANNEL]=[ACTION:]TARGET[,low=X][,high=X][,curve=linear|log|exp][,nopickup]",
/// e.g. "21=set:amp.level,curve=log", "36=trigger:kick", "37/10=toggle:fx.running".
sg::expected<v1::PanelMapping> parse_mapping(const std::string& text) {
  const std::string what = "mapping \"" + text + "\": ";
  v1::PanelMapping m;
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return sg::unexpected(what + "expected NUMBER[/CHANNEL]=[ACTION:]TARGET[,options]");
  if (!parse_control(text.substr(0, eq), m))
    return sg::unexpected(what + "expected a control number 0..127 and an optional /CHANNEL "
                                 "1..16 before '='");
  std::vector<std::string> parts;
  std::stringstream rest(text.substr(eq + 1));
  for (std::string part; std::getline(rest, part, ',');)
    parts.push_back(part);
  if (parts.empty() || parts[0].empty())
    return sg::unexpected(what + "expected a target after '='");
  if (auto target = parse_target(parts[0], m); !target)
    return sg::unexpected(what + target.error());
  for (size_t i = 1; i < parts.size(); ++i)
    if (!parse_option(parts[i], m))
      return sg::unexpected(what + "bad option '" + parts[i] +
                            "' (low=F, high=F, curve=linear|log|exp, nopickup)");
  // Only low or only high given: the other end stays where the whole range has it.
  if (m.low() != 0 && m.high() == 0 && text.find("high=") == std::string::npos)
    m.set_high(1);
  return m;
}

std::string mapping_text(const v1::PanelMapping& m) {
  std::ostringstream os;
  os << m.number();
  if (m.channel())
    os << '/' << m.channel();
  os << '=' << action_text(m.action()) << ':' << m.target();
  if (m.low() != 0 || m.high() != 0)
    os << ",low=" << m.low() << ",high=" << m.high();
  if (m.curve() == v1::MAPPING_CURVE_LOG)
    os << ",curve=log";
  if (m.curve() == v1::MAPPING_CURVE_EXP)
    os << ",curve=exp";
  if (m.no_pickup())
    os << ",nopickup";
  return os.str();
}

void print_panel(const v1::Panel& p) {
  std::cout << "panel " << p.id() << ": " << panel_type_text(p.type()) << " bank " << p.bank()
            << " device " << or_dash(p.device()) << (p.active() ? " ACTIVE" : " inactive")
            << " rev " << p.rev() << '\n';
  for (const auto& m : p.mappings())
    std::cout << "  " << mapping_text(m) << '\n';
}

/// The origin of every panel change this process makes.
v1::Origin origin() {
  v1::Origin o;
  o.set_client_id(client_id());
  return o;
}

/// Prints the reply of a panel change ("`what` panel ID (rev N, saved)").
int panel_reply(const global_options& g, const grpc::Status& s, const v1::PanelReply& reply,
                const std::string& what) {
  if (!s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << what << " panel " << reply.panel().id() << " (rev " << reply.panel().rev()
            << (reply.persisted() ? ", saved" : ", not persisted") << ")";
  if (!reply.deactivated().empty())
    std::cout << "; deactivated " << join(reply.deactivated(), ", ");
  std::cout << '\n';
  return exit_ok;
}

int panel_list(const global_options& g, v1::PanelService::Stub& stub) {
  v1::ListPanelsReply reply;
  if (auto s = stub.ListPanels(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  table rows{{"ID", "TYPE", "BANK", "DEVICE", "ACTIVE", "MAPPINGS", "REV"}};
  for (const auto& p : reply.panels())
    rows.push_back({p.id(), panel_type_text(p.type()), p.bank(), or_dash(p.device()),
                    p.active() ? "yes" : "no", std::to_string(p.mappings_size()),
                    std::to_string(p.rev())});
  print_table(rows);
  return exit_ok;
}

int panel_show(const global_options& g, v1::PanelService::Stub& stub, const std::string& id) {
  v1::GetPanelRequest req;
  req.set_id(id);
  v1::PanelReply reply;
  if (auto s = stub.GetPanel(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    print_panel(reply.panel());
  return exit_ok;
}

int panel_activate(const global_options& g, v1::PanelService::Stub& stub, const std::string& id,
                   bool active) {
  v1::ActivatePanelRequest req;
  req.set_id(id);
  req.set_active(active);
  *req.mutable_origin() = origin();
  v1::PanelReply reply;
  auto s = stub.ActivatePanel(make_context(g).get(), req, &reply);
  return panel_reply(g, s, reply, active ? "activated" : "deactivated");
}

int panel_delete(const global_options& g, v1::PanelService::Stub& stub, const std::string& id) {
  v1::DeletePanelRequest req;
  req.set_id(id);
  *req.mutable_origin() = origin();
  v1::PanelReply reply;
  auto s = stub.DeletePanel(make_context(g).get(), req, &reply);
  return panel_reply(g, s, reply, "deleted");
}

/// --type, --bank, --device, --active/--inactive into `p`, or why not.
sg::expected<void> apply_fields(const panel_args& a, v1::Panel& p) {
  if (!a.type.empty()) {
    const auto t = lower(a.type);
    if (t != "pad" && t != "knob")
      return sg::unexpected("--type: expected pad or knob, got '" + a.type + "'");
    p.set_type(t == "pad" ? v1::PANEL_TYPE_PAD : v1::PANEL_TYPE_KNOB);
  }
  if (!a.bank.empty())
    p.set_bank(a.bank);
  if (!a.device.empty())
    p.set_device(a.device == "-" ? "" : a.device);
  if (a.active)
    p.set_active(true);
  if (a.inactive)
    p.set_active(false);
  return {};
}

/// --map (replaces every mapping), --remove-map, --add-map into `p`, or why not.
sg::expected<void> apply_mappings(const panel_args& a, v1::Panel& p) {
  if (!a.maps.empty())
    p.clear_mappings();
  auto* maps = p.mutable_mappings();
  for (const auto& u : a.remove)
    for (int i = maps->size() - 1; i >= 0; --i)
      if (maps->Get(i).number() == u)
        maps->DeleteSubrange(i, 1);
  for (const auto* list : {&a.maps, &a.add_maps})
    for (const auto& text : *list) {
      auto m = parse_mapping(text);
      if (!m)
        return sg::unexpected(m.error());
      // An added mapping replaces the one of the same control.
      for (int i = maps->size() - 1; i >= 0; --i)
        if (maps->Get(i).number() == m->number() && maps->Get(i).channel() == m->channel())
          maps->DeleteSubrange(i, 1);
      *p.add_mappings() = *m;
    }
  return {};
}

/// `create` or `update` (which starts from the current panel): one PutPanel.
int panel_put(const global_options& g, v1::PanelService::Stub& stub, bool create,
              const panel_args& a) {
  v1::PutPanelRequest req;
  auto& p = *req.mutable_panel();
  if (!create) {
    v1::GetPanelRequest get;
    get.set_id(a.id);
    v1::PanelReply current;
    if (auto s = stub.GetPanel(make_context(g).get(), get, &current); !s.ok())
      return fail(s);
    p = current.panel();
  }
  p.set_id(a.id);
  if (auto done = apply_fields(a, p); !done)
    return usage_error(done.error());
  if (auto done = apply_mappings(a, p); !done)
    return usage_error(done.error());
  p.clear_rev();
  p.clear_origin();
  req.set_create(create);
  *req.mutable_origin() = origin();
  v1::PanelReply reply;
  auto s = stub.PutPanel(make_context(g).get(), req, &reply);
  return panel_reply(g, s, reply, create ? "created" : "updated");
}

} // namespace

int cmd_panel(const global_options& g, const std::string& action, const panel_args& a) {
  auto stub = v1::PanelService::NewStub(make_channel(g));
  if (action == "list")
    return panel_list(g, *stub);
  if (action == "show")
    return panel_show(g, *stub, a.id);
  if (action == "activate" || action == "deactivate")
    return panel_activate(g, *stub, a.id, action == "activate");
  if (action == "delete")
    return panel_delete(g, *stub, a.id);
  return panel_put(g, *stub, action == "create", a);
}

int cmd_learn(const global_options& g, const std::string& target, const std::string& panel,
              double wait_s) {
  auto stub = v1::PanelService::NewStub(make_channel(g));
  v1::LearnRequest req;
  req.set_target(target);
  req.set_panel(panel);
  req.set_timeout_ms(static_cast<uint32_t>(wait_s * 1000));
  req.mutable_origin()->set_client_id(client_id());
  auto ctx = make_context(g);
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000) + 5000));
  if (!g.json)
    std::cerr << "move a control on a MIDI device (" << wait_s << " s)...\n";
  v1::LearnReply reply;
  if (auto s = stub->Learn(ctx.get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << "learned " << mapping_text(reply.mapping()) << " from " << reply.device()
            << " into panel " << reply.panel().id() << " (" << panel_type_text(reply.panel().type())
            << " bank " << reply.panel().bank() << (reply.panel().active() ? ", active" : "")
            << ")\n";
  return exit_ok;
}

} // namespace sg::sgctl
