#pragma once

/// Skipping a test, the one way. A test skips only when something it needs is absent, and
/// says what. Two kinds:
///
/// - SG_SKIP_MISSING: a tool, package or service the machine could have (jackd, oscsend,
///   gst-launch-1.0...). Under CI=true this is a failure: CI installs everything scripts/test
///   lists, so a missing piece there means the suite did not run.
/// - SG_SKIP_NO_HARDWARE: hardware this kind of machine never has (a camera, a display, a
///   sound card). Skipped everywhere.
///
/// Either way the reason is appended to the file named by SG_SKIP_LOG (scripts/test sets it
/// and prints the list at the end). A server the test starts itself that does not come up
/// (jackd installed but refusing to start) is not a skip at all: the test fails.

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace sg::test {

/// True under CI=true: a missing tool fails instead of skipping.
inline bool strict_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

/// Appends "suite.case: reason" to $SG_SKIP_LOG when it is set.
inline void log_skip(const std::string& kind, const std::string& reason) {
  const char* path = std::getenv("SG_SKIP_LOG");
  if (path == nullptr || *path == '\0')
    return;
  std::string name = "(outside a test)";
  if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
    name = std::string(info->test_suite_name()) + "." + info->name();
  std::ofstream(path, std::ios::app) << name << " [" << kind << "]: " << reason << "\n";
}

} // namespace sg::test

/// Skips (fails under CI=true) because a tool or package is missing; `msg` is streamed.
/// Returns from the calling function like GTEST_SKIP.
#define SG_SKIP_MISSING(msg)                                                                 \
  do {                                                                                       \
    std::ostringstream sg_skip_reason_;                                                      \
    sg_skip_reason_ << msg;                                                                  \
    if (::sg::test::strict_ci())                                                             \
      GTEST_FAIL() << "CI=true requires it: " << sg_skip_reason_.str();                      \
    ::sg::test::log_skip("missing", sg_skip_reason_.str());                                  \
    GTEST_SKIP() << sg_skip_reason_.str();                                                   \
  } while (0)

/// Skips everywhere: the test needs hardware this kind of machine never has.
#define SG_SKIP_NO_HARDWARE(msg)                                                             \
  do {                                                                                       \
    std::ostringstream sg_skip_reason_;                                                      \
    sg_skip_reason_ << msg;                                                                  \
    ::sg::test::log_skip("no hardware", sg_skip_reason_.str());                              \
    GTEST_SKIP() << sg_skip_reason_.str();                                                   \
  } while (0)
