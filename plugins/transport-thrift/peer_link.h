// plugins/transport-thrift/peer_link.h — the outbound side of one peer: a
// bounded queue and the thread that dials, handshakes and writes envelopes.
//
// Protocol steps (thrift/shardbearer.thrift, "Peer protocol"):
//   1. dial the peer's address (connect_timeout_ms, TLS when configured);
//   2. send PeerFrame.handshake and wait read_timeout_ms for the reply;
//      a refusal or silence counts as a failed attempt;
//   3. drain the queue into envelopes of at most batch_max_bytes and write
//      each as one frame;
//   on any failure: close, count the in-flight batch as dropped, wait the
//   backoff (doubling, jittered) and start over at 1.
//
// Thread safety: Enqueue/SetAddress/Stop from any thread; the link's own
// thread does all socket I/O, so a sender never blocks on the network.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "plugins/transport-thrift/options.h"
#include "plugins/transport-thrift/stats.h"
#include "shardbearer/abi/common.h"
#include "thrift/net/framing.h"

namespace sb::transport_thrift {

struct LinkContext {
  const sb_host_services* host;
  const Options* options;
  Stats* stats;
  uint64_t local_node_id;
  std::string cluster_id;
  std::shared_ptr<sb::wire::TlsContext> tls;  // client side; may be null
};

class PeerLink {
 public:
  PeerLink(const LinkContext& ctx, uint64_t node_id, std::string address);
  ~PeerLink();  // stops and joins
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // SB_OK or SB_BUSY (queue full) / SB_UNAVAILABLE (stopped).
  sb_code Enqueue(const uint8_t* data, size_t len, sb_status* st);
  // Reconnects to `address` for the next batch.
  void SetAddress(std::string address);
  // Drops the queue (counted), closes, joins the thread. Idempotent.
  void Stop();

 private:
  void Run();
  bool Connect(std::string* why);
  void CloseConnection();
  // Sleeps up to ms unless stopped or the address changed.
  void Backoff(int ms);
  bool PeerClosed();

  LinkContext ctx_;
  const uint64_t node_id_;
  std::thread thread_;
  std::mt19937 rng_;

  std::mutex mu_;  // guards the members below
  std::condition_variable cv_;
  std::string address_;
  bool address_changed_ = false;
  bool stop_ = false;
  std::deque<std::string> queue_;
  std::unique_ptr<sb::wire::FramedConnection> conn_;  // written by thread_
};

}  // namespace sb::transport_thrift
