#include "host/log/host_services.h"

#include <spdlog/spdlog.h>

#include <string_view>

#include "host/log/logging.h"
#include "host/log/spdlog_levels.h"

namespace sb {

PluginHostServices::PluginHostServices(const std::string& name,
                                       std::shared_ptr<const Clock> clock)
    : PluginHostServices(spdlog::default_logger()->clone(name),
                         std::move(clock)) {}

PluginHostServices::PluginHostServices(std::shared_ptr<spdlog::logger> logger,
                                       std::shared_ptr<const Clock> clock)
    : logger_(logger ? std::move(logger) : spdlog::default_logger()),
      clock_(clock ? std::move(clock) : RealClock::Shared()),
      table_{} {
  table_.struct_size = sizeof(sb_host_services);
  table_.host_ctx = this;
  table_.log = &PluginHostServices::Log;
  table_.log_enabled = &PluginHostServices::LogEnabled;
  table_.monotonic_ns = &PluginHostServices::MonotonicNs;
  table_.wall_ns = &PluginHostServices::WallNs;
}

PluginHostServices::~PluginHostServices() {
  // Lines a plugin wrote just before it was destroyed reach the sink.
  logger_->flush();
}

void PluginHostServices::Log(void* ctx, int32_t level, const char* msg,
                             size_t len) {
  auto* self = static_cast<PluginHostServices*>(ctx);
  if (self == nullptr) return;
  if (msg == nullptr) len = 0;
  // The message is a byte span (not NUL-terminated): log exactly `len`
  // bytes, with no format parsing of plugin text.
  self->logger_->log(ToSpdlogLevel(FromAbiLevel(level)),
                     std::string_view(msg == nullptr ? "" : msg, len));
}

int32_t PluginHostServices::LogEnabled(void* ctx, int32_t level) {
  auto* self = static_cast<PluginHostServices*>(ctx);
  if (self == nullptr) return 0;
  return self->logger_->should_log(ToSpdlogLevel(FromAbiLevel(level))) ? 1 : 0;
}

uint64_t PluginHostServices::MonotonicNs(void* ctx) {
  auto* self = static_cast<PluginHostServices*>(ctx);
  return self != nullptr ? self->clock_->MonotonicNs() : 0;
}

uint64_t PluginHostServices::WallNs(void* ctx) {
  auto* self = static_cast<PluginHostServices*>(ctx);
  return self != nullptr ? self->clock_->WallNs() : 0;
}

}  // namespace sb
