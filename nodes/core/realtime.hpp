#pragma once

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
