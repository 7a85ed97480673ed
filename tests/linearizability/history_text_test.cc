// The text form of a history: exact round trips, clear errors with line
// numbers, files, and the sb-lincheck CLI on saved histories.
#include "tests/linearizability/history_text.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/linearizability/history.h"

namespace sb::lincheck {
namespace {

bool SameOperation(const Operation& a, const Operation& b) {
  return a.client == b.client && a.kind == b.kind && a.key == b.key &&
         a.value == b.value && a.expected == b.expected &&
         a.output == b.output && a.cas_succeeded == b.cas_succeeded &&
         a.invoke == b.invoke && a.ret == b.ret && a.outcome == b.outcome;
}

History EveryShape() {
  const std::string binary("a\0b\"\\\n\r\t\x7f\xff c", 12);
  return {
      MakeGet(1, "k", std::nullopt, -5, 3),
      MakeGet(2, binary, binary, 0, 10),
      MakeGet(3, "k", std::nullopt, 7, 0, Outcome::kUnknown),
      MakePut(18446744073709551615ull, "k", "", 1, 2),
      MakePut(4, "k", "v w", 1, 2, Outcome::kFailed),
      MakeAppend(5, "", binary, 3, 0, Outcome::kUnknown),
      MakeDelete(6, "k", 4, 4),
      MakeCas(7, "k", std::nullopt, "n", true, 5, 9),
      MakeCas(8, "k", "", "n", false, 5, 9),
      MakeCas(9, "k", "e", "n", false, 5, 9, Outcome::kFailed),
      MakeCas(10, "k", "e", "n", false, 5, 0, Outcome::kUnknown),
  };
}

TEST(HistoryTextTest, RoundTripsEveryShape) {
  const History h = EveryShape();
  const std::string text = DumpHistory(h);
  History back;
  std::string error;
  ASSERT_TRUE(ParseHistory(text, &back, &error)) << error << "\n" << text;
  ASSERT_EQ(back.size(), h.size());
  for (size_t i = 0; i < h.size(); ++i) {
    EXPECT_TRUE(SameOperation(back[i], h[i]))
        << "#" << i << ": " << FormatOperationLine(h[i]) << " came back as "
        << FormatOperationLine(back[i]);
  }
}

TEST(HistoryTextTest, LineFormat) {
  EXPECT_EQ(FormatOperationLine(MakePut(1, "k", "v1", 10, 20)),
            "1 10 20 ok put \"k\" \"v1\"");
  EXPECT_EQ(FormatOperationLine(MakeGet(2, "k", std::nullopt, 15, 30)),
            "2 15 30 ok get \"k\" -> nil");
  EXPECT_EQ(FormatOperationLine(
                MakeCas(3, "k", "v1", "v2", false, 40, 0, Outcome::kUnknown)),
            "3 40 inf unknown cas \"k\" \"v1\" \"v2\"");
  EXPECT_EQ(FormatOperationLine(MakeGet(4, "\x01", "\"", 0, 1)),
            "4 0 1 ok get \"\\x01\" -> \"\\\"\"");
}

TEST(HistoryTextTest, CommentsAndBlankLines) {
  History h;
  std::string error;
  ASSERT_TRUE(
      ParseHistory("# a comment\n\n  \t\n1 0 1 ok put \"k\" \"v\"\r\n"
                   "   # indented comment\n2 2 3 ok get \"k\" -> "
                   "\"v\"",
                   &h, &error))
      << error;
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].output, "v");
}

TEST(HistoryTextTest, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"x 0 1 ok get \"k\" -> nil", "line 1: bad client id 'x'"},
      {"1 a 1 ok get \"k\" -> nil", "line 1: bad invoke time"},
      {"1 0 b ok get \"k\" -> nil", "line 1: bad return time"},
      {"1 0 1 maybe get \"k\" -> nil", "line 1: bad outcome 'maybe'"},
      {"1 0 1 ok scan \"k\"", "line 1: bad kind 'scan'"},
      {"1 0 1 ok get k -> nil", "key must be a quoted string"},
      {"1 0 1 ok get \"k\"", "an ok get needs '-> output'"},
      {"1 0 1 ok get \"k -> nil", "unterminated string"},
      {"1 0 1 ok get \"\\q\" -> nil", "unknown escape \\q"},
      {"1 0 1 ok get \"\\x4\" -> nil", "\\x needs two hex digits"},
      {"1 0 1 ok put \"k\"", "expected a value as a quoted string"},
      {"1 0 1 ok put \"k\" \"v\" extra", "unexpected 'extra'"},
      {"1 0 1 failed get \"k\" -> nil", "only ok get and cas"},
      {"1 0 1 ok cas \"k\" nil \"v\" -> maybe", "expected true or false"},
      {"1 5 1 ok put \"k\" \"v\"", "invoke time is after return time"},
      {"1 0 inf ok put \"k\" \"v\"", "return time inf is only valid"},
      {"1 0 9 unknown put \"k\" \"v\"", "must have return time inf"},
      {"1 0 1 ok delete \"k\" \"v\"", "unexpected \"v\""},
      {"1 0 1 ok get \"k\"\"j\" -> nil", "missing space after a string"},
      {"1 0 1 ok get \"k\" -> nil\n1 0 1 ok pu", "line 2: "},
      {"99999999999999999999 0 1 ok get \"k\" -> nil", "bad client id"},
  };
  for (const Case& c : cases) {
    History h;
    std::string error;
    EXPECT_FALSE(ParseHistory(c.text, &h, &error)) << c.text;
    EXPECT_NE(error.find(c.message), std::string::npos)
        << "input: " << c.text << "\nerror: " << error
        << "\nexpected to contain: " << c.message;
  }
}

// ---- files and the CLI --------------------------------------------------

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/lincheck_" + name;
}

// Runs sb-lincheck with `args`, returns its exit status and stdout.
int RunCli(const std::string& args, std::string* out) {
  const std::string cmd = std::string(SB_LINCHECK_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(HistoryTextTest, FileRoundTrip) {
  const std::string path = TempPath("file_round_trip.txt");
  std::string error;
  ASSERT_TRUE(WriteHistoryFile(path, EveryShape(), &error)) << error;
  History back;
  ASSERT_TRUE(ReadHistoryFile(path, &back, &error)) << error;
  EXPECT_EQ(DumpHistory(back), DumpHistory(EveryShape()));
  std::remove(path.c_str());
  EXPECT_FALSE(ReadHistoryFile(path, &back, &error));
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST(HistoryTextTest, CliVerdictsAndExitCodes) {
  const std::string good = TempPath("cli_good.txt");
  const std::string bad = TempPath("cli_bad.txt");
  const std::string broken = TempPath("cli_broken.txt");
  std::string error;
  ASSERT_TRUE(WriteHistoryFile(
      good, {MakePut(1, "k", "a", 0, 10), MakeGet(2, "k", "a", 5, 20)},
      &error));
  ASSERT_TRUE(WriteHistoryFile(
      bad,
      {MakePut(1, "k", "a", 0, 10), MakePut(1, "k", "b", 20, 30),
       MakeGet(2, "k", "a", 40, 50)},
      &error));
  std::ofstream(broken) << "1 0 1 ok get \"k\"\n";

  std::string out;
  EXPECT_EQ(RunCli(good, &out), 0) << out;
  EXPECT_NE(out.find("history is linearizable"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCli(bad, &out), 1) << out;
  EXPECT_NE(out.find("not linearizable"), std::string::npos) << out;
  EXPECT_NE(out.find("could not be linearized: #2"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCli("--max-steps 1 " + bad, &out), 2) << out;
  EXPECT_NE(out.find("budget exhausted"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCli(broken, &out), 3) << out;
  EXPECT_NE(out.find("line 1"), std::string::npos) << out;
  out.clear();
  EXPECT_EQ(RunCli("--max-steps x " + good, &out), 3) << out;
  out.clear();
  EXPECT_EQ(RunCli(TempPath("does_not_exist"), &out), 3) << out;
  out.clear();
  EXPECT_EQ(RunCli(::testing::TempDir(), &out), 3) << out;
  EXPECT_NE(out.find("is a directory"), std::string::npos) << out;
  std::remove(good.c_str());
  std::remove(bad.c_str());
  std::remove(broken.c_str());
}

}  // namespace
}  // namespace sb::lincheck
