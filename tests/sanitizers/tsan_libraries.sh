#!/bin/sh
# Writes the ThreadSanitizer suppressions that stop TSan from checking calls made from inside the
# shared libraries we use but did not build: one `called_from_lib:` line per library the given
# programs load. Those libraries (gRPC and its Abseil, GStreamer and GLib, SQLite, RtAudio,
# RtMidi, libstdc++...) hand data between their own threads through atomics TSan cannot see, so
# the memcpy or epoll_wait they call would look like races. Every access of our code and of CAF
# (which the TSan build compiles itself) is still checked.
#
# Left out, so checked: the C library and the sanitizer runtime (the interceptors themselves),
# and libjack. libjack ends its threads from inside its own calls (pthread_exit, pthread_cancel
# of a thread waiting in a call); had those calls been ignored, the thread would end "with
# ignores enabled", which TSan treats as fatal. Only libjack's lock-free ring buffer is
# suppressed, by name (tests/sanitizers/defaults.cpp).
#
# usage: tsan_libraries.sh OUTPUT PROGRAM...
set -eu
out=$1
shift
tmp="$out.tmp"
for program in "$@"; do
  ldd "$program"
done | awk '$2 == "=>" { print $1 }' \
  | grep -Ev '^(libc|libm|libpthread|libdl|librt|libgcc_s|libtsan|libjack)\.so' \
  | sort -u | sed 's|^|called_from_lib:/|' > "$tmp"
mv "$tmp" "$out"
