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
const char* __tsan_default_options() {
  return "halt_on_error=1:second_deadlock_stack=1:history_size=4";
}

const char* __lsan_default_suppressions() {
  return "";
}

const char* __tsan_default_suppressions() {
  return "";
}

} // extern "C"
