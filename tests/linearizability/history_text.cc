// tests/linearizability/history_text.cc — dump and parse the one-line-per-
// operation text form of a History.
#include "tests/linearizability/history_text.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace sb::lincheck {

std::string FormatOperationLine(const Operation& op) {
  std::string s =
      std::to_string(op.client) + " " + std::to_string(op.invoke) + " " +
      (op.ret == kInfinity ? std::string("inf") : std::to_string(op.ret)) +
      " " + OutcomeName(op.outcome) + " " + OpKindName(op.kind) + " " +
      QuoteBytes(op.key);
  const bool ok = op.outcome == Outcome::kOk;
  switch (op.kind) {
    case OpKind::kGet:
      if (ok) s += " -> " + QuoteOptional(op.output);
      break;
    case OpKind::kPut:
    case OpKind::kAppend:
      s += " " + QuoteBytes(op.value);
      break;
    case OpKind::kDelete:
      break;
    case OpKind::kCas:
      s += " " + QuoteOptional(op.expected) + " " + QuoteBytes(op.value);
      if (ok) s += op.cas_succeeded ? " -> true" : " -> false";
      break;
  }
  return s;
}

std::string DumpHistory(const History& history) {
  std::string out =
      "# sb-lincheck history: client invoke return outcome kind key "
      "[inputs] [-> output]\n";
  for (const Operation& op : history) out += FormatOperationLine(op) + "\n";
  return out;
}

namespace {

// A token of a line: a bare word, or a quoted string already unescaped.
struct Token {
  std::string text;
  bool quoted;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Tokenize(std::string_view line, std::vector<Token>* tokens,
              std::string* error) {
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
      ++i;
      continue;
    }
    if (line[i] != '"') {
      const size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' &&
             line[i] != '\r') {
        if (line[i] == '"') {
          *error = "unexpected quote inside a word";
          return false;
        }
        ++i;
      }
      tokens->push_back({std::string(line.substr(start, i - start)), false});
      continue;
    }
    std::string text;
    ++i;  // opening quote
    while (true) {
      if (i >= line.size()) {
        *error = "unterminated string";
        return false;
      }
      const char c = line[i++];
      if (c == '"') break;
      if (c != '\\') {
        text += c;
        continue;
      }
      if (i >= line.size()) {
        *error = "unterminated escape";
        return false;
      }
      const char e = line[i++];
      switch (e) {
        case '\\':
        case '"':
          text += e;
          break;
        case 'n':
          text += '\n';
          break;
        case 'r':
          text += '\r';
          break;
        case 't':
          text += '\t';
          break;
        case 'x': {
          const int hi = i < line.size() ? HexDigit(line[i]) : -1;
          const int lo = i + 1 < line.size() ? HexDigit(line[i + 1]) : -1;
          if (hi < 0 || lo < 0) {
            *error = "\\x needs two hex digits";
            return false;
          }
          text += static_cast<char>(hi * 16 + lo);
          i += 2;
          break;
        }
        default:
          *error = std::string("unknown escape \\") + e;
          return false;
      }
    }
    if (i < line.size() && line[i] != ' ' && line[i] != '\t' &&
        line[i] != '\r') {
      *error = "missing space after a string";
      return false;
    }
    tokens->push_back({std::move(text), true});
  }
  return true;
}

template <typename Int>
bool ParseInt(const Token& t, Int* v) {
  if (t.quoted || t.text.empty()) return false;
  const char* end = t.text.data() + t.text.size();
  auto [p, ec] = std::from_chars(t.text.data(), end, *v);
  return ec == std::errc() && p == end;
}

// Parses one operation line into *op.
bool ParseLine(const std::vector<Token>& t, Operation* op, std::string* error) {
  if (t.size() < 6) {
    *error = "expected: client invoke return outcome kind key ...";
    return false;
  }
  if (!ParseInt(t[0], &op->client)) {
    *error = "bad client id '" + t[0].text + "'";
    return false;
  }
  if (!ParseInt(t[1], &op->invoke)) {
    *error = "bad invoke time '" + t[1].text + "'";
    return false;
  }
  if (!t[2].quoted && t[2].text == "inf") {
    op->ret = kInfinity;
  } else if (!ParseInt(t[2], &op->ret)) {
    *error = "bad return time '" + t[2].text + "'";
    return false;
  }
  const auto outcome = t[3].quoted ? std::nullopt : ParseOutcome(t[3].text);
  if (!outcome) {
    *error = "bad outcome '" + t[3].text + "' (ok, failed, unknown)";
    return false;
  }
  op->outcome = *outcome;
  const auto kind = t[4].quoted ? std::nullopt : ParseOpKind(t[4].text);
  if (!kind) {
    *error = "bad kind '" + t[4].text + "' (get, put, append, delete, cas)";
    return false;
  }
  op->kind = *kind;
  if (!t[5].quoted) {
    *error = "the key must be a quoted string";
    return false;
  }
  op->key = t[5].text;

  // The remaining tokens: inputs, then "-> output" for ok gets and cases.
  size_t next = 6;
  auto bytes = [&](std::string* v, const char* what) {
    if (next >= t.size() || !t[next].quoted) {
      *error = std::string("expected ") + what + " as a quoted string";
      return false;
    }
    *v = t[next++].text;
    return true;
  };
  auto optional = [&](std::optional<std::string>* v, const char* what) {
    if (next < t.size() && !t[next].quoted && t[next].text == "nil") {
      v->reset();
      ++next;
      return true;
    }
    std::string s;
    if (!bytes(&s, what)) {
      *error += " or nil";
      return false;
    }
    *v = std::move(s);
    return true;
  };
  const bool wants_output =
      op->outcome == Outcome::kOk &&
      (op->kind == OpKind::kGet || op->kind == OpKind::kCas);
  if (op->kind == OpKind::kPut || op->kind == OpKind::kAppend) {
    if (!bytes(&op->value, "a value")) return false;
  } else if (op->kind == OpKind::kCas) {
    if (!optional(&op->expected, "the expected value")) return false;
    if (!bytes(&op->value, "the new value")) return false;
  }
  if (wants_output) {
    if (next >= t.size() || t[next].quoted || t[next].text != "->") {
      *error =
          std::string("an ok ") + OpKindName(op->kind) + " needs '-> output'";
      return false;
    }
    ++next;
    if (op->kind == OpKind::kGet) {
      if (!optional(&op->output, "the value read")) return false;
    } else if (next < t.size() && !t[next].quoted &&
               (t[next].text == "true" || t[next].text == "false")) {
      op->cas_succeeded = t[next++].text == "true";
    } else {
      *error = "expected true or false after '->'";
      return false;
    }
  }
  if (next != t.size()) {
    *error = "unexpected " + (t[next].quoted ? QuoteBytes(t[next].text)
                                             : "'" + t[next].text + "'");
    if (!wants_output && next < t.size() && t[next].text == "->") {
      *error += " (only ok get and cas operations have an output)";
    }
    return false;
  }
  const std::string why = ValidateOperation(*op);
  if (!why.empty()) {
    *error = why;
    return false;
  }
  return true;
}

}  // namespace

bool ParseHistory(std::string_view text, History* out, std::string* error) {
  out->clear();
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text =
        nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    std::vector<Token> tokens;
    Operation op;
    std::string why;
    if (!Tokenize(line, &tokens, &why) || !ParseLine(tokens, &op, &why)) {
      *error = "line " + std::to_string(line_no) + ": " + why;
      return false;
    }
    out->push_back(std::move(op));
  }
  return true;
}

bool ReadHistoryFile(const std::string& path, History* out,
                     std::string* error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    *error = path + ": is a directory";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    *error = path + ": read error";
    return false;
  }
  if (!ParseHistory(buf.str(), out, error)) {
    *error = path + ": " + *error;
    return false;
  }
  return true;
}

bool WriteHistoryFile(const std::string& path, const History& history,
                      std::string* error) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) {
    *error = path + ": " + std::strerror(errno);
    return false;
  }
  f << DumpHistory(history);
  f.close();
  if (!f) {
    *error = path + ": write error";
    return false;
  }
  return true;
}

}  // namespace sb::lincheck
