// Negative control for the RealtimeSanitizer build: blocks inside a [[clang::nonblocking]]
// function on purpose. Its test passes only on RTSan's report naming the blocking call; if the
// sanitizer were silently missing, this program would exit 0 without one and the test would fail.

#include <cstdio>
#include <cstring>
#include <mutex>

namespace {

// Escapes through a global so the compiler cannot elide the allocation.
float* volatile sink = nullptr;
std::mutex lock;

void allocate(unsigned n) noexcept [[clang::nonblocking]] {
  // -Wfunction-effects would reject this at compile time; that check is off for this file
  // so that the run-time check is what gets tested.
  sink = new float[n];
}

void take_lock() noexcept [[clang::nonblocking]] {
  std::lock_guard<std::mutex> guard(lock);
  sink = nullptr;
}

} // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "malloc";
  if (std::strcmp(mode, "malloc") == 0)
    allocate(static_cast<unsigned>(argc) * 256);
  else if (std::strcmp(mode, "mutex") == 0)
    take_lock();
  else
    return 2;
  std::puts("not aborted: RealtimeSanitizer is not active");
  delete[] sink;
  return 0;
}
