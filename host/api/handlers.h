// host/api/handlers.h — what the public API server calls: the KvHandler and
// AdminHandler interfaces, and the typed error they answer with.
//
// The API server (api_server.h) decodes requests, enforces ApiLimits, then
// calls a handler with the IDL's request struct (shardbearer.thrift is the
// public contract, so its value types are used as they are). A handler
// answers a result or an ApiError; it never throws. The server maps each
// ApiError kind to the IDL exception of the same name.
//
// Thread safety: handlers are called concurrently from many threads;
// implementations must be thread-safe. A synchronous call may block (waiting
// for consensus) but should respect its own timeout and answer kTimeout.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>

#include "shardbearer/wire/shardbearer_types.h"

namespace sb::api {

namespace wire = ::shardbearer::wire;

struct ApiError {
  enum class Kind {
    kWrongGroup,       // key's shard not served here (shard, config_num)
    kWrongLeader,      // not the herald (leader_hint, leader_node_id)
    kTimeout,          // outcome unknown
    kTooLarge,         // subject, size, max_allowed
    kNotReady,         // retry_after_ms
    kInvalidArgument,  // caller error
  };
  Kind kind = Kind::kNotReady;
  std::string message;
  int32_t shard = 0;
  int64_t config_num = 0;
  std::string leader_hint;
  int64_t leader_node_id = 0;
  int32_t retry_after_ms = 0;
  std::string subject;
  int64_t size = 0;
  int64_t max_allowed = 0;

  static ApiError Make(Kind kind, std::string m) {
    ApiError e;
    e.kind = kind;
    e.message = std::move(m);
    return e;
  }
  static ApiError NotReady(std::string m, int32_t retry_after_ms = 0) {
    ApiError e = Make(Kind::kNotReady, std::move(m));
    e.retry_after_ms = retry_after_ms;
    return e;
  }
  static ApiError InvalidArgument(std::string m) {
    return Make(Kind::kInvalidArgument, std::move(m));
  }
  static ApiError Timeout(std::string m) {
    return Make(Kind::kTimeout, std::move(m));
  }
  static ApiError TooLarge(std::string subject, int64_t size, int64_t max) {
    ApiError e =
        Make(Kind::kTooLarge, subject + " of " + std::to_string(size) +
                                  " over the limit of " + std::to_string(max));
    e.subject = std::move(subject);
    e.size = size;
    e.max_allowed = max;
    return e;
  }
  static ApiError WrongLeader(std::string m, std::string hint,
                              int64_t node_id) {
    ApiError e = Make(Kind::kWrongLeader, std::move(m));
    e.leader_hint = std::move(hint);
    e.leader_node_id = node_id;
    return e;
  }
  static ApiError WrongGroup(std::string m, int32_t shard, int64_t config) {
    ApiError e = Make(Kind::kWrongGroup, std::move(m));
    e.shard = shard;
    e.config_num = config;
    return e;
  }
};

// A result or an ApiError.
template <typename T>
class ApiOr {
 public:
  ApiOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit
  ApiOr(ApiError error) : v_(std::move(error)) {}  // NOLINT: implicit
  bool ok() const { return v_.index() == 0; }
  T& value() { return std::get<0>(v_); }
  const ApiError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

class KvHandler {
 public:
  virtual ~KvHandler() = default;
  virtual ApiOr<wire::GetResult> Get(const wire::GetRequest& r) = 0;
  virtual ApiOr<wire::PutResult> Put(const wire::PutRequest& r) = 0;
  virtual ApiOr<wire::AppendResult> Append(const wire::AppendRequest& r) = 0;
  virtual ApiOr<wire::DeleteResult> Delete(const wire::DeleteRequest& r) = 0;
  virtual ApiOr<wire::CasResult> CompareAndSet(const wire::CasRequest& r) = 0;
  virtual ApiOr<wire::MultiGetResult> MultiGet(
      const wire::MultiGetRequest& r) = 0;

  // Asynchronous get and put, for the API server's plaintext connections,
  // which are read by one event-loop thread that must not block. A handler
  // that can answer without blocking takes `done` (moves it out) and
  // returns true: `done` is then called exactly once, on any thread,
  // possibly before the call returns, and must not block. Otherwise it
  // returns false and leaves `done` alone: the server then calls the
  // synchronous form on a thread that may wait. The defaults return false.
  template <typename T>
  using Done = std::function<void(ApiOr<T>)>;
  virtual bool GetAsync(const wire::GetRequest&, Done<wire::GetResult>&) {
    return false;
  }
  virtual bool PutAsync(const wire::PutRequest&, Done<wire::PutResult>&) {
    return false;
  }
};

class AdminHandler {
 public:
  virtual ~AdminHandler() = default;
  virtual ApiOr<wire::NodeStatus> Status() = 0;
  virtual ApiOr<wire::Configuration> QueryConfig(int64_t num) = 0;
  virtual ApiOr<wire::AdminResult> Init(const wire::InitRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> Join(const wire::JoinRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> Leave(const wire::NodeRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> Move(const wire::MoveRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> Drain(const wire::NodeRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> RemoveNode(const wire::NodeRequest& r) = 0;
  virtual ApiOr<wire::AdminResult> PauseAutonomy() = 0;
  virtual ApiOr<wire::AdminResult> ResumeAutonomy() = 0;
};

}  // namespace sb::api
