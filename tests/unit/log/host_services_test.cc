#include "host/log/host_services.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <sstream>

#include "host/log/logging.h"
#include "log_test_util.h"

namespace sb {
namespace {

using ::sb::testing::ReadFile;
using ::sb::testing::ScopedTempDir;
using ::testing::HasSubstr;
using ::testing::Not;

void SetupFileLogging(const std::filesystem::path& file, LogLevel level) {
  LoggingOptions o;
  o.sink = LogSink::kFile;
  o.file = file.string();
  o.level = level;
  o.pattern = "%l|%n|%v";
  ASSERT_TRUE(SetupLogging(o).ok());
}

TEST(HostServicesTest, PluginLogReachesTheSinkUnderThePluginName) {
  ScopedTempDir dir;
  const auto file = dir.path() / "node.log";
  SetupFileLogging(file, LogLevel::kInfo);
  PluginHostServices services("storage-mem");
  const sb_host_services* hs = services.table();
  ASSERT_EQ(hs->struct_size, sizeof(sb_host_services));
  hs->log(hs->host_ctx, SB_LOG_INFO, "opened", 6);
  // A span, not a C string: only `len` bytes are logged.
  const char span[] = "partial-and-more";
  hs->log(hs->host_ctx, SB_LOG_WARN, span, 7);
  // Plugin text is never a format string.
  hs->log(hs->host_ctx, SB_LOG_ERROR, "{} %s {0}", 9);
  sb_logf(hs, SB_LOG_INFO, "compacted %d entries", 17);
  spdlog::info("host line");
  std::string text = ReadFile(file);
  EXPECT_THAT(text, HasSubstr("info|storage-mem|opened\n"));
  EXPECT_THAT(text, HasSubstr("warning|storage-mem|partial\n"));
  EXPECT_THAT(text, HasSubstr("error|storage-mem|{} %s {0}\n"));
  EXPECT_THAT(text, HasSubstr("info|storage-mem|compacted 17 entries\n"));
  EXPECT_THAT(text, HasSubstr("info|shardbearerd|host line\n"));
}

TEST(HostServicesTest, LogEnabledFollowsTheLevel) {
  ScopedTempDir dir;
  const auto file = dir.path() / "node.log";
  SetupFileLogging(file, LogLevel::kWarn);
  PluginHostServices services("raft");
  const sb_host_services* hs = services.table();
  EXPECT_EQ(hs->log_enabled(hs->host_ctx, SB_LOG_DEBUG), 0);
  EXPECT_EQ(hs->log_enabled(hs->host_ctx, SB_LOG_INFO), 0);
  EXPECT_EQ(hs->log_enabled(hs->host_ctx, SB_LOG_WARN), 1);
  EXPECT_EQ(hs->log_enabled(hs->host_ctx, SB_LOG_CRITICAL), 1);
  EXPECT_EQ(hs->log_enabled(hs->host_ctx, 1000), 1);  // clamped to critical
  hs->log(hs->host_ctx, SB_LOG_INFO, "filtered", 8);
  sb_logf(hs, SB_LOG_DEBUG, "also filtered");
  hs->log(hs->host_ctx, SB_LOG_ERROR, "kept", 4);
  hs->log(hs->host_ctx, 1000, "clamped", 7);
  hs->log(hs->host_ctx, SB_LOG_ERROR, nullptr, 5);  // bad span: empty line
  std::string text = ReadFile(file);
  EXPECT_THAT(text, Not(HasSubstr("filtered")));
  EXPECT_THAT(text, HasSubstr("error|raft|kept\n"));
  EXPECT_THAT(text, HasSubstr("critical|raft|clamped\n"));
}

TEST(HostServicesTest, ExplicitLoggerReceivesPluginLines) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto logger = std::make_shared<spdlog::logger>("node7/transport", sink);
  logger->set_pattern("%n %v");
  logger->set_level(spdlog::level::trace);
  auto clock = std::make_shared<ManualClock>();
  {
    PluginHostServices services(logger, clock);
    const sb_host_services* hs = services.table();
    EXPECT_EQ(hs->log_enabled(hs->host_ctx, SB_LOG_TRACE), 1);
    hs->log(hs->host_ctx, SB_LOG_TRACE, "dial", 4);
  }
  EXPECT_EQ(out.str(), "node7/transport dial\n");
}

TEST(HostServicesTest, ClockIsOverridable) {
  auto clock = std::make_shared<ManualClock>(1000, 1'700'000'000'000'000'000);
  PluginHostServices services("raft", clock);
  const sb_host_services* hs = services.table();
  EXPECT_EQ(hs->monotonic_ns(hs->host_ctx), 1000u);
  EXPECT_EQ(hs->wall_ns(hs->host_ctx), 1'700'000'000'000'000'000u);
  clock->Advance(500);
  EXPECT_EQ(hs->monotonic_ns(hs->host_ctx), 1500u);
  EXPECT_EQ(hs->wall_ns(hs->host_ctx), 1'700'000'000'000'000'500u);
  clock->SetWallNs(7);
  EXPECT_EQ(hs->wall_ns(hs->host_ctx), 7u);
  EXPECT_EQ(hs->monotonic_ns(hs->host_ctx), 1500u);
}

TEST(HostServicesTest, RealClockReadsStdChrono) {
  PluginHostServices services("raft");
  const sb_host_services* hs = services.table();
  uint64_t m1 = hs->monotonic_ns(hs->host_ctx);
  uint64_t m2 = hs->monotonic_ns(hs->host_ctx);
  EXPECT_LE(m1, m2);  // monotonic: never backwards
  // After 2020-01-01: the wall clock counts from the Unix epoch.
  EXPECT_GT(hs->wall_ns(hs->host_ctx), 1'577'836'800'000'000'000u);
}

}  // namespace
}  // namespace sb
