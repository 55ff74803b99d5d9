// Secure by default, against the real server: tokens with roles, refusal to serve a
// non-loopback address without tokens (in-process and by the `studiograph` binary), TLS and
// mutual TLS with certificates the test makes with the openssl CLI, server reflection only on
// request, and health going SERVING after start and NOT_SERVING on shutdown of the real
// process.

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <grpcpp/generic/generic_stub.h>

#include "tests/ports.hpp"
#include "tests/gateway/fixture.hpp"
#include "tests/skip.hpp"

namespace sg::test {
namespace {

using namespace std::chrono_literals;
using health_status = grpc::health::v1::HealthCheckResponse;

constexpr const char* control_token = "ctl-0123456789abcdef-secret";
constexpr const char* read_token = "ro-0123456789abcdef-secret";

std::string temp_path(const std::string& name) {
  static int counter = 0;
  return ::testing::TempDir() + "sgsec-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++) + "-" + name;
}

std::string write_file(const std::string& name, const std::string& text, mode_t mode = 0600) {
  auto path = temp_path(name);
  std::ofstream(path) << text;
  chmod(path.c_str(), mode);
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

std::string token_file() {
  return write_file("tokens", std::string("# studio tokens\ncontrol ") + control_token +
                                "\nread-only " + read_token + "\n");
}

/// A context bearing `token` (none when empty).
std::unique_ptr<grpc::ClientContext> auth_ctx(const std::string& token,
                                              std::chrono::milliseconds timeout = 5s) {
  auto c = ctx(timeout);
  if (!token.empty())
    c->AddMetadata("authorization", "Bearer " + token);
  return c;
}

class token_gateway : public gateway_fixture {
protected:
  gateway_options gateway_opts() override {
    return {.listen = "127.0.0.1:0", .token_file = token_file()};
  }

  grpc::Status set_level(const std::string& token, double level) {
    v1::SetParamRequest req;
    req.set_node("amp");
    req.set_param("level");
    *req.mutable_value() = dbl(level);
    v1::SetParamReply reply;
    return cl_->nodes->SetParam(auth_ctx(token).get(), req, &reply);
  }

  double level() {
    v1::GetNodeRequest req;
    req.set_node("amp");
    v1::GetNodeReply reply;
    EXPECT_TRUE(cl_->nodes->GetNode(auth_ctx(read_token).get(), req, &reply).ok());
    return reply.node().params(0).value().double_value();
  }
};

TEST_F(token_gateway, calls_without_a_valid_token_are_unauthenticated) {
  v1::ListNodesReply nodes;
  auto s = cl_->nodes->ListNodes(auth_ctx("").get(), {}, &nodes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message().rfind("authorization: missing", 0), 0u) << s.error_message();
  s = cl_->nodes->ListNodes(auth_ctx("not-a-valid-token-at-all").get(), {}, &nodes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(s.error_message(), "authorization: unknown token");
  auto basic = ctx();
  basic->AddMetadata("authorization", std::string("Basic ") + control_token);
  s = cl_->nodes->ListNodes(basic.get(), {}, &nodes);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  // The secret never comes back in a message.
  EXPECT_EQ(s.error_message().find(control_token), std::string::npos);

  EXPECT_EQ(set_level("", -3).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(set_level("wrong-token-0123456789", -3).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(level(), -6);

  auto sub = auth_ctx("");
  auto reader = cl_->events->Subscribe(sub.get(), {});
  v1::Event ev;
  EXPECT_FALSE(reader->Read(&ev));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);

  // Health stays open to probes (load balancers, systemd), and says nothing else.
  grpc::health::v1::HealthCheckRequest hreq;
  health_status hrep;
  EXPECT_TRUE(cl_->health->Check(ctx().get(), hreq, &hrep).ok());
}

TEST_F(token_gateway, read_only_tokens_inspect_but_never_change) {
  v1::ListNodesReply nodes;
  EXPECT_TRUE(cl_->nodes->ListNodes(auth_ctx(read_token).get(), {}, &nodes).ok());
  EXPECT_EQ(nodes.nodes_size(), 4);
  v1::StatusReply status;
  ASSERT_TRUE(cl_->system->GetStatus(auth_ctx(read_token).get(), {}, &status).ok());
  EXPECT_TRUE(status.auth());
  auto sub = auth_ctx(read_token);
  auto reader = cl_->events->Subscribe(sub.get(), {});
  v1::Event ev;
  ASSERT_TRUE(reader->Read(&ev));
  EXPECT_TRUE(ev.has_snapshot());
  sub->TryCancel();

  auto s = set_level(read_token, -3);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "authorization: a read-only token may not call NodeService.SetParam (it needs a "
            "control token)");
  v1::BypassRequest bypass;
  bypass.set_node("amp");
  bypass.set_bypass(true);
  v1::BypassReply br;
  EXPECT_EQ(cl_->nodes->Bypass(auth_ctx(read_token).get(), bypass, &br).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ApplyGraphRequest apply;
  apply.set_yaml(gw_test_graph);
  v1::ApplyGraphReply ar;
  EXPECT_EQ(cl_->graph->ApplyGraph(auth_ctx(read_token).get(), apply, &ar).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(level(), -6);

  EXPECT_TRUE(set_level(control_token, -3).ok());
  EXPECT_EQ(level(), -3);
  // Each connection shows the role of its latest call.
  ASSERT_TRUE(cl_->system->GetStatus(auth_ctx(control_token).get(), {}, &status).ok());
  client other(address_);
  ASSERT_TRUE(other.system->GetStatus(auth_ctx(read_token).get(), {}, &status).ok());
  std::set<std::string> roles;
  for (const auto& c : status.clients())
    roles.insert(c.role());
  EXPECT_TRUE(roles.count("control") && roles.count("read-only")) << status.DebugString();
}

TEST(gateway_options_check, non_loopback_needs_a_token_file) {
  auto checked = check_gateway_options({.listen = "0.0.0.0:0"});
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("requires access tokens (--token-file"), std::string::npos)
    << checked.error();
  EXPECT_TRUE(check_gateway_options({.listen = "0.0.0.0:0", .token_file = token_file()}));
  EXPECT_TRUE(check_gateway_options({.listen = "127.0.0.1:0"}));
}

TEST(gateway_options_check, bad_token_files_are_refused_without_showing_tokens) {
  struct bad {
    std::string text;
    mode_t mode;
    const char* says;
  };
  const std::string secret = "abcdefghijklmnopqrstuvwxyz";
  for (const auto& b :
       {bad{"control " + secret + "\n", 0644, "readable by group or others"},
        bad{"admin " + secret + "\n", 0600, "unknown role 'admin'"},
        bad{"control short\n", 0600, "shorter than 16"},
        bad{"control " + secret + " extra\n", 0600, "expected 'ROLE TOKEN'"},
        bad{"# nothing\n\n", 0600, "holds no token"},
        bad{"control " + secret + "\nread-only " + secret + "\n", 0600, "twice"}}) {
    auto path = write_file("tokens", b.text, b.mode);
    auto checked = check_gateway_options({.listen = "127.0.0.1:0", .token_file = path});
    ASSERT_FALSE(checked) << b.text;
    EXPECT_NE(checked.error().find(b.says), std::string::npos) << checked.error();
    EXPECT_EQ(checked.error().find(secret), std::string::npos) << checked.error();
  }
  auto checked = check_gateway_options({.listen = "127.0.0.1:0", .token_file = "/nonexistent"});
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("cannot be read"), std::string::npos);
  checked = check_gateway_options({.listen = "127.0.0.1:0", .tls_cert = "/nonexistent"});
  ASSERT_FALSE(checked);
  EXPECT_NE(checked.error().find("--tls-key"), std::string::npos) << checked.error();
}

TEST_F(gateway_fixture, a_non_loopback_address_with_tokens_serves_them) {
  gateway wide(*rt_, {.listen = "0.0.0.0:0", .token_file = token_file()});
  auto started = wide.start();
  ASSERT_TRUE(started) << started.error();
  const std::string port = wide.address().substr(wide.address().rfind(':') + 1);
  client c("127.0.0.1:" + port);
  v1::ListNodesReply nodes;
  EXPECT_EQ(c.nodes->ListNodes(auth_ctx("").get(), {}, &nodes).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(c.nodes->ListNodes(auth_ctx(read_token).get(), {}, &nodes).ok());
}

// --- TLS ------------------------------------------------------------------------------------

/// A CA, a server certificate (localhost, 127.0.0.1) and a client certificate, made now.
std::string make_certs() {
  const std::string dir = temp_path("certs");
  const std::string cmd = std::string("sh ") + SG_SOURCE_DIR + "/tests/gateway/make_certs.sh " +
                          dir + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? dir : std::string();
}

std::shared_ptr<grpc::Channel> tls_channel(const std::string& address, const std::string& dir,
                                           bool client_cert) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(dir + "/ca.pem");
  if (client_cert) {
    ssl.pem_cert_chain = slurp(dir + "/client.pem");
    ssl.pem_private_key = slurp(dir + "/client.key");
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

TEST_F(gateway_fixture, tls_round_trip_and_mutual_tls) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0)
    SG_SKIP_MISSING("the openssl command is not installed (package openssl)");
  const auto dir = make_certs();
  ASSERT_FALSE(dir.empty()) << "make_certs.sh failed";

  gateway tls(*rt_, {.listen = "127.0.0.1:0",
                     .token_file = token_file(),
                     .tls_cert = dir + "/server.pem",
                     .tls_key = dir + "/server.key"});
  auto started = tls.start();
  ASSERT_TRUE(started) << started.error();
  auto stub = v1::SystemService::NewStub(tls_channel(tls.address(), dir, false));
  v1::StatusReply status;
  auto s = stub->GetStatus(auth_ctx(read_token).get(), {}, &status);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(status.tls());
  // A plaintext client cannot talk to a TLS server.
  auto plain = v1::SystemService::NewStub(own_channel(tls.address()));
  EXPECT_FALSE(plain->GetStatus(auth_ctx(read_token, 2s).get(), {}, &status).ok());

  gateway mutual(*rt_, {.listen = "127.0.0.1:0",
                        .tls_cert = dir + "/server.pem",
                        .tls_key = dir + "/server.key",
                        .tls_client_ca = dir + "/ca.pem"});
  started = mutual.start();
  ASSERT_TRUE(started) << started.error();
  auto anonymous = v1::SystemService::NewStub(tls_channel(mutual.address(), dir, false));
  EXPECT_FALSE(anonymous->GetStatus(ctx(2s).get(), {}, &status).ok());
  auto known = v1::SystemService::NewStub(tls_channel(mutual.address(), dir, true));
  s = known->GetStatus(ctx().get(), {}, &status);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// --- reflection -------------------------------------------------------------------------------

/// Asks the server's reflection service to list its services; returns the raw reply bytes.
std::string list_services(const std::string& address, grpc::Status& status) {
  grpc::GenericStub stub(own_channel(address));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  auto call = stub.PrepareCall(
    &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](intptr_t id) {
    cq.Next(&tag, &ok);
    EXPECT_EQ(reinterpret_cast<intptr_t>(tag), id);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  step(1);
  // ServerReflectionRequest { list_services = "" } (field 7, length-delimited, empty).
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  step(2);
  call->WritesDone(reinterpret_cast<void*>(3));
  step(3);
  grpc::ByteBuffer response;
  std::string out;
  call->Read(&response, reinterpret_cast<void*>(4));
  if (step(4)) {
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    for (const auto& s : slices)
      out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return out;
}

TEST_F(gateway_fixture, reflection_only_when_asked) {
  grpc::Status status;
  list_services(address_, status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);

  gateway reflecting(*rt_, {.listen = "127.0.0.1:0", .reflection = true});
  auto reflecting_started = reflecting.start();
  ASSERT_TRUE(reflecting_started) << reflecting_started.error();
  auto reply = list_services(reflecting.address(), status);
  EXPECT_TRUE(status.ok()) << status.error_message();
  for (const char* name : {"studiograph.v1.NodeService", "studiograph.v1.GraphService",
                           "studiograph.v1.EventService", "grpc.health.v1.Health"})
    EXPECT_NE(reply.find(name), std::string::npos) << name;
}

// --- the studiograph binary -----------------------------------------------------------------

struct process {
  pid_t pid = -1;
  std::string out, err;
};

process spawn_studiograph(const std::vector<std::string>& args) {
  process p;
  p.out = temp_path("run.out");
  p.err = temp_path("run.err");
  p.pid = fork();
  if (p.pid == 0) {
    std::vector<char*> argv;
    std::string bin = STUDIOGRAPH_PATH;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!freopen(p.out.c_str(), "w", stdout) || !freopen(p.err.c_str(), "w", stderr))
      _exit(127);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return p;
}

/// Exit code of `p` within `timeout`, or -1 (then it is killed).
int wait_exit(process& p, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(p.pid, &status, WNOHANG) == p.pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(20ms);
  }
  kill(p.pid, SIGKILL);
  waitpid(p.pid, &status, 0);
  return -1;
}

/// The address a started studiograph prints ("gRPC on HOST:PORT"), within 20 s; empty if none.
std::string gateway_address(const process& p) {
  const std::regex bound("gRPC on (127\\.0\\.0\\.1:[0-9]+)");
  std::string address;
  eventually(
    [&] {
      std::smatch m;
      const auto out = slurp(p.out);
      if (std::regex_search(out, m, bound))
        address = m[1];
      return !address.empty();
    },
    20s);
  return address;
}

TEST(studiograph_binary, refuses_a_non_loopback_address_without_tokens) {
  auto graph = write_file("graph.yaml", gw_test_graph);
  auto p = spawn_studiograph({"run", graph, "--listen", "0.0.0.0:0", "--state", "none"});
  EXPECT_EQ(wait_exit(p, 10s), 4);
  const auto err = slurp(p.err);
  EXPECT_NE(err.find("is not loopback: serving other addresses requires access tokens"),
            std::string::npos)
    << err;
  // Refused before anything started.
  EXPECT_EQ(slurp(p.out).find("running"), std::string::npos);
}

// A bad command line is a usage error (exit 1, as --help says), whatever the option; a log level
// is one of the names --help lists.
TEST(studiograph_binary, a_bad_option_value_is_a_usage_error_naming_the_option) {
  auto p = spawn_studiograph({"--log-level", "loud", "nodes"});
  EXPECT_EQ(wait_exit(p, 10s), 1);
  EXPECT_NE(slurp(p.err).find("--log-level"), std::string::npos) << slurp(p.err);
  auto q = spawn_studiograph({"--log-level", "debug", "nodes"});
  EXPECT_EQ(wait_exit(q, 10s), 0) << slurp(q.err);
  EXPECT_NE(slurp(q.out).find("audio.sine"), std::string::npos);
}

TEST(studiograph_binary, health_is_serving_after_start_and_not_serving_on_shutdown) {
  auto graph = write_file("graph.yaml", gw_test_graph);
  auto p = spawn_studiograph({"run", graph, "--listen", "127.0.0.1:0", "--state", "none"});
  const std::string address = gateway_address(p);
  ASSERT_FALSE(address.empty()) << slurp(p.err);
  client c(address);
  grpc::health::v1::HealthCheckRequest req;
  auto watch_ctx = ctx(10s);
  auto reader = c.health->Watch(watch_ctx.get(), req);
  health_status first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.status(), health_status::SERVING);
  kill(p.pid, SIGTERM);
  bool not_serving = false;
  health_status ev;
  while (reader->Read(&ev))
    not_serving |= ev.status() == health_status::NOT_SERVING;
  EXPECT_TRUE(not_serving);
  EXPECT_EQ(wait_exit(p, 10s), 0) << slurp(p.err);
}


TEST(studiograph_binary, osc_flag_serves_osc_where_told) {
  if (std::system("command -v oscsend >/dev/null 2>&1") != 0)
    SG_SKIP_MISSING("oscsend not installed (Debian: liblo-tools)");
  auto graph = write_file("graph.yaml", gw_test_graph);
  auto bad = spawn_studiograph({"run", graph, "--listen", "127.0.0.1:0", "--state", "none",
                                "--osc", "127.0.0.1"});
  EXPECT_EQ(wait_exit(bad, 10s), 2);
  EXPECT_NE(slurp(bad.err).find("--osc: expected HOST:PORT"), std::string::npos)
    << slurp(bad.err);

  const int port = free_loopback_port(SOCK_DGRAM);
  ASSERT_GT(port, 0);
  auto p = spawn_studiograph({"run", graph, "--listen", "127.0.0.1:0", "--state", "none",
                              "--osc", "127.0.0.1:" + std::to_string(port)});
  const std::string address = gateway_address(p);
  ASSERT_FALSE(address.empty()) << slurp(p.err);
  client c(address);
  v1::GetNodeReply node;
  ASSERT_TRUE(c.get("osc_server", node).ok()) << "the OSC node the flag added (\"osc\" is taken)";
  EXPECT_EQ(node.node().type(), "control.osc");
  // Sent again until it shows: the OSC server may not be listening yet. A failed send or read
  // is tried again too (a loaded machine can miss a deadline); the last one is reported.
  const std::string cmd =
    "oscsend 127.0.0.1 " + std::to_string(port) + " /sg/amp/level/commit f -31.5";
  std::string last_problem = "the value never showed";
  const bool applied = eventually(
    [&] {
      if (std::system(cmd.c_str()) != 0) {
        last_problem = "failed: " + cmd;
        return false;
      }
      v1::GetNodeReply amp;
      if (const auto got = c.get("amp", amp); !got.ok()) {
        last_problem = "GetNode amp: " + got.error_message();
        return false;
      }
      for (const auto& prm : amp.node().params())
        if (prm.name() == "level" && prm.value().double_value() == -31.5)
          return true;
      return false;
    },
    20s, 50ms);
  EXPECT_TRUE(applied) << "an OSC commit on the port --osc named: " << last_problem << "\n"
                       << slurp(p.err);
  kill(p.pid, SIGTERM);
  EXPECT_EQ(wait_exit(p, 10s), 0) << slurp(p.err);
}

} // namespace
} // namespace sg::test
