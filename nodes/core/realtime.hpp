#pragma once

#include <chrono>

/// Realtime annotations shared by every media-plane entry point.
///
/// SG_NONBLOCKING marks a function that runs on an audio thread: it must not allocate, lock,
/// log, throw or do I/O. Under clang >= 20 this is `[[clang::nonblocking]]`, which
/// `-fsanitize=realtime` enforces at run time and `-Wfunction-effects` checks at compile time;
/// other compilers ignore it.
#if defined(__clang__) && __clang_major__ >= 20
#define SG_NONBLOCKING [[clang::nonblocking]]
#else
#define SG_NONBLOCKING
#endif

namespace sg {

/// thread: any. The monotonic clock, callable from nonblocking code. libstdc++ does not
/// annotate steady_clock::now, so -Wfunction-effects cannot prove it; it is a vDSO
/// clock_gettime(CLOCK_MONOTONIC) that neither allocates nor locks, which RTSan agrees with.
inline std::chrono::steady_clock::time_point realtime_now() noexcept SG_NONBLOCKING {
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wfunction-effects"
#endif
  return std::chrono::steady_clock::now();
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
}

} // namespace sg
