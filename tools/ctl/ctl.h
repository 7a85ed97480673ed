// tools/ctl/ctl.h — shardbearer-ctl: command-line parsing, the Admin calls,
// and how their answers are printed (text or JSON). main.cc only forwards
// argv and the standard streams to Run().
//
// Exit codes (also in Usage() and docs/operations.md):
//   0  the call succeeded
//   1  the node answered with an error (NotReady, WrongLeader, Timeout,
//      InvalidArgument): its type and message are printed on stderr
//   2  usage error: unknown command or flag, missing or malformed argument,
//      incomplete or unreadable TLS files
//   3  the node could not be reached, or the connection failed mid-call
//
// Thread safety: Run is reentrant (no global state).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "shardbearer/wire/shardbearer_types.h"

namespace sb::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

inline constexpr char kDefaultAddress[] = "127.0.0.1:7500";

std::string Usage();

// Runs shardbearer-ctl with `args` (without the program name).
int Run(const std::vector<std::string>& args, std::ostream& out,
        std::ostream& err);

// Output of the answers (exposed for tests).
std::string StatusText(const shardbearer::wire::NodeStatus& s);
std::string StatusJson(const shardbearer::wire::NodeStatus& s);
std::string ConfigText(const shardbearer::wire::Configuration& c);
std::string ConfigJson(const shardbearer::wire::Configuration& c);
// A JSON string literal of `s` (escaped, quoted).
std::string JsonString(const std::string& s);

}  // namespace sb::ctl
