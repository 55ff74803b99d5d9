#pragma once

/// Logging of both programs: every library logs through spdlog's default logger, which the
/// program points at stderr, one line per message with time, program and level. CLI output
/// (tables, replies, a graph file's diagnostics) is not logging and goes to stdout/stderr
/// directly.

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <map>
#include <string>

namespace sg {

/// Adds `--log-level LEVEL` to `app` (trace, debug, info, warn, error, off); `level` keeps the
/// program's default when the option is not given.
inline void add_log_level_option(CLI::App& app, std::string& level) {
  const std::map<std::string, std::string> levels = {
    {"trace", "trace"}, {"debug", "debug"}, {"info", "info"},
    {"warn", "warn"},   {"error", "error"}, {"off", "off"}};
  app.add_option("--log-level", level, "log messages from this level up on stderr")
    ->transform(CLI::CheckedTransformer(levels))
    ->capture_default_str();
}

/// Sends every later log message to stderr as "TIME [program] level: message", from `level` up.
inline void start_logging(const std::string& program, const std::string& level) {
  auto logger = spdlog::stderr_color_mt(program);
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%n] %^%l%$: %v");
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(std::move(logger));
}

} // namespace sg
