#pragma once

// A JACK dummy server of a benchmark's or test's own, started when jackd is installed and
// stopped with the object. Its name is sg-<pid>; it becomes the process's default server
// (JACK_DEFAULT_SERVER), and its log goes to /tmp/<name>-jackd.log.

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/process.hpp"

namespace sg::test {

/// Late cycles in a JACK server's log so far: a client not done in time ("client = NAME was not
/// finished"), per client name, and the server's own late wake-ups ("JackTimedDriver::Process
/// XRun"), which no client causes.
struct jack_late_cycles {
  uint64_t client = 0;
  uint64_t server = 0;
};

inline jack_late_cycles count_late_cycles(const std::string& log, const std::string& client) {
  std::ifstream in(log);
  jack_late_cycles n;
  const std::string ours = "client = " + client + " was not finished";
  for (std::string line; std::getline(in, line);) {
    if (line.find(ours) != std::string::npos)
      ++n.client;
    else if (line.find("JackTimedDriver::Process XRun") != std::string::npos)
      ++n.server;
  }
  return n;
}

/// How many late cycles a client may have in a stretch of time without being blamed for them,
/// given `machine`, the late cycles the machine produced on its own over the same length of
/// time (measured in the same run: control windows, a trivial peer client, the server's own late
/// wake-ups). Late cycles on an idle machine come in rare, independent bursts, so a count is
/// judged as a Poisson count: the expected number plus three standard deviations plus 3.
/// A client that costs a deadline every few hundred cycles (a swap that blocks, say) exceeds it
/// by far; the machine's own noise, which may be 0 in one window and 11 in the next, does not.
inline double late_cycle_allowance(double machine) {
  return machine + 3 * std::sqrt(machine) + 3;
}

class jack_server {
public:
  /// `realtime`: run the server SCHED_FIFO (--realtime) instead of --no-realtime.
  jack_server(uint32_t block, bool realtime) {
    if (!sg::test::have("jackd") || !sg::test::have("jack_lsp"))
      return;
    name_ = "sg-" + std::to_string(getpid());
    setenv("JACK_DEFAULT_SERVER", name_.c_str(), 1);
    setenv("JACK_NO_AUDIO_RESERVATION", "1", 1);
    proc_ = std::make_unique<sg::test::child>(
      std::vector<std::string>{"nice", "-n", "-10", "jackd",
                               realtime ? "--realtime" : "--no-realtime", "-n", name_, "-d",
                               "dummy", "-r", "48000", "-p", std::to_string(block)},
      log());
    for (int i = 0; i < 100 && !up_; ++i) {
      up_ = sg::test::run("jack_lsp -s " + name_ + " >/dev/null 2>&1").exit_code == 0;
      if (!up_)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  bool up() const { return up_; }
  const std::string& name() const { return name_; }
  std::string log() const { return "/tmp/" + name_ + "-jackd.log"; }

private:
  std::string name_;
  std::unique_ptr<sg::test::child> proc_;
  bool up_ = false;
};

} // namespace sg::test
