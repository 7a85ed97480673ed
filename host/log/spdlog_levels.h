// host/log/spdlog_levels.h — LogLevel <-> spdlog levels. Internal to
// host/log (keeps spdlog out of the public headers). Pure functions.
#pragma once

#include <spdlog/common.h>

#include "host/config/config.h"

namespace sb {

inline spdlog::level::level_enum ToSpdlogLevel(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kCritical:
      return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace sb
