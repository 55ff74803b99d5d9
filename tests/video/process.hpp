#pragma once

/// A real peer process for tests (gst-launch-1.0, gst-discoverer-1.0): started with its output
/// in a file, stopped with SIGINT (gst-launch then shuts its pipeline down) and reaped.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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

inline size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace sg::test
