// shardbearer/client.h — a thin C++ client for Shardbearer's Kv service.
//
// It speaks the generated Thrift code (framed + binary) to one node at a
// time, picked from `addresses`, and retries what is safe to retry:
//   - WrongLeader: reconnect to the leader hint (or the next address);
//   - NotReady / WrongGroup / connection failure: next address, after a
//     short backoff;
//   - Timeout: retry the same request. Writes carry (client_id, sequence),
//     and the server applies a retried write at most once, so a retried
//     write is exactly-once.
// TooLarge and InvalidArgument are returned at once. When attempts run out
// the last error is returned; for a write, Timeout/Unavailable mean the
// outcome is unknown.
//
// Not offered yet: routing straight to the shard's herald from a cached
// configuration (every node forwards, so any address works).
//
// Thread safety: a Client is not thread-safe (one outstanding request, as
// the exactly-once sequence requires); use one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sb::wire {
class TlsContext;
}

namespace sb::client {

enum class ErrorCode {
  kWrongGroup = 1,
  kWrongLeader = 2,
  kTimeout = 3,  // outcome unknown
  kTooLarge = 4,
  kNotReady = 5,
  kInvalidArgument = 6,
  kUnavailable = 100,  // no node reachable; for a write: outcome unknown
};

struct Error {
  ErrorCode code;
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit
  Result(Error e) : v_(std::move(e)) {}  // NOLINT: implicit
  bool ok() const { return v_.index() == 0; }
  const T& value() const { return std::get<0>(v_); }
  T& value() { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct ClientOptions {
  std::vector<std::string> addresses;  // "host:port" of any nodes
  int connect_timeout_ms = 3000;
  int request_timeout_ms = 10000;  // socket send/receive timeout
  int max_attempts = 8;
  int backoff_ms = 50;     // doubles per retry, capped at 2 s
  uint64_t client_id = 0;  // 0: random
  // Mutual TLS (the server's [api] TLS files' counterpart): all three set,
  // or none for plain TCP.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_ca_file;
};

struct CasOutcome {
  bool succeeded = false;
  std::optional<std::string> previous;
};

// shard = fnv1a_64(key) mod shards (the IDL's documented hash).
uint32_t ShardForKey(const std::string& key, uint32_t shards);

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<std::optional<std::string>> Get(const std::string& key);
  Result<std::vector<std::optional<std::string>>> MultiGet(
      const std::vector<std::string>& keys);
  Result<bool> Put(const std::string& key, const std::string& value);
  // Returns the value's size after the append.
  Result<int64_t> Append(const std::string& key, const std::string& value);
  // Returns whether the key existed.
  Result<bool> Delete(const std::string& key);
  // expected nullopt: the key must be absent; new_value nullopt: delete.
  Result<CasOutcome> CompareAndSet(const std::string& key,
                                   const std::optional<std::string>& expected,
                                   const std::optional<std::string>& new_value);

  uint64_t client_id() const { return client_id_; }

 private:
  struct Conn;
  template <typename Fn>
  auto Call(Fn&& fn) -> Result<decltype(fn(std::declval<Conn&>()))>;

  ClientOptions options_;
  uint64_t client_id_;
  int64_t sequence_ = 0;
  size_t next_address_ = 0;
  std::string override_address_;  // leader hint to try next
  std::unique_ptr<Conn> conn_;
  std::shared_ptr<sb::wire::TlsContext> tls_;  // null: plain TCP
  std::string tls_error_;                      // why TLS could not be set up
};

}  // namespace sb::client
