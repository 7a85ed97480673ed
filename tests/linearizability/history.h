// tests/linearizability/history.h — a recorded history of client operations.
//
// A History is what a test records while clients run against the store: one
// Operation per client request, with the interval during which it was
// outstanding ([invoke, ret], integers from one monotonic clock, e.g. ns) and
// what the client learnt about its outcome. The checker (checker.h) decides
// whether such a history is linearizable.
//
// Outcomes follow the client library's promise (docs/linearizability.md):
//   ok       the reply arrived; the output fields hold what it said.
//   failed   a typed error proves the request never took effect (e.g. it was
//            refused before being accepted). The checker drops it.
//   unknown  a timeout or lost reply: it may or may not have taken effect, at
//            any moment after its invocation. Its return time is kInfinity and
//            its output is unconstrained (unknown reads are dropped).
//
// A multi-get is recorded as one kGet per key, all with the same client and
// interval; the checker then verifies each key's read on its own (per-key
// linearizability), not that the keys were read at one common instant.
//
// Thread safety: plain values; no shared state.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::lincheck {

// The return time of an operation whose outcome is unknown.
inline constexpr int64_t kInfinity = std::numeric_limits<int64_t>::max();

enum class OpKind : uint8_t {
  kGet,     // key -> output (nullopt: not found)
  kPut,     // key, value
  kAppend,  // key, value; appending to an absent key stores value
  kDelete,  // key
  kCas,     // key, expected (nullopt: expects absent), value -> cas_succeeded
};

enum class Outcome : uint8_t { kOk, kFailed, kUnknown };

// One client request. Fields that do not apply to `kind` stay empty.
struct Operation {
  uint64_t client = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  // kPut/kAppend: the value written. kCas: the new value.
  std::string value;
  // kCas only: the value expected; nullopt means "expects the key absent".
  std::optional<std::string> expected;
  // kGet with outcome kOk: the value read; nullopt means "not found".
  std::optional<std::string> output;
  // kCas with outcome kOk: whether the swap took effect.
  bool cas_succeeded = false;
  int64_t invoke = 0;
  int64_t ret = 0;  // kInfinity when outcome is kUnknown
  Outcome outcome = Outcome::kOk;

  bool IsRead() const { return kind == OpKind::kGet; }
};

using History = std::vector<Operation>;

// Stable lower-case names: "get", "put", "append", "delete", "cas";
// "ok", "failed", "unknown".
const char* OpKindName(OpKind kind);
const char* OutcomeName(Outcome outcome);
std::optional<OpKind> ParseOpKind(std::string_view name);
std::optional<Outcome> ParseOutcome(std::string_view name);

// Renders bytes as a double-quoted C-style literal ("a\x00\"b"); printable
// ASCII stays as is, anything else becomes \xHH. If max_bytes is non-zero and
// the value is longer, the literal is cut there and followed by
// "...(N bytes)" (for reports; such a rendering does not parse back).
std::string QuoteBytes(std::string_view bytes, size_t max_bytes = 0);
// nullopt renders as nil.
std::string QuoteOptional(const std::optional<std::string>& bytes,
                          size_t max_bytes = 0);

// One readable line: `c3 put "k" "v" [10, 20] ok`, `c1 get "k" -> nil
// [5, inf] unknown`. Values are cut at 48 bytes.
std::string DescribeOperation(const Operation& op);

// Checks that an operation is well formed: invoke <= ret, ret == kInfinity
// exactly when the outcome is unknown, fields that do not apply to the kind
// are empty. Returns an empty string when valid, else the reason.
std::string ValidateOperation(const Operation& op);

// Convenience constructors for tests and recorders. Times are [invoke, ret];
// pass Outcome::kUnknown to set ret to kInfinity.
Operation MakeGet(uint64_t client, std::string key,
                  std::optional<std::string> output, int64_t invoke,
                  int64_t ret, Outcome outcome = Outcome::kOk);
Operation MakePut(uint64_t client, std::string key, std::string value,
                  int64_t invoke, int64_t ret, Outcome outcome = Outcome::kOk);
Operation MakeAppend(uint64_t client, std::string key, std::string value,
                     int64_t invoke, int64_t ret,
                     Outcome outcome = Outcome::kOk);
Operation MakeDelete(uint64_t client, std::string key, int64_t invoke,
                     int64_t ret, Outcome outcome = Outcome::kOk);
Operation MakeCas(uint64_t client, std::string key,
                  std::optional<std::string> expected, std::string value,
                  bool succeeded, int64_t invoke, int64_t ret,
                  Outcome outcome = Outcome::kOk);

}  // namespace sb::lincheck
