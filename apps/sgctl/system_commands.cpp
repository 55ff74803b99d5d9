/// The server: its status (version, uptime, graph, devices, node loads, gateway clients) and
/// its gRPC health.

#include <iostream>

#include "apps/sgctl/commands.hpp"
#include "apps/sgctl/output.hpp"
#include "grpc/health/v1/health.grpc.pb.h"

namespace sg::sgctl {
namespace {

/// The tables of `status` below its header: devices, node loads (if any), clients.
void print_status_tables(const v1::StatusReply& reply) {
  table rows{{"DEVICE", "STATE", "BACKEND", "RATE", "BLOCK", "IN/OUT", "LATENCY IN/OUT", "BLOCKS",
               "XRUNS", "LOAD", "RT"}};
  for (const auto& d : reply.devices())
    rows.push_back({d.device(), lower_state(v1::DeviceStatus_State_Name(d.state())),
                    or_dash(d.backend()), std::to_string(d.sample_rate()),
                    std::to_string(d.block()), channels_text(d), latency_text(d),
                    std::to_string(d.blocks()), std::to_string(d.xruns()),
                    fixed(d.load() * 100, 1) + "%", d.realtime_priority() ? "yes" : "no"});
  std::cout << '\n';
  print_table(rows);
  // What each device says of itself: a fallback to the null backend and why, a loss, a retry.
  for (const auto& d : reply.devices())
    if (!d.message().empty() && d.backend() != "gstreamer")
      std::cout << d.device() << ": " << d.message() << '\n';
  table loads{{"NODE", "DEVICE", "LOAD"}};
  for (const auto& d : reply.devices())
    for (const auto& nl : d.node_loads())
      loads.push_back({nl.node(), d.device(), fixed(nl.load() * 100, 2) + "%"});
  if (loads.size() > 1) {
    std::cout << '\n';
    print_table(loads);
  }
  table clients{{"CLIENT", "ROLE", "SUBS", "CALLS", "INTENTS", "LIMITED", "IDLE"}};
  for (const auto& c : reply.clients())
    clients.push_back({c.peer(), c.role(), std::to_string(c.subscriptions()),
                       std::to_string(c.calls()), std::to_string(c.intents()),
                       std::to_string(c.limited()), fixed(c.idle_s(), 1) + " s"});
  std::cout << '\n';
  print_table(clients);
}

} // namespace

int cmd_status(const global_options& g) {
  auto stub = v1::SystemService::NewStub(make_channel(g));
  v1::StatusReply reply;
  if (auto s = stub->GetStatus(make_context(g).get(), {}, &reply); !s.ok())
    return fail(s);
  if (g.json) {
    print_json(reply);
    return exit_ok;
  }
  std::cout << "version  " << reply.version() << '\n'
            << "uptime   " << fixed(reply.uptime_s(), 1) << " s\n"
            << "graph    " << or_dash(reply.graph_name()) << '\n'
            << "gateway  " << or_dash(reply.gateway_address())
            << (reply.tls() ? " tls" : " plaintext") << (reply.auth() ? " tokens" : " no-auth")
            << '\n';
  if (!reply.devices().empty())
    print_status_tables(reply);
  return exit_ok;
}

int cmd_health(const global_options& g, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(make_channel(g));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse reply;
  if (auto s = stub->Check(make_context(g).get(), req, &reply); !s.ok())
    return fail(s);
  if (g.json)
    print_json(reply);
  else
    std::cout << (service.empty() ? "server" : service) << ": "
              << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(reply.status()) << '\n';
  return reply.status() == grpc::health::v1::HealthCheckResponse::SERVING ? exit_ok
                                                                          : exit_unreachable;
}

} // namespace sg::sgctl
