// host/radiant/kv_handler.h — the public Kv API as a radiant serves it
// (api::KvHandler over the radiant's OrderRuntime and a Forwarder).
//
// Routing: the key's shard (shard = fnv1a_64(key) mod [cluster] shards,
// host/order/shard.h) belongs to one order of the layout. The request is
// served here when that order is this radiant's and this radiant is its
// herald (or no herald is known yet: the herald then answers NotReady, or
// the request set no_forward). Otherwise it goes one hop through the
// Forwarder, marked no_forward, to the order's herald (this order's known
// leader, or the herald last seen for another order). A local request that
// finds leadership moved (WrongLeader with a leader) also takes that one
// hop. With no_forward set, a shard of another order answers WrongGroup
// (configuration number kStaticConfigNum). multi_get splits its keys by
// order, one request per order, and answers in the caller's key order; the
// first error answers the whole call. Without a layout and a forwarder
// (single-node mode) everything is served here.
//
// Local requests:
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
// queues are locked); a synchronous call blocks its calling thread only, and
// GetAsync/PutAsync never block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "host/api/handlers.h"
#include "host/radiant/forwarder.h"
#include "host/radiant/layout.h"
#include "host/radiant/order_runtime.h"

namespace sb::radiant {

struct KvHandlerOptions {
  uint32_t request_timeout_ms = 5000;  // [cluster] request_timeout_ms
  uint32_t max_value_bytes = 1 << 20;  // [limits] max_value_bytes
  uint32_t tick_ms = 100;              // retry hint for NotReady
  // address of a leader by node number, for WrongLeader hints ("" unknown).
  std::function<std::string(uint64_t)> address_of;
  // The layout and the forwarder to other radiants (both outlive the
  // handler). Null: every request is served by the runtime's order.
  const Layout* layout = nullptr;
  Forwarder* forwarder = nullptr;
};

class OrderKvHandler : public api::KvHandler,
                       public std::enable_shared_from_this<OrderKvHandler> {
 public:
  // `runtime` must outlive the handler's last call (the Node stops the API
  // server before the runtime). Owned by a shared_ptr: an asynchronous
  // request keeps the handler alive until the runtime answers it.
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
  // Served here without waiting when the request says no_forward (or there
  // is nowhere to forward) and this radiant's order owns the key: the
  // answer comes on the order's driver thread. Everything else (a hop to
  // another radiant, WrongGroup) is left to the synchronous path.
  bool GetAsync(const api::wire::GetRequest& r,
                Done<api::wire::GetResult>& done) override;
  bool PutAsync(const api::wire::PutRequest& r,
                Done<api::wire::PutResult>& done) override;

 private:
  struct Target {
    enum Kind { kLocal, kForward, kWrongGroup } kind;
    uint64_t order;
    uint64_t preferred;  // forward: member to try first (0: any)
  };
  Target TargetOf(uint16_t shard, bool no_forward) const;
  uint16_t ShardOf(const std::string& key) const;
  // Routes one request: `local` serves it here, `remote` is the generated
  // client's method for the hop.
  template <typename Res, typename Req>
  api::ApiOr<Res> Serve(
      const Req& r, uint16_t shard, bool write,
      const std::function<api::ApiOr<Res>()>& local,
      void (::shardbearer::wire::KvClient::*remote)(Res&, const Req&));

  // The requests as this radiant's order serves them.
  api::ApiOr<api::wire::GetResult> LocalGet(const api::wire::GetRequest& r);
  api::ApiOr<api::wire::PutResult> LocalPut(const api::wire::PutRequest& r);
  api::ApiOr<api::wire::AppendResult> LocalAppend(
      const api::wire::AppendRequest& r);
  api::ApiOr<api::wire::DeleteResult> LocalDelete(
      const api::wire::DeleteRequest& r);
  api::ApiOr<api::wire::CasResult> LocalCompareAndSet(
      const api::wire::CasRequest& r);
  api::ApiOr<api::wire::MultiGetResult> LocalMultiGet(
      const api::wire::MultiGetRequest& r);

  // Proposes `c` with the request's session; `done` gets its result,
  // mapped to an ApiError unless the command applied with kOk (on the
  // order's driver thread). Write waits for it.
  void WriteAsync(order::Command c, const api::wire::WriteId& id,
                  std::function<void(api::ApiOr<order::CommandResult>)> done);
  api::ApiOr<order::CommandResult> Write(order::Command c,
                                         const api::wire::WriteId& id);
  // A put's answer from its command's outcome.
  static api::ApiOr<api::wire::PutResult> PutAnswer(
      api::ApiOr<order::CommandResult> res);
  // A write's outcome as the client hears it.
  api::ApiOr<order::CommandResult> WriteOutcome(
      const StatusOr<order::CommandResult>& r, uint16_t shard,
      int64_t sequence) const;
  api::ApiOr<api::wire::GetResult> ReadOutcome(order::ReadResult r) const;
  // True when a request with this no_forward flag is served by this
  // radiant's order without a hop (async path).
  bool ServedHere(uint16_t shard, bool no_forward) const;
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
