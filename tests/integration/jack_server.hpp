#pragma once

// A JACK dummy server of a benchmark's or test's own, started when jackd is installed and
// stopped with the object. Its name is sg-<pid>; it becomes the process's default server
// (JACK_DEFAULT_SERVER), and its log goes to /tmp/<name>-jackd.log.

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/process.hpp"

namespace sg::test {

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
