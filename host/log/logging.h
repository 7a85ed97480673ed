// host/log/logging.h — the node's logging, on spdlog.
//
// SetupLogging() builds spdlog's default logger from [logging]: the level,
// the sink (stderr, or a file that is appended to and optionally rotated by
// size) and the pattern. The host logs through spdlog's free functions
// (spdlog::info(...)) or HostLogger(); each plugin instance gets a logger of
// its own name through PluginHostServices (host_services.h), sharing the
// same sinks.
//
// Messages at warn and above are flushed at once; the rest at least once a
// second.
//
// Thread safety: SetupLogging() replaces the default logger; call it before
// other threads log (at start-up). Logging itself is thread-safe.
#pragma once

#include <memory>

#include "host/common/status.h"
#include "host/config/config.h"

namespace spdlog {
class logger;
}

namespace sb {

// Name of the host's own logger (the %n of the pattern).
inline constexpr char kHostLoggerName[] = "shardbearerd";

// Configures spdlog's default logger. InvalidArgument for an incomplete
// option set (sink = file without a file); IOError when the log file cannot
// be opened or created. On error the previous default logger stays.
Status SetupLogging(const LoggingOptions& options);

// The default logger (the one SetupLogging() installed).
std::shared_ptr<spdlog::logger> HostLogger();

// Maps an ABI level (SB_LOG_*) to ours. Out-of-range values are clamped to
// the nearest level: a plugin's bad level never loses the message.
LogLevel FromAbiLevel(int32_t level);

}  // namespace sb
