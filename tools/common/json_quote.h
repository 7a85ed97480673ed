// tools/common/json_quote.h — a string as a JSON string literal, for the
// tools' JSON output (shardbearer-ctl, shardbearer-bench).
//
// Quotes and backslashes are escaped, \n \r \t by name, other control
// characters and DEL as \u00XX; other bytes (UTF-8 included) pass through.
// Thread safety: a pure function.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace sb::tools {

inline std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace sb::tools
