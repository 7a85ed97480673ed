// host/radiant/kv_handler.h — the public Kv API served by the orders of this
// radiant (api::KvHandler over an OrderRuntime).
//
// Each request becomes a Command (writes) or a linearizable read on the
// order that owns the key's shard (shard = fnv1a_64(key) mod [cluster]
// shards, host/order/shard.h). The handler waits for the answer a little
// longer than [cluster] request_timeout_ms (the herald itself answers
// outcome-unknown at that deadline) and maps it to the IDL's typed errors:
//
//   outcome unknown (herald deadline, or none within the wait) -> Timeout
//   not the herald, leader known                          -> WrongLeader
//   not the herald, no leader yet / order stopped         -> NotReady
//   result kWrongGroup                                    -> WrongGroup
//   result kStaleSequence (older sequence, or an expired
//     session's sequence seen again)                      -> InvalidArgument
//   result kTooLarge (append past max_value_bytes)        -> TooLarge
//   InvalidArgument status (command not encodable)        -> InvalidArgument
//   any other error (storage, proposal aborted)           -> NotReady
//
// WriteId: client_id != 0 and sequence >= 1 make the write exactly-once (the
// API server already refuses other combinations); the ids are carried as
// their 64-bit patterns.
//
// Thread safety: all methods may be called concurrently (the runtime's
// queues are locked); each call blocks its connection thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <string>

#include "host/api/handlers.h"
#include "host/radiant/order_runtime.h"

namespace sb::radiant {

struct KvHandlerOptions {
  uint32_t request_timeout_ms = 5000;  // [cluster] request_timeout_ms
  uint32_t max_value_bytes = 1 << 20;  // [limits] max_value_bytes
  uint32_t tick_ms = 100;              // retry hint for NotReady
  // address of a leader by node number, for WrongLeader hints ("" unknown).
  std::function<std::string(uint64_t)> address_of;
};

class OrderKvHandler : public api::KvHandler {
 public:
  // `runtime` must outlive the handler's last call (the Node stops the API
  // server before the runtime).
  OrderKvHandler(OrderRuntime* runtime, KvHandlerOptions options);

  api::ApiOr<api::wire::GetResult> Get(const api::wire::GetRequest& r) override;
  api::ApiOr<api::wire::PutResult> Put(const api::wire::PutRequest& r) override;
  api::ApiOr<api::wire::AppendResult> Append(
      const api::wire::AppendRequest& r) override;
  api::ApiOr<api::wire::DeleteResult> Delete(
      const api::wire::DeleteRequest& r) override;
  api::ApiOr<api::wire::CasResult> CompareAndSet(
      const api::wire::CasRequest& r) override;
  api::ApiOr<api::wire::MultiGetResult> MultiGet(
      const api::wire::MultiGetRequest& r) override;

 private:
  // Proposes `c` with the request's session and waits for its result,
  // mapped to an ApiError unless the command applied with kOk.
  api::ApiOr<order::CommandResult> Write(order::Command c,
                                         const api::wire::WriteId& id);
  using Deadline = std::chrono::steady_clock::time_point;
  // When a read started now stops waiting.
  Deadline ReadDeadline() const;
  // Waits (until `deadline`) for a read and maps errors.
  api::ApiOr<api::wire::GetResult> AwaitRead(std::future<order::ReadResult>& f,
                                             Deadline deadline);
  api::ApiError FromStatus(const Status& s, bool write) const;

  OrderRuntime* rt_;
  KvHandlerOptions opts_;
};

}  // namespace sb::radiant
