// Linked into every program of a sanitized build (SG_SANITIZE=address or thread): the runtime
// options and suppressions, so that ctest, the studiograph and sgctl processes the tests start
// and a developer's manual run all behave alike, without environment variables. An options
// variable set in the environment still wins for a manual investigation.
//
// A suppression is allowed only where the fault is in a library we use, never in our code; each
// one says why.

extern "C" {

// Any report fails the process (UBSan through halt_on_error). Leaks are reported at
// exit: our own objects must all be freed.
const char* __asan_default_options() {
  return "detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0:"
         "check_initialization_order=1:strict_init_order=1";
}

// Reports are recoverable at compile time only so that ubsan.supp can apply; halt_on_error
// makes every report that is not suppressed fatal all the same.
const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1:suppressions=" SG_SANITIZERS_DIR "/ubsan.supp";
}

// The first race aborts the process, with both stacks of a lock-order inversion.
// The libraries we use but did not build (gRPC and its Abseil, GStreamer and GLib, SQLite,
// RtAudio...) hand data between their own threads through atomics TSan cannot see, so the
// memcpy or epoll_wait they call would look like races: the build lists them in
// tsan-libraries.supp (tests/sanitizers/tsan_libraries.sh), one `called_from_lib:` each, and
// calls from inside them are not checked. Every access of our code and of CAF (which the TSan
// build compiles itself) still is, and so are libjack's calls, on the JACK process thread too.
// Configuring the build writes a first, empty list, so that the programs run while the build
// is under way (gtest's test listing) start too.
const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:history_size=4:"
         "ignore_noninstrumented_modules=0:suppressions=" SG_TSAN_LIBRARIES;
}

const char* __lsan_default_suppressions() {
  return "leak:libfontconfig.so\n"
         "leak:libglib-2.0.so\n";
}

const char* __tsan_default_suppressions() {
  // gRPC's callback API (the health and reflection services use it): its call objects live in
  // grpcpp's headers, so they are compiled into our programs, instrumented, but libgrpc hands
  // them between its threads without TSan seeing how. Frames of those objects only; our
  // handlers' own accesses are still checked.
  return "race:grpc::internal::CallOpSet\n"
         "race:grpc::internal::Callback\n"
         "race:grpc::internal::InterceptorBatchMethodsImpl\n"
         "race:grpc::Server::CallbackRequest\n"
         // libjack's lock-free ring buffer (the tests' MIDI sender uses it): its memory barriers
         // are in libjack, which is not built with TSan.
         "race:jack_ringbuffer_\n";
}

} // extern "C"
