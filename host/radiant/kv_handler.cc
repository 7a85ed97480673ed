// host/radiant/kv_handler.cc — see kv_handler.h.
#include "host/radiant/kv_handler.h"

#include <chrono>
#include <map>
#include <utility>

#include "host/common/promised.h"
#include "host/order/shard.h"
#include "shardbearer/wire/Kv.h"

namespace sb::radiant {

namespace {

namespace wire = api::wire;
using api::ApiError;
using api::ApiOr;

// Beyond the herald's own deadline: its outcome-unknown answer normally
// arrives first; this only covers a driver thread that stalled.
constexpr uint32_t kWaitSlackMs = 1000;

}  // namespace

OrderKvHandler::OrderKvHandler(OrderRuntime* runtime, KvHandlerOptions options)
    : rt_(runtime), opts_(std::move(options)) {}

ApiError OrderKvHandler::FromStatus(const Status& s, bool write) const {
  if (s.IsOutcomeUnknown()) {
    return ApiError::Timeout(
        (write ? "outcome unknown, retry with the same write_id: "
               : "read timed out: ") +
        s.message());
  }
  if (s.code() == Code::kUnavailable) {
    const uint64_t leader = rt_->leader();
    if (leader != 0 && leader != rt_->node_number()) {
      std::string hint = opts_.address_of ? opts_.address_of(leader) : "";
      return ApiError::WrongLeader(s.message(), std::move(hint),
                                   static_cast<int64_t>(leader));
    }
    return ApiError::NotReady(s.message(),
                              static_cast<int32_t>(opts_.tick_ms * 10));
  }
  // A command the order refuses to encode or propose (caller's values).
  if (s.IsInvalidArgument()) return ApiError::InvalidArgument(s.message());
  // Anything else (a storage error under the order, a proposal that lost
  // its index to another): the request did not complete here; retrying
  // later is the only thing a client can do.
  return ApiError::NotReady(
      "order " + std::to_string(rt_->order_id()) + ": " + s.ToString(),
      static_cast<int32_t>(opts_.tick_ms * 10));
}

void OrderKvHandler::WriteAsync(
    order::Command c, const wire::WriteId& id,
    std::function<void(ApiOr<order::CommandResult>)> done) {
  c.WithSession(static_cast<uint64_t>(id.client_id),
                static_cast<uint64_t>(id.sequence), 0);
  const uint16_t shard = c.shard;
  const int64_t sequence = id.sequence;
  rt_->Propose(std::move(c),
               [self = shared_from_this(), shard, sequence,
                done = std::move(done)](StatusOr<order::CommandResult> r) {
                 done(self->WriteOutcome(r, shard, sequence));
               });
}

ApiOr<order::CommandResult> OrderKvHandler::Write(order::Command c,
                                                  const wire::WriteId& id) {
  auto [done, f] = Promised<ApiOr<order::CommandResult>>();
  WriteAsync(std::move(c), id, std::move(done));
  const auto wait =
      std::chrono::milliseconds(opts_.request_timeout_ms + kWaitSlackMs);
  if (f.wait_for(wait) != std::future_status::ready) {
    return ApiError::Timeout(
        "outcome unknown, retry with the same write_id: no answer within " +
        std::to_string(wait.count()) + " ms");
  }
  return f.get();
}

ApiOr<order::CommandResult> OrderKvHandler::WriteOutcome(
    const StatusOr<order::CommandResult>& r, uint16_t shard,
    int64_t sequence) const {
  if (!r.ok()) return FromStatus(r.status(), /*write=*/true);
  const order::CommandResult& res = r.value();
  switch (res.code) {
    case order::ResultCode::kOk:
      return res;
    case order::ResultCode::kWrongGroup:
      return ApiError::WrongGroup("shard not served by this order",
                                  static_cast<int32_t>(shard), 0);
    case order::ResultCode::kStaleSequence:
      return ApiError::InvalidArgument(
          "write_id sequence " + std::to_string(sequence) +
          " is older than the client's last write (or its session expired)");
    case order::ResultCode::kTooLarge:
      return ApiError::TooLarge("value", static_cast<int64_t>(res.new_size),
                                opts_.max_value_bytes);
  }
  return ApiError::NotReady("unknown result code " +
                            std::to_string(static_cast<int>(res.code)));
}

ApiOr<wire::GetResult> OrderKvHandler::AwaitRead(
    std::future<order::ReadResult>& f, Deadline deadline) {
  if (f.wait_until(deadline) != std::future_status::ready) {
    return ApiError::Timeout(
        "read: no answer within " +
        std::to_string(opts_.request_timeout_ms + kWaitSlackMs) + " ms");
  }
  return ReadOutcome(f.get());
}

ApiOr<wire::GetResult> OrderKvHandler::ReadOutcome(order::ReadResult r) const {
  if (!r.ok()) return FromStatus(r.status(), /*write=*/false);
  wire::GetResult out;
  out.found = r->has_value();
  if (out.found) {
    out.__set_value(std::move(**r));
  }
  return out;
}

OrderKvHandler::Deadline OrderKvHandler::ReadDeadline() const {
  return std::chrono::steady_clock::now() +
         std::chrono::milliseconds(opts_.request_timeout_ms + kWaitSlackMs);
}

ApiOr<wire::GetResult> OrderKvHandler::LocalGet(const wire::GetRequest& r) {
  const Deadline deadline = ReadDeadline();
  auto f = rt_->Get(order::ShardOf(r.key, rt_->shards()), r.key);
  return AwaitRead(f, deadline);
}

ApiOr<wire::MultiGetResult> OrderKvHandler::LocalMultiGet(
    const wire::MultiGetRequest& r) {
  std::vector<std::pair<uint16_t, std::string>> keys;
  keys.reserve(r.keys.size());
  for (const std::string& k : r.keys) {
    keys.emplace_back(order::ShardOf(k, rt_->shards()), k);
  }
  // One deadline for the whole request: the reads share one read index.
  const Deadline deadline = ReadDeadline();
  auto futures = rt_->MultiGet(keys);
  wire::MultiGetResult out;
  out.results.reserve(futures.size());
  // Every future is waited for (they were queued together, so they are
  // answered together); the first error answers the whole request.
  std::optional<ApiError> error;
  for (auto& f : futures) {
    auto one = AwaitRead(f, deadline);
    if (!one.ok()) {
      if (!error) error = one.error();
      continue;
    }
    out.results.push_back(std::move(one.value()));
  }
  if (error) return *error;
  return out;
}

ApiOr<wire::PutResult> OrderKvHandler::PutAnswer(
    ApiOr<order::CommandResult> res) {
  if (!res.ok()) return res.error();
  wire::PutResult out;
  out.applied_index = static_cast<int64_t>(res.value().index);
  return out;
}

ApiOr<wire::PutResult> OrderKvHandler::LocalPut(const wire::PutRequest& r) {
  return PutAnswer(Write(
      order::Command::Put(order::ShardOf(r.key, rt_->shards()), r.key, r.value),
      r.write_id));
}

ApiOr<wire::AppendResult> OrderKvHandler::LocalAppend(
    const wire::AppendRequest& r) {
  auto res =
      Write(order::Command::Append(order::ShardOf(r.key, rt_->shards()), r.key,
                                   r.value, opts_.max_value_bytes),
            r.write_id);
  if (!res.ok()) return res.error();
  wire::AppendResult out;
  out.applied_index = static_cast<int64_t>(res.value().index);
  out.new_size = static_cast<int64_t>(res.value().new_size);
  return out;
}

ApiOr<wire::DeleteResult> OrderKvHandler::LocalDelete(
    const wire::DeleteRequest& r) {
  auto res =
      Write(order::Command::Delete(order::ShardOf(r.key, rt_->shards()), r.key),
            r.write_id);
  if (!res.ok()) return res.error();
  wire::DeleteResult out;
  out.existed = res.value().existed;
  out.applied_index = static_cast<int64_t>(res.value().index);
  return out;
}

ApiOr<wire::CasResult> OrderKvHandler::LocalCompareAndSet(
    const wire::CasRequest& r) {
  const std::string* expected = r.__isset.expected ? &r.expected : nullptr;
  const std::string* new_value = r.__isset.new_value ? &r.new_value : nullptr;
  auto res =
      Write(order::Command::CompareAndSet(order::ShardOf(r.key, rt_->shards()),
                                          r.key, expected, new_value),
            r.write_id);
  if (!res.ok()) return res.error();
  wire::CasResult out;
  out.succeeded = res.value().cas_succeeded;
  if (res.value().has_current) out.__set_current(res.value().current);
  out.applied_index = static_cast<int64_t>(res.value().index);
  return out;
}

OrderKvHandler::Target OrderKvHandler::TargetOf(uint16_t shard,
                                                bool no_forward) const {
  const uint64_t mine = rt_->order_id();
  const uint64_t owner = opts_.layout ? opts_.layout->OwnerOf(shard) : mine;
  if (owner == mine) {
    const uint64_t leader = rt_->leader();
    if (no_forward || opts_.forwarder == nullptr || leader == 0 ||
        leader == rt_->node_number()) {
      return {Target::kLocal, owner, 0};
    }
    return {Target::kForward, owner, leader};
  }
  if (no_forward || opts_.forwarder == nullptr) {
    return {Target::kWrongGroup, owner, 0};
  }
  return {Target::kForward, owner, opts_.forwarder->HeraldOf(owner)};
}

template <typename Res, typename Req>
ApiOr<Res> OrderKvHandler::Serve(const Req& r, uint16_t shard, bool write,
                                 const std::function<ApiOr<Res>()>& local,
                                 void (wire::KvClient::*remote)(Res&,
                                                                const Req&)) {
  const bool no_forward = r.__isset.no_forward && r.no_forward;
  Target t = TargetOf(shard, no_forward);
  if (t.kind == Target::kLocal) {
    ApiOr<Res> res = local();
    // Leadership moved between the check and the answer: one hop to the
    // herald the order now knows.
    if (res.ok() || no_forward || opts_.forwarder == nullptr ||
        res.error().kind != ApiError::Kind::kWrongLeader ||
        res.error().leader_node_id == 0) {
      return res;
    }
    t = {Target::kForward, t.order,
         static_cast<uint64_t>(res.error().leader_node_id)};
  }
  if (t.kind == Target::kWrongGroup) {
    return ApiError::WrongGroup(
        "shard " + std::to_string(shard) + " belongs to order " +
            std::to_string(t.order) + ", not to this radiant's order " +
            std::to_string(rt_->order_id()),
        shard, kStaticConfigNum);
  }
  Req hop = r;
  hop.__set_no_forward(true);
  Res out;
  api::ApiOr<bool> st =
      opts_.forwarder->Call(t.order, t.preferred, write,
                            [&](wire::KvClient& c) { (c.*remote)(out, hop); });
  if (!st.ok()) return st.error();
  return out;
}

uint16_t OrderKvHandler::ShardOf(const std::string& key) const {
  return order::ShardOf(key, rt_->shards());
}

ApiOr<wire::GetResult> OrderKvHandler::Get(const wire::GetRequest& r) {
  return Serve<wire::GetResult>(
      r, ShardOf(r.key), /*write=*/false, [&] { return LocalGet(r); },
      &wire::KvClient::get);
}

ApiOr<wire::PutResult> OrderKvHandler::Put(const wire::PutRequest& r) {
  return Serve<wire::PutResult>(
      r, ShardOf(r.key), /*write=*/true, [&] { return LocalPut(r); },
      &wire::KvClient::put);
}

ApiOr<wire::AppendResult> OrderKvHandler::Append(const wire::AppendRequest& r) {
  return Serve<wire::AppendResult>(
      r, ShardOf(r.key), /*write=*/true, [&] { return LocalAppend(r); },
      &wire::KvClient::append);
}

ApiOr<wire::DeleteResult> OrderKvHandler::Delete(const wire::DeleteRequest& r) {
  return Serve<wire::DeleteResult>(
      r, ShardOf(r.key), /*write=*/true, [&] { return LocalDelete(r); },
      &wire::KvClient::remove);
}

ApiOr<wire::CasResult> OrderKvHandler::CompareAndSet(
    const wire::CasRequest& r) {
  return Serve<wire::CasResult>(
      r, ShardOf(r.key), /*write=*/true, [&] { return LocalCompareAndSet(r); },
      &wire::KvClient::compare_and_set);
}

bool OrderKvHandler::ServedHere(uint16_t shard, bool no_forward) const {
  // Without a hop to fall back on, a local answer is final (the
  // synchronous path would forward a WrongLeader that a hop could fix).
  if (!no_forward && opts_.forwarder != nullptr) return false;
  return TargetOf(shard, no_forward).kind == Target::kLocal;
}

bool OrderKvHandler::GetAsync(const wire::GetRequest& r,
                              Done<wire::GetResult>& done) {
  const uint16_t shard = ShardOf(r.key);
  if (!ServedHere(shard, r.__isset.no_forward && r.no_forward)) return false;
  rt_->Get(shard, r.key,
           [self = shared_from_this(), done = std::move(done)](
               order::ReadResult x) { done(self->ReadOutcome(std::move(x))); });
  return true;
}

bool OrderKvHandler::PutAsync(const wire::PutRequest& r,
                              Done<wire::PutResult>& done) {
  const uint16_t shard = ShardOf(r.key);
  if (!ServedHere(shard, r.__isset.no_forward && r.no_forward)) return false;
  WriteAsync(order::Command::Put(shard, r.key, r.value), r.write_id,
             [done = std::move(done)](ApiOr<order::CommandResult> res) {
               done(PutAnswer(std::move(res)));
             });
  return true;
}

ApiOr<wire::MultiGetResult> OrderKvHandler::MultiGet(
    const wire::MultiGetRequest& r) {
  // Keys by owning order; each order's keys are one request (local, or one
  // hop), answered back into the caller's order.
  std::map<uint64_t, std::vector<size_t>> by_order;
  for (size_t i = 0; i < r.keys.size(); ++i) {
    const uint16_t shard = ShardOf(r.keys[i]);
    by_order[opts_.layout ? opts_.layout->OwnerOf(shard) : rt_->order_id()]
        .push_back(i);
  }
  if (by_order.size() <= 1) {
    const uint16_t shard = r.keys.empty() ? 0 : ShardOf(r.keys.front());
    return Serve<wire::MultiGetResult>(
        r, shard, /*write=*/false, [&] { return LocalMultiGet(r); },
        &wire::KvClient::multi_get);
  }
  wire::MultiGetResult out;
  out.results.resize(r.keys.size());
  for (const auto& [order, indexes] : by_order) {
    wire::MultiGetRequest part;
    if (r.__isset.no_forward) part.__set_no_forward(r.no_forward);
    for (size_t i : indexes) part.keys.push_back(r.keys[i]);
    ApiOr<wire::MultiGetResult> res = Serve<wire::MultiGetResult>(
        part, ShardOf(part.keys.front()), /*write=*/false,
        [&] { return LocalMultiGet(part); }, &wire::KvClient::multi_get);
    if (!res.ok()) return res.error();
    if (res.value().results.size() != indexes.size()) {
      return ApiError::NotReady(
          "order " + std::to_string(order) + " answered " +
          std::to_string(res.value().results.size()) + " results for " +
          std::to_string(indexes.size()) + " keys");
    }
    for (size_t j = 0; j < indexes.size(); ++j) {
      out.results[indexes[j]] = std::move(res.value().results[j]);
    }
  }
  return out;
}

}  // namespace sb::radiant
