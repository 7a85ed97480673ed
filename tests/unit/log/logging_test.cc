#include "host/log/logging.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "log_test_util.h"

namespace sb {
namespace {

using ::sb::testing::ReadFile;
using ::sb::testing::ScopedTempDir;
using ::testing::HasSubstr;
using ::testing::Not;

LoggingOptions FileOptions(const std::filesystem::path& file, LogLevel level) {
  LoggingOptions o;
  o.sink = LogSink::kFile;
  o.file = file.string();
  o.level = level;
  o.pattern = "%l|%n|%v";
  return o;
}

TEST(LoggingTest, FileSinkWritesWithThePattern) {
  ScopedTempDir dir;
  const auto file = dir.path() / "sub" / "node.log";  // parent is created
  ASSERT_TRUE(SetupLogging(FileOptions(file, LogLevel::kInfo)).ok());
  spdlog::info("hello {}", 42);
  EXPECT_EQ(ReadFile(file), "info|shardbearerd|hello 42\n");
}

TEST(LoggingTest, LevelFiltersMessages) {
  ScopedTempDir dir;
  const auto file = dir.path() / "node.log";
  ASSERT_TRUE(SetupLogging(FileOptions(file, LogLevel::kWarn)).ok());
  spdlog::debug("debug-line");
  spdlog::info("info-line");
  spdlog::warn("warn-line");
  spdlog::error("error-line");
  std::string text = ReadFile(file);
  EXPECT_THAT(text, Not(HasSubstr("debug-line")));
  EXPECT_THAT(text, Not(HasSubstr("info-line")));
  EXPECT_THAT(text, HasSubstr("warning|shardbearerd|warn-line"));
  EXPECT_THAT(text, HasSubstr("error|shardbearerd|error-line"));

  ASSERT_TRUE(SetupLogging(FileOptions(file, LogLevel::kTrace)).ok());
  spdlog::trace("trace-line");
  EXPECT_THAT(ReadFile(file), HasSubstr("trace|shardbearerd|trace-line"));
}

TEST(LoggingTest, FileIsAppendedNotTruncated) {
  ScopedTempDir dir;
  const auto file = dir.path() / "node.log";
  {
    std::ofstream out(file);
    out << "earlier run\n";
  }
  ASSERT_TRUE(SetupLogging(FileOptions(file, LogLevel::kInfo)).ok());
  spdlog::info("later run");
  EXPECT_EQ(ReadFile(file), "earlier run\ninfo|shardbearerd|later run\n");
}

TEST(LoggingTest, RotatingFileSinkRotatesBySize) {
  ScopedTempDir dir;
  const auto file = dir.path() / "node.log";
  LoggingOptions o = FileOptions(file, LogLevel::kInfo);
  o.rotate_bytes = 4096;
  o.rotate_files = 2;
  ASSERT_TRUE(SetupLogging(o).ok());
  const std::string line(100, 'x');
  for (int i = 0; i < 100; ++i) spdlog::info("{} {}", i, line);  // ~10 KB
  spdlog::default_logger()->flush();
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "node.1.log"));
  EXPECT_LE(std::filesystem::file_size(file), 4096u);
  EXPECT_THAT(ReadFile(file), HasSubstr("99 xxx"));
}

TEST(LoggingTest, UnopenableFileIsAnIOErrorAndKeepsTheOldLogger) {
  ScopedTempDir dir;
  const auto good = dir.path() / "good.log";
  ASSERT_TRUE(SetupLogging(FileOptions(good, LogLevel::kInfo)).ok());
  // A regular file where a directory is needed.
  const auto blocker = dir.path() / "blocker";
  std::ofstream(blocker) << "x";
  Status st = SetupLogging(FileOptions(blocker / "node.log", LogLevel::kInfo));
  EXPECT_EQ(st.code(), Code::kIOError) << st.ToString();
  EXPECT_THAT(st.message(), HasSubstr("blocker/node.log"));
  spdlog::info("still here");
  EXPECT_THAT(ReadFile(good), HasSubstr("still here"));
}

TEST(LoggingTest, FileSinkWithoutFileIsInvalid) {
  LoggingOptions o;
  o.sink = LogSink::kFile;
  EXPECT_TRUE(SetupLogging(o).IsInvalidArgument());
}

TEST(LoggingTest, StderrSinkAndDefaultPattern) {
  LoggingOptions o;  // stderr, info, default pattern
  ASSERT_TRUE(SetupLogging(o).ok());
  ::testing::internal::CaptureStderr();
  spdlog::info("to stderr");
  spdlog::debug("not shown");
  spdlog::default_logger()->flush();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("info  [shardbearerd] to stderr"));
  EXPECT_THAT(err, Not(HasSubstr("not shown")));
}

TEST(LoggingTest, AbiLevelsMapAndClamp) {
  EXPECT_EQ(FromAbiLevel(SB_LOG_TRACE), LogLevel::kTrace);
  EXPECT_EQ(FromAbiLevel(SB_LOG_DEBUG), LogLevel::kDebug);
  EXPECT_EQ(FromAbiLevel(SB_LOG_INFO), LogLevel::kInfo);
  EXPECT_EQ(FromAbiLevel(SB_LOG_WARN), LogLevel::kWarn);
  EXPECT_EQ(FromAbiLevel(SB_LOG_ERROR), LogLevel::kError);
  EXPECT_EQ(FromAbiLevel(SB_LOG_CRITICAL), LogLevel::kCritical);
  EXPECT_EQ(FromAbiLevel(-7), LogLevel::kTrace);
  EXPECT_EQ(FromAbiLevel(99), LogLevel::kCritical);
}

}  // namespace
}  // namespace sb
