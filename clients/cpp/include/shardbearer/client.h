// shardbearer/client.h — the C++ client for Shardbearer's Kv service.
//
// Routing. The client fetches the cluster configuration
// (Admin.query_config(-1)) from any reachable address and caches it. Each
// request goes to the herald of the order owning the key's shard
// (ShardForKey), or to a member of that order when the herald is unknown.
// One connection per node in use is kept open (a small pool keyed by
// address, at most max_connections).
//
// Retries, each bounded by max_attempts per operation:
//   - WrongLeader: the hint (leader_node_id, leader_hint) is remembered as
//     that order's herald and the request goes there at once;
//   - WrongGroup, or a shard the configuration does not assign: the
//     configuration is fetched again (at most max_config_refreshes times
//     per operation) and the request re-routed;
//   - Timeout: the same request (the same write_id) again, after a backoff;
//   - NotReady: the same node again, after retry_after_ms or the backoff;
//   - connection failure: the next member of the order, then any address.
// TooLarge and InvalidArgument are returned at once.
//
// When query_config answers NotReady or is not implemented (a single-node
// or older server), the client works without a configuration: any address
// from `addresses`, following WrongLeader hints, rotating on errors (every
// node forwards). It asks again after config_retry_ms.
//
// Writes carry (client_id, sequence); a retry reuses them, so the server
// applies a retried write at most once. When attempts run out after a write
// may have reached a server without a definite answer (Timeout, or a
// connection lost after sending), the error says so: Error::outcome_unknown
// is true and the write may or may not have been applied.
//
// MultiGet groups keys by order, sends one multi_get per order and returns
// the values in request order.
//
// Thread safety: a Client is not thread-safe (one outstanding request, as
// the exactly-once sequence requires); use one per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
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
  // A write may or may not have been applied (it reached a server that
  // gave no definite answer, and no later attempt settled it).
  bool outcome_unknown = false;
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
  int backoff_ms = 50;  // doubles per retry, capped at 2 s
  // Configuration fetches per operation on WrongGroup or an unassigned
  // shard.
  int max_config_refreshes = 3;
  // Without a configuration (query_config answered NotReady or is not
  // implemented), ask again after this long; 0: before every operation.
  int config_retry_ms = 10000;
  // Route by the cluster configuration; false: always any address, as a
  // plain client would.
  bool route_by_config = true;
  // Open connections kept (one per node address), least recently used
  // closed first.
  int max_connections = 16;
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

class RouteTable;  // the cached configuration (internal)

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
  // Number of the cached configuration; 0 when the client routes without
  // one (not fetched yet, or the servers have none).
  int64_t config_num() const;
  // Herald the client would send `order`'s requests to (node id, 0 when
  // unknown): the configuration's, or one learned from WrongLeader.
  int64_t herald_of(int64_t order) const;

 private:
  struct Conn;
  struct CallState;
  enum class Mode { kUnknown, kRouted, kDirect };

  template <typename Fn>
  // Runs `fn` on the node for `key`'s shard (nullptr: any node), retrying
  // as the header comment says. `write`: report outcome_unknown.
  // `stop_on_refresh`: return WrongGroup once the configuration was
  // refreshed, so MultiGet can regroup its keys.
  auto Call(const std::string* key, bool write, bool stop_on_refresh, Fn&& fn)
      -> Result<decltype(fn(std::declval<Conn&>()))>;
  // Fetches the configuration (bounded: each known address once) and
  // updates mode_. True when a configuration is installed.
  bool FetchConfig();
  // Fetches when there is no configuration and the last attempt is old
  // enough (config_retry_ms).
  void MaybeFetchConfig();
  // Where the next attempt goes for `shard` (-1: any), or empty.
  std::string PickAddress(int64_t shard, CallState& st);
  std::string NextDirectAddress(CallState& st);
  // Without routing: move on from `address` to the next one.
  void Rotate(const std::string& address);
  // The pooled connection to `address`, dialing when needed. nullptr and
  // *error on failure.
  Conn* Connect(const std::string& address, Error* error);
  void Drop(const std::string& address);

  ClientOptions options_;
  uint64_t client_id_;
  int64_t sequence_ = 0;
  size_t next_address_ = 0;
  std::string override_address_;  // leader hint to try next
  std::string direct_address_;    // without routing: the node that last served
  Mode mode_ = Mode::kUnknown;
  std::unique_ptr<RouteTable> routes_;
  std::chrono::steady_clock::time_point last_fetch_{};
  std::map<std::string, std::unique_ptr<Conn>> pool_;
  uint64_t use_clock_ = 0;  // for least-recently-used eviction
  std::shared_ptr<sb::wire::TlsContext> tls_;  // null: plain TCP
  std::string tls_error_;                      // why TLS could not be set up
};

}  // namespace sb::client
