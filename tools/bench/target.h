// target.h — what the benchmark drives: a store reached through sessions.
//
// A Target opens one Session per client thread (for a networked store, one
// connection each). A Session performs single requests and reports each
// outcome as one ErrorKind, never an exception; it reconnects by itself on
// the next request after a connection failure. Sessions do not retry: a
// benchmark counts every failed request by its kind.
//
// Thread safety: Target::Open may be called from many threads at once; a
// Session is used by one thread at a time. Sessions must not outlive the
// Target that opened them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace sb::bench {

// Failure kinds, named as in the JSON "errors" object. kTimeout means the
// outcome is unknown (a write may or may not have been applied).
enum class ErrorKind {
  kOk = 0,
  kNotReady,
  kWrongLeader,
  kWrongGroup,
  kTimeout,
  kTooLarge,
  kInvalidArgument,
  kConnection,
  kOther,
};
inline constexpr int kErrorKindCount = 9;
// "ok", "not_ready", "wrong_leader", "wrong_group", "timeout", "too_large",
// "invalid_argument", "connection", "other".
const char* ErrorKindName(ErrorKind k);

struct Outcome {
  ErrorKind kind = ErrorKind::kOk;
  std::string message;  // empty when ok
  bool ok() const { return kind == ErrorKind::kOk; }
  static Outcome Ok() { return {}; }
};

class Session {
 public:
  virtual ~Session() = default;
  // *found false when the key does not exist (not an error).
  virtual Outcome Get(const std::string& key, bool* found,
                      std::string* value) = 0;
  virtual Outcome Put(const std::string& key, const std::string& value) = 0;
  // expected nullopt: the key must be absent. *succeeded false when the
  // current value did not match (not an error).
  virtual Outcome CompareAndSet(const std::string& key,
                                const std::optional<std::string>& expected,
                                const std::string& new_value,
                                bool* succeeded) = 0;
};

class Target {
 public:
  virtual ~Target() = default;
  // "shardbearer", or a test double's name.
  virtual std::string name() const = 0;
  // Session for client thread `index` (0-based). Opening does not connect;
  // the first request does, so connection failures are counted like any
  // other request failure.
  virtual std::unique_ptr<Session> Open(int index) = 0;
};

}  // namespace sb::bench
