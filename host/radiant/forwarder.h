// host/radiant/forwarder.h — takes a client request this radiant cannot
// serve to the radiant that can: one hop, over that radiant's client port.
//
// Any node answers any key (docs/orders.md): when the key's shard belongs to
// another order, or to this node's order while another member is its
// herald, the Kv handler hands the request to Forwarder::Call with
// no_forward set, so the receiver answers from its own order or refuses; it
// never forwards again, and no request travels more than one hop.
//
// Call tries the order's members, starting with `preferred` (or the herald
// this forwarder last saw answer for the order), and moves on:
//   - WrongLeader with a member as hint: to that member, remembered as the
//     order's herald;
//   - NotReady, a refused connection, a broken connection: to the next
//     member (after a short pause for NotReady);
//   - Timeout, WrongGroup, TooLarge, InvalidArgument: answered as they are.
// Attempts stop at 2 rounds of the members or at the request deadline
// ([cluster] request_timeout_ms plus a second). A write that may have
// reached a radiant (its connection broke after the request was sent) and
// got no answer is reported Timeout: its outcome is unknown, and the
// client's retry with the same write_id is applied at most once.
//
// Connections are pooled per node (at most kMaxIdlePerNode idle ones kept);
// a connection that failed is closed, never reused. When the radiants'
// client ports use mutual TLS ([node] client_tls_*), the forwarder dials
// with the same files: this node's certificate is its client certificate.
//
// Thread safety: Call, HeraldOf and NoteHerald may be called concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "host/api/handlers.h"
#include "host/radiant/layout.h"
#include "thrift/net/dial.h"

namespace shardbearer::wire {
class KvClient;
}

namespace sb::radiant {

struct ForwarderOptions {
  uint64_t self = 0;  // this node's number (never a target)
  uint32_t request_timeout_ms = 5000;
  uint32_t connect_timeout_ms = 1000;
  // The client port's TLS files (none set: plain TCP).
  sb::wire::TlsFiles tls;
};

class Forwarder {
 public:
  // `layout` must outlive the Forwarder.
  Forwarder(const Layout* layout, ForwarderOptions options);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Runs `call` (one Thrift call on the given client; typed exceptions
  // propagate out of it) against the members of `order` as described
  // above. `write`: the request changes state (see outcome unknown).
  // An OK status means `call` returned normally.
  api::ApiOr<bool> Call(
      uint64_t order, uint64_t preferred, bool write,
      const std::function<void(::shardbearer::wire::KvClient&)>& call);

  // The member last seen answering for `order` as herald (0: none).
  uint64_t HeraldOf(uint64_t order) const;
  void NoteHerald(uint64_t order, uint64_t node);

  static constexpr size_t kMaxIdlePerNode = 16;

 private:
  struct Conn;
  std::unique_ptr<Conn> Take(uint64_t node, std::string* why);
  void Give(uint64_t node, std::unique_ptr<Conn> conn);

  const Layout* layout_;
  ForwarderOptions opts_;
  std::shared_ptr<sb::wire::TlsContext> tls_;  // null: plain TCP
  std::string tls_error_;  // why the TLS context could not be made
  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> heralds_;  // order -> node
  std::map<uint64_t, std::vector<std::unique_ptr<Conn>>> idle_;
};

}  // namespace sb::radiant
