/// Presets: save the committed values of some or all nodes, load them back (with this
/// process's origin), list and delete them.

#include <ctime>
#include <iostream>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"

namespace sg::sgctl {
namespace {

/// "2024-05-01 12:00:00" in local time, or "-" for no time.
std::string local_time(int64_t unix_ns) {
  if (unix_ns <= 0)
    return "-";
  const std::time_t t = static_cast<std::time_t>(unix_ns / 1'000'000'000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

int preset_save(const global_options& g, const preset_args& a) {
  v1::SavePresetRequest req;
  req.set_name(a.name);
  for (const auto& n : a.nodes)
    req.add_nodes(n);
  v1::SavePresetReply reply;
  auto stub = v1::PresetService::NewStub(make_channel(g));
  if (auto s = stub->SavePreset(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << "saved preset " << reply.preset().name() << ": " << reply.preset().params()
              << " params of " << reply.preset().nodes_size() << " nodes ("
              << join(reply.preset().nodes(), ", ") << ")\n";
  return exit_ok;
}

int preset_load(const global_options& g, const preset_args& a) {
  v1::LoadPresetReply reply;
  if (auto s = make_client(g)->load_preset(a.name, a.persist, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  const auto& l = reply.loaded();
  std::cout << "loaded preset " << l.name() << ": " << l.params() << " params on " << l.nodes_size()
            << " nodes (" << join(l.nodes(), ", ") << ")" << (a.persist ? ", persisted" : "")
            << '\n';
  if (!l.skipped().empty())
    std::cout << "skipped (not in the running graph): " << join(l.skipped(), ", ") << '\n';
  return exit_ok;
}

int preset_list(const global_options& g) {
  v1::ListPresetsReply reply;
  auto stub = v1::PresetService::NewStub(make_channel(g));
  if (auto s = stub->ListPresets(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  table rows{{"NAME", "PARAMS", "NODES", "SAVED"}};
  for (const auto& p : reply.presets())
    rows.push_back({p.name(), std::to_string(p.params()), or_dash(join(p.nodes())),
                    local_time(p.saved_unix_ns())});
  print_table(rows);
  return exit_ok;
}

int preset_delete(const global_options& g, const preset_args& a) {
  v1::DeletePresetRequest req;
  req.set_name(a.name);
  v1::DeletePresetReply reply;
  auto stub = v1::PresetService::NewStub(make_channel(g));
  if (auto s = stub->DeletePreset(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << "deleted preset " << a.name << '\n';
  return exit_ok;
}

} // namespace

int cmd_preset(const global_options& g, const std::string& action, const preset_args& a) {
  if (action == "save")
    return preset_save(g, a);
  if (action == "load")
    return preset_load(g, a);
  if (action == "list")
    return preset_list(g);
  return preset_delete(g, a);
}

} // namespace sg::sgctl
