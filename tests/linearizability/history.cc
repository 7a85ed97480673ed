// tests/linearizability/history.cc — names, quoting and validation of
// recorded operations.
#include "tests/linearizability/history.h"

#include <cstdio>
#include <utility>

namespace sb::lincheck {

const char* OpKindName(OpKind kind) {
  switch (kind) {
    case OpKind::kGet:
      return "get";
    case OpKind::kPut:
      return "put";
    case OpKind::kAppend:
      return "append";
    case OpKind::kDelete:
      return "delete";
    case OpKind::kCas:
      return "cas";
  }
  return "?";
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

std::optional<OpKind> ParseOpKind(std::string_view name) {
  for (OpKind k : {OpKind::kGet, OpKind::kPut, OpKind::kAppend, OpKind::kDelete,
                   OpKind::kCas}) {
    if (name == OpKindName(k)) return k;
  }
  return std::nullopt;
}

std::optional<Outcome> ParseOutcome(std::string_view name) {
  for (Outcome o : {Outcome::kOk, Outcome::kFailed, Outcome::kUnknown}) {
    if (name == OutcomeName(o)) return o;
  }
  return std::nullopt;
}

std::string QuoteBytes(std::string_view bytes, size_t max_bytes) {
  const bool cut = max_bytes != 0 && bytes.size() > max_bytes;
  std::string_view shown = cut ? bytes.substr(0, max_bytes) : bytes;
  std::string out = "\"";
  for (unsigned char c : shown) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  out += '"';
  if (cut) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string QuoteOptional(const std::optional<std::string>& bytes,
                          size_t max_bytes) {
  return bytes ? QuoteBytes(*bytes, max_bytes) : "nil";
}

std::string DescribeOperation(const Operation& op) {
  constexpr size_t kMax = 48;
  std::string s = "c" + std::to_string(op.client) + " " + OpKindName(op.kind) +
                  " " + QuoteBytes(op.key, kMax);
  switch (op.kind) {
    case OpKind::kGet:
      if (op.outcome == Outcome::kOk) {
        s += " -> " + QuoteOptional(op.output, kMax);
      }
      break;
    case OpKind::kPut:
    case OpKind::kAppend:
      s += " " + QuoteBytes(op.value, kMax);
      break;
    case OpKind::kDelete:
      break;
    case OpKind::kCas:
      s += " " + QuoteOptional(op.expected, kMax) + " " +
           QuoteBytes(op.value, kMax);
      if (op.outcome == Outcome::kOk) {
        s += op.cas_succeeded ? " -> true" : " -> false";
      }
      break;
  }
  s += " [" + std::to_string(op.invoke) + ", " +
       (op.ret == kInfinity ? std::string("inf") : std::to_string(op.ret)) +
       "] " + OutcomeName(op.outcome);
  return s;
}

std::string ValidateOperation(const Operation& op) {
  if (op.outcome == Outcome::kUnknown) {
    if (op.ret != kInfinity) {
      return "an operation with unknown outcome must have return time inf";
    }
  } else if (op.ret == kInfinity) {
    return "return time inf is only valid for an unknown outcome";
  }
  if (op.invoke > op.ret) return "invoke time is after return time";
  if (op.invoke == kInfinity) return "invoke time cannot be inf";
  const bool has_output = op.outcome == Outcome::kOk;
  switch (op.kind) {
    case OpKind::kGet:
      if (!op.value.empty() || op.expected) return "get takes no input value";
      if (!has_output && op.output) {
        return "only a get with outcome ok has an output";
      }
      if (op.cas_succeeded) return "get has no cas result";
      break;
    case OpKind::kPut:
    case OpKind::kAppend:
    case OpKind::kDelete:
      if (op.expected || op.output || op.cas_succeeded) {
        return std::string(OpKindName(op.kind)) + " has no expected value " +
               "or output";
      }
      if (op.kind == OpKind::kDelete && !op.value.empty()) {
        return "delete takes no value";
      }
      break;
    case OpKind::kCas:
      if (op.output) return "cas has no read output";
      if (!has_output && op.cas_succeeded) {
        return "only a cas with outcome ok has a result";
      }
      break;
  }
  return "";
}

namespace {

Operation Base(uint64_t client, OpKind kind, std::string key, int64_t invoke,
               int64_t ret, Outcome outcome) {
  Operation op;
  op.client = client;
  op.kind = kind;
  op.key = std::move(key);
  op.invoke = invoke;
  op.ret = outcome == Outcome::kUnknown ? kInfinity : ret;
  op.outcome = outcome;
  return op;
}

}  // namespace

Operation MakeGet(uint64_t client, std::string key,
                  std::optional<std::string> output, int64_t invoke,
                  int64_t ret, Outcome outcome) {
  Operation op =
      Base(client, OpKind::kGet, std::move(key), invoke, ret, outcome);
  if (outcome == Outcome::kOk) op.output = std::move(output);
  return op;
}

Operation MakePut(uint64_t client, std::string key, std::string value,
                  int64_t invoke, int64_t ret, Outcome outcome) {
  Operation op =
      Base(client, OpKind::kPut, std::move(key), invoke, ret, outcome);
  op.value = std::move(value);
  return op;
}

Operation MakeAppend(uint64_t client, std::string key, std::string value,
                     int64_t invoke, int64_t ret, Outcome outcome) {
  Operation op =
      Base(client, OpKind::kAppend, std::move(key), invoke, ret, outcome);
  op.value = std::move(value);
  return op;
}

Operation MakeDelete(uint64_t client, std::string key, int64_t invoke,
                     int64_t ret, Outcome outcome) {
  return Base(client, OpKind::kDelete, std::move(key), invoke, ret, outcome);
}

Operation MakeCas(uint64_t client, std::string key,
                  std::optional<std::string> expected, std::string value,
                  bool succeeded, int64_t invoke, int64_t ret,
                  Outcome outcome) {
  Operation op =
      Base(client, OpKind::kCas, std::move(key), invoke, ret, outcome);
  op.expected = std::move(expected);
  op.value = std::move(value);
  op.cas_succeeded = outcome == Outcome::kOk && succeeded;
  return op;
}

}  // namespace sb::lincheck
