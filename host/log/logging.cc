#include "host/log/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "host/log/spdlog_levels.h"

namespace sb {

Status SetupLogging(const LoggingOptions& options) {
  spdlog::sink_ptr sink;
  switch (options.sink) {
    case LogSink::kStderr:
      // Colours only when stderr is a terminal.
      sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      break;
    case LogSink::kFile:
      if (options.file.empty()) {
        return Status::InvalidArgument(
            "logging.file: required with sink = \"file\"");
      }
      try {
        // Both sinks append and create missing parent directories.
        if (options.rotate_bytes > 0) {
          sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
              options.file, static_cast<size_t>(options.rotate_bytes),
              static_cast<size_t>(options.rotate_files));
        } else {
          sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(
              options.file, /*truncate=*/false);
        }
      } catch (const spdlog::spdlog_ex& e) {
        return Status::IOError("cannot open log file '" + options.file +
                               "': " + e.what());
      }
      break;
  }
  auto logger = std::make_shared<spdlog::logger>(kHostLoggerName, sink);
  logger->set_level(ToSpdlogLevel(options.level));
  try {
    logger->set_pattern(options.pattern.empty() ? kDefaultLogPattern
                                                : options.pattern);
  } catch (const spdlog::spdlog_ex& e) {
    return Status::InvalidArgument(
        "logging.pattern: '" + options.pattern +
        "' is not a valid spdlog pattern: " + e.what());
  }
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  // Flushes every registered logger, hence the shared sinks, so plugin
  // loggers' lines reach the file too.
  spdlog::flush_every(std::chrono::seconds(1));
  return Status::OK();
}

std::shared_ptr<spdlog::logger> HostLogger() {
  return spdlog::default_logger();
}

LogLevel FromAbiLevel(int32_t level) {
  if (level <= SB_LOG_TRACE) return LogLevel::kTrace;
  if (level >= SB_LOG_CRITICAL) return LogLevel::kCritical;
  switch (level) {
    case SB_LOG_DEBUG:
      return LogLevel::kDebug;
    case SB_LOG_INFO:
      return LogLevel::kInfo;
    case SB_LOG_WARN:
      return LogLevel::kWarn;
    default:
      return LogLevel::kError;
  }
}

}  // namespace sb
