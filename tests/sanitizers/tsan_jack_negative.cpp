// ThreadSanitizer's negative control for code on libjack's threads: a JACK process callback
// writes a plain variable that the main thread reads without synchronisation. The ctest entry
// passes only on TSan's race report naming the callback, which proves that the TSan build
// checks what runs on the JACK process thread (tsan-libraries.supp leaves libjack checked).
// Exit 1 when no report came; the JACK server goes with the process either way.

#include <jack/jack.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "tests/integration/jack_server.hpp"

namespace {

int unsynchronised_cycles = 0;  // deliberately neither atomic nor locked

int tsan_negative_process(jack_nframes_t, void*) {
  ++unsynchronised_cycles;
  return 0;
}

} // namespace

int main() {
  sg::test::jack_server server(128, false);
  if (!server.up()) {
    std::fprintf(stderr, "the JACK dummy server did not start; see %s\n", server.log().c_str());
    return 1;
  }
  jack_status_t status{};
  jack_client_t* client = jack_client_open("sg-tsan-negative", JackNoStartServer, &status);
  if (!client) {
    std::fprintf(stderr, "jack_client_open failed (status 0x%x)\n", unsigned(status));
    return 1;
  }
  jack_set_process_callback(client, tsan_negative_process, nullptr);
  if (jack_activate(client) != 0) {
    std::fprintf(stderr, "jack_activate failed\n");
    return 1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int seen = 0;
  while (seen < 100 && std::chrono::steady_clock::now() < deadline) {
    seen = unsynchronised_cycles;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  jack_client_close(client);
  std::fprintf(stderr, "no ThreadSanitizer report after %d cycles\n", seen);
  return 1;
}
