// tests/linearizability/sb_lincheck_main.cc — `sb-lincheck`: re-checks a
// history saved in the text form of history_text.h.
//
//   sb-lincheck [--max-steps N] [--max-time-ms N] [--all-keys] [--context N]
//               FILE
//
// Prints the verdict and, for each key that is not linearizable or whose
// budget ran out, a report. Exit status: 0 linearizable, 1 not linearizable,
// 2 unknown (budget exhausted), 3 bad usage or unreadable/malformed input.
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "tests/linearizability/checker.h"
#include "tests/linearizability/history_text.h"

namespace {

constexpr int kExitUsage = 3;

int Usage(const char* why) {
  if (why) std::fprintf(stderr, "sb-lincheck: %s\n", why);
  std::fprintf(stderr,
               "usage: sb-lincheck [--max-steps N] [--max-time-ms N] "
               "[--all-keys] [--context N] FILE\n"
               "  --max-steps N    search steps per key (default %llu)\n"
               "  --max-time-ms N  wall time per key, 0 = none (default "
               "%lld)\n"
               "  --all-keys       report every failing key, not the first\n"
               "  --context N      operations shown around a failure "
               "(default %zu)\n"
               "exit: 0 linearizable, 1 not linearizable, 2 unknown, "
               "3 usage or input error\n",
               static_cast<unsigned long long>(
                   sb::lincheck::CheckOptions{}.max_steps_per_key),
               static_cast<long long>(
                   sb::lincheck::CheckOptions{}.max_time_per_key.count()),
               sb::lincheck::CheckOptions{}.report_context);
  return kExitUsage;
}

bool ParseCount(const char* s, unsigned long long* v) {
  const char* end = s + std::strlen(s);
  auto [p, ec] = std::from_chars(s, end, *v);
  return ec == std::errc() && p == end && p != s;
}

}  // namespace

int main(int argc, char** argv) {
  sb::lincheck::CheckOptions options;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      Usage(nullptr);
      return 0;
    }
    if (arg == "--all-keys") {
      options.stop_at_first_failure = false;
      continue;
    }
    if (arg == "--max-steps" || arg == "--max-time-ms" || arg == "--context") {
      unsigned long long v = 0;
      if (i + 1 >= argc || !ParseCount(argv[i + 1], &v)) {
        return Usage((std::string(arg) + " needs a number").c_str());
      }
      ++i;
      if (arg == "--max-steps") {
        options.max_steps_per_key = v;
      } else if (arg == "--max-time-ms") {
        options.max_time_per_key = std::chrono::milliseconds(v);
      } else {
        options.report_context = v;
      }
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + std::string(arg)).c_str());
    }
    if (path) return Usage("only one FILE");
    path = argv[i];
  }
  if (!path) return Usage("missing FILE");

  sb::lincheck::History history;
  std::string error;
  if (!sb::lincheck::ReadHistoryFile(path, &history, &error)) {
    std::fprintf(stderr, "sb-lincheck: %s\n", error.c_str());
    return kExitUsage;
  }
  const sb::lincheck::CheckResult result =
      sb::lincheck::CheckHistory(history, options);
  std::fputs(result.Report().c_str(), stdout);
  switch (result.verdict) {
    case sb::lincheck::Verdict::kLinearizable:
      return 0;
    case sb::lincheck::Verdict::kNotLinearizable:
      return 1;
    case sb::lincheck::Verdict::kUnknown:
      return 2;
    case sb::lincheck::Verdict::kInvalidHistory:
      break;
  }
  return kExitUsage;
}
