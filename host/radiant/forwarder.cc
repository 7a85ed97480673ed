// host/radiant/forwarder.cc — see forwarder.h.
#include "host/radiant/forwarder.h"

#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>
#include <thrift/transport/TSocket.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "shardbearer/wire/Kv.h"
#include "thrift/net/dial.h"

namespace sb::radiant {

namespace {

namespace wire = ::shardbearer::wire;
using apache::thrift::protocol::TBinaryProtocol;
using apache::thrift::transport::TFramedTransport;
using apache::thrift::transport::TSocket;
using api::ApiError;
using Clock = std::chrono::steady_clock;

// Beyond the request timeout: the target's own Timeout answer comes first.
constexpr int kSlackMs = 1000;
// Longest pause after a NotReady before the next member.
constexpr int kNotReadyPauseMs = 100;

}  // namespace

struct Forwarder::Conn {
  std::shared_ptr<TSocket> socket;
  std::shared_ptr<TFramedTransport> transport;
  std::unique_ptr<wire::KvClient> kv;
};

Forwarder::Forwarder(const Layout* layout, ForwarderOptions options)
    : layout_(layout), opts_(std::move(options)) {
  if (opts_.tls.enabled()) {
    tls_ =
        sb::wire::TlsContext::Create(opts_.tls, /*server=*/false, &tls_error_);
  }
}

Forwarder::~Forwarder() = default;

uint64_t Forwarder::HeraldOf(uint64_t order) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = heralds_.find(order);
  return it == heralds_.end() ? 0 : it->second;
}

void Forwarder::NoteHerald(uint64_t order, uint64_t node) {
  std::lock_guard<std::mutex> l(mu_);
  heralds_[order] = node;
}

std::unique_ptr<Forwarder::Conn> Forwarder::Take(uint64_t node,
                                                 std::string* why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& idle = idle_[node];
    if (!idle.empty()) {
      std::unique_ptr<Conn> c = std::move(idle.back());
      idle.pop_back();
      return c;
    }
  }
  if (opts_.tls.enabled() && !tls_) {
    *why = "client TLS for forwarding: " + tls_error_;
    return nullptr;
  }
  const LayoutMember* m = layout_->Member(node);
  if (m == nullptr) {
    *why = "node " + std::to_string(node) + " is not in the layout";
    return nullptr;
  }
  auto socket = sb::wire::Dial(
      m->client_address, static_cast<int>(opts_.connect_timeout_ms), tls_, why);
  if (!socket) return nullptr;
  const int io_ms = static_cast<int>(opts_.request_timeout_ms) + kSlackMs;
  socket->setRecvTimeout(io_ms);
  socket->setSendTimeout(io_ms);
  auto c = std::make_unique<Conn>();
  c->socket = socket;
  c->transport = std::make_shared<TFramedTransport>(socket);
  c->kv = std::make_unique<wire::KvClient>(
      std::make_shared<TBinaryProtocol>(c->transport));
  return c;
}

void Forwarder::Give(uint64_t node, std::unique_ptr<Conn> conn) {
  std::lock_guard<std::mutex> l(mu_);
  auto& idle = idle_[node];
  if (idle.size() < kMaxIdlePerNode) idle.push_back(std::move(conn));
}

api::ApiOr<bool> Forwarder::Call(
    uint64_t order, uint64_t preferred, bool write,
    const std::function<void(wire::KvClient&)>& call) {
  const LayoutOrder* o = layout_->Order(order);
  if (o == nullptr) {
    return ApiError::NotReady("order " + std::to_string(order) +
                              " is not in the layout");
  }
  std::vector<uint64_t> members;
  for (uint64_t m : o->members) {
    if (m != opts_.self) members.push_back(m);
  }
  if (members.empty()) {
    return ApiError::NotReady("order " + std::to_string(order) +
                              " has no other member to forward to");
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(
                                           opts_.request_timeout_ms + kSlackMs);
  auto is_member = [&](uint64_t n) {
    return std::find(members.begin(), members.end(), n) != members.end();
  };
  uint64_t target = is_member(preferred) ? preferred : HeraldOf(order);
  size_t next = 0;
  if (!is_member(target)) target = members[next++ % members.size()];

  ApiError last = ApiError::NotReady("no member of order " +
                                     std::to_string(order) + " answered");
  bool maybe_applied = false;
  const size_t max_attempts = 2 * members.size() + 1;
  for (size_t attempt = 0; attempt < max_attempts; ++attempt) {
    if (attempt > 0 && Clock::now() >= deadline) break;
    if (attempt > 0) {
      // Next: the hint chosen below, else the next member in turn.
      if (target == 0) target = members[next++ % members.size()];
    }
    const uint64_t node = target;
    target = 0;
    std::string why;
    std::unique_ptr<Conn> c = Take(node, &why);
    if (!c) {
      last = ApiError::NotReady("order " + std::to_string(order) +
                                ": cannot reach node " + std::to_string(node) +
                                ": " + why);
      continue;
    }
    try {
      call(*c->kv);
      Give(node, std::move(c));
      NoteHerald(order, node);
      return true;
    } catch (const wire::WrongLeader& e) {
      Give(node, std::move(c));
      last = ApiError::WrongLeader(e.message, e.leader_hint, e.leader_node_id);
      const uint64_t hint = static_cast<uint64_t>(e.leader_node_id);
      if (is_member(hint)) {
        NoteHerald(order, hint);
        target = hint;
      }
    } catch (const wire::NotReady& e) {
      Give(node, std::move(c));
      last = ApiError::NotReady(e.message, e.retry_after_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::clamp(e.retry_after_ms, 1, kNotReadyPauseMs)));
    } catch (const wire::Timeout& e) {
      Give(node, std::move(c));
      return ApiError::Timeout(e.message);
    } catch (const wire::WrongGroup& e) {
      Give(node, std::move(c));
      return ApiError::WrongGroup(e.message, e.shard, e.config_num);
    } catch (const wire::TooLarge& e) {
      Give(node, std::move(c));
      ApiError err = ApiError::TooLarge(e.subject, e.size, e.max_allowed);
      err.message = e.message;
      return err;
    } catch (const wire::InvalidArgument& e) {
      Give(node, std::move(c));
      return ApiError::InvalidArgument(e.message);
    } catch (const std::exception& e) {
      // Transport or protocol failure: the connection is dropped. The
      // request may have been delivered before it broke.
      maybe_applied = maybe_applied || write;
      last = ApiError::NotReady("order " + std::to_string(order) + ": node " +
                                std::to_string(node) + ": " + e.what());
    }
  }
  if (maybe_applied) {
    return ApiError::Timeout(
        "outcome unknown, retry with the same write_id: forwarding to order " +
        std::to_string(order) +
        " failed after the request may have been "
        "delivered (" +
        last.message + ")");
  }
  return last;
}

}  // namespace sb::radiant
