#pragma once

/// A real peer process for tests (gst-launch-1.0, gst-discoverer-1.0, sgctl top): started with
/// its output in a file, stopped with SIGINT (gst-launch then shuts its pipeline down) and
/// reaped. Also: whether a UDP port is bound, to wait for a receiver before sending to it.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sg::test {

/// The full path of `tool` on PATH, or "".
inline std::string find_tool(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (::access((dir + "/" + tool).c_str(), X_OK) == 0)
      return dir + "/" + tool;
  return {};
}

class process {
public:
  /// Starts `argv` with stdout and stderr going to `log`.
  process(std::vector<std::string> argv, std::string log) : log_(std::move(log)) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
  }

  ~process() { stop(); }

  bool running() const { return pid_ > 0; }

  /// True once the process has ended by itself (or never started); it is then reaped.
  bool exited() {
    if (pid_ > 0 && ::waitpid(pid_, &status_, WNOHANG) == pid_)
      pid_ = -1;
    return pid_ <= 0;
  }

  /// SIGINT, then SIGKILL if it has not exited after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(3)) {
    if (pid_ <= 0)
      return status_;
    ::kill(pid_, SIGINT);
    const auto end = std::chrono::steady_clock::now() + grace;
    while (::waitpid(pid_, &status_, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status_, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    return status_;
  }

  /// Waits for the process to exit by itself.
  int wait() {
    if (pid_ > 0)
      ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }

  std::string output() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string log_;
};

/// Runs `argv` to completion and returns what it printed.
inline std::string run_tool(std::vector<std::string> argv, const std::string& log) {
  process p(std::move(argv), log);
  p.wait();
  return p.output();
}

/// True when a UDP socket of any process is bound to `port` (IPv4 or IPv6), from /proc/net.
inline bool udp_port_bound(int port) {
  char hex[8];
  std::snprintf(hex, sizeof hex, ":%04X", port);
  for (const char* table : {"/proc/net/udp", "/proc/net/udp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local;
      fields >> slot >> local;
      if (local.size() > 5 && local.compare(local.size() - 5, 5, hex) == 0)
        return true;
    }
  }
  return false;
}

/// Waits until `receiver` has bound the UDP `port` (true), or it ended, or 10 s passed.
inline bool wait_for_port(process& receiver, int port) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!udp_port_bound(port)) {
    if (receiver.exited() || std::chrono::steady_clock::now() >= end)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace sg::test
