// host/log/host_services.h — the sb_host_services table given to a plugin.
//
// Every plugin instance is created with a borrowed sb_host_services
// (shardbearer/abi/common.h): logging under the instance's name, and the
// monotonic and wall clocks. PluginHostServices owns one such table and
// everything behind it, so the table and its host_ctx are valid exactly as
// long as the object lives: create it before the plugin instance, destroy it
// after.
//
//   log          -> an spdlog logger named after the instance (the %n of the
//                   pattern), sharing the default logger's sinks, level and
//                   pattern as they were when this object was made
//   log_enabled  -> that logger's level
//   monotonic_ns -> Clock::MonotonicNs()   (RealClock unless given another)
//   wall_ns      -> Clock::WallNs()
//
// Thread safety: the table's functions are thread-safe, as the ABI requires.
// The object is neither copied nor moved (host_ctx points at it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "host/log/clock.h"
#include "shardbearer/abi/common.h"

namespace spdlog {
class logger;
}

namespace sb {

class PluginHostServices {
 public:
  // Logs under `name` (e.g. "storage-rocksdb"; the loader uses the plugin's
  // name, or "name/instance" when a plugin has several instances).
  explicit PluginHostServices(
      const std::string& name,
      std::shared_ptr<const Clock> clock = RealClock::Shared());
  // Logs to `logger` instead (e.g. a simulation capturing each node's log).
  PluginHostServices(std::shared_ptr<spdlog::logger> logger,
                     std::shared_ptr<const Clock> clock);
  ~PluginHostServices();

  PluginHostServices(const PluginHostServices&) = delete;
  PluginHostServices& operator=(const PluginHostServices&) = delete;

  // Borrowed by the plugin; valid while this object lives.
  const sb_host_services* table() const { return &table_; }
  spdlog::logger& logger() const { return *logger_; }
  const Clock& clock() const { return *clock_; }

 private:
  static void Log(void* ctx, int32_t level, const char* msg, size_t len);
  static int32_t LogEnabled(void* ctx, int32_t level);
  static uint64_t MonotonicNs(void* ctx);
  static uint64_t WallNs(void* ctx);

  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<const Clock> clock_;
  sb_host_services table_;
};

}  // namespace sb
