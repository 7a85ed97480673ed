// tests/linearizability/history_text.h — a compact text form of a History,
// so a history recorded by a failing test can be saved and re-checked with
// `sb-lincheck FILE`.
//
// One operation per line, fields separated by spaces:
//
//   <client> <invoke> <return> <outcome> <kind> <key> [inputs] [-> <output>]
//
//   client   unsigned integer
//   invoke   signed integer (clock units, e.g. ns)
//   return   signed integer, or `inf` (exactly when the outcome is unknown)
//   outcome  ok | failed | unknown
//   kind     get | put | append | delete | cas
//   inputs   put/append: <bytes>; cas: <expected: bytes or nil> <new: bytes>
//   output   only with outcome ok: get -> <bytes or nil>; cas -> true|false
//
// Bytes are double-quoted with C escapes (\\ \" \n \r \t \xHH); `nil` means
// absent. Blank lines and lines starting with `#` are ignored. Example:
//
//   1 10 20 ok put "k" "v1"
//   2 15 30 ok get "k" -> "v1"
//   3 40 inf unknown cas "k" "v1" "v2"
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "tests/linearizability/history.h"

namespace sb::lincheck {

// The line of one operation (no newline).
std::string FormatOperationLine(const Operation& op);

// Every operation, one per line, after a `#` header line.
std::string DumpHistory(const History& history);

// Parses text written by DumpHistory (or by hand). On error returns false,
// leaves *out unspecified and sets *error to "line N: reason".
bool ParseHistory(std::string_view text, History* out, std::string* error);

bool ReadHistoryFile(const std::string& path, History* out, std::string* error);
bool WriteHistoryFile(const std::string& path, const History& history,
                      std::string* error);

}  // namespace sb::lincheck
