#pragma once

/// Child processes for integration tests: the JACK server, studiograph itself, sgctl, jack_lsp.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sg::test {

/// A child process, stopped with SIGTERM (then SIGKILL) when it goes out of scope, and sent
/// SIGTERM when the test process dies without that (a sanitizer's abort, a ctest timeout), so
/// no JACK server or studiograph outlives its test. fork + exec rather than posix_spawn for
/// PR_SET_PDEATHSIG; only async-signal-safe calls run between the two. The signal follows the
/// thread that started the child: start children from the test's own thread.
class child {
public:
  /// Starts `argv[0]` (looked up in PATH) with stdout and stderr appended to `log`.
  child(const std::vector<std::string>& argv, const std::string& log) {
    std::vector<char*> args;
    for (const auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ != 0)
      return;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
      _exit(127);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
      _exit(127);
    execvp(args[0], args.data());
    static const char failed[] = "test harness: could not execute the program\n";
    [[maybe_unused]] const auto n = write(2, failed, sizeof failed - 1);
    _exit(127);
  }
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  ~child() { stop(); }

  bool started() const { return pid_ > 0; }

  /// True while the process has not exited.
  bool running() {
    if (pid_ <= 0)
      return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }

  /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000)) {
    if (!running())
      return exit_status_;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (running() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (running()) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
      exit_status_ = 137;
      pid_ = -1;
    }
    return exit_status_;
  }

private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

struct run_result {
  int exit_code = -1;
  std::string output;
};

/// Runs a shell command to completion, capturing stdout (stderr too with 2>&1 in `cmd`).
inline run_result run(const std::string& cmd) {
  run_result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// True when `program` is on PATH.
inline bool have(const std::string& program) {
  return run("command -v " + program + " >/dev/null 2>&1").exit_code == 0;
}

} // namespace sg::test
