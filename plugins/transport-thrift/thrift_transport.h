// plugins/transport-thrift/thrift_transport.h — one transport instance: the
// peer table, the outbound links and the inbound server.
//
// Inbound protocol steps for each accepted connection (the listener side of
// thrift/shardbearer.thrift's "Peer protocol"):
//   1. the first frame must be a Handshake, within idle_timeout_ms;
//   2. it is refused (reply accepted=false with the reason, a log line, then
//      close) when the protocol version is outside [MIN_PROTOCOL_VERSION,
//      PROTOCOL_VERSION], the cluster id differs, the receiver id is not
//      ours, or the sender is not a registered peer;
//   3. afterwards every frame must be an Envelope; each message in it is
//      delivered in order. A malformed, oversized or slow frame closes the
//      connection with a log line; the sender reconnects.
//
// Thread safety: every public method is thread-safe (the ABI contract in
// shardbearer/abi/transport.h); Shutdown joins every thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "plugins/transport-thrift/options.h"
#include "plugins/transport-thrift/peer_link.h"
#include "plugins/transport-thrift/stats.h"
#include "shardbearer/abi/transport.h"
#include "thrift/net/framed_server.h"

namespace sb::transport_thrift {

class ThriftTransport {
 public:
  static sb_code Create(const sb_transport_create_args* args,
                        ThriftTransport** out, sb_status* st);
  ~ThriftTransport();

  sb_code Listen(sb_status* st);
  sb_code LocalAddress(sb_bytes_sink sink, void* ctx, sb_status* st);
  sb_code AddPeer(uint64_t id, const char* address, sb_status* st);
  sb_code UpdatePeer(uint64_t id, const char* address, sb_status* st);
  sb_code RemovePeer(uint64_t id, sb_status* st);
  sb_code Send(uint64_t to, sb_bytes msg, sb_status* st);
  void FillStats(sb_transport_stats* out) const;
  void Shutdown();

 private:
  ThriftTransport() = default;
  void ServeInbound(sb::wire::FramedConnection& conn);
  // Empty when the handshake is acceptable, else the reason.
  std::string CheckHandshake(const void* handshake) const;
  bool IsPeer(uint64_t id) const;

  const sb_host_services* host_ = nullptr;
  Options options_;
  uint64_t local_id_ = 0;
  std::string cluster_id_;
  std::string listen_address_;
  sb_transport_deliver_fn deliver_ = nullptr;
  void* deliver_ctx_ = nullptr;
  std::shared_ptr<sb::wire::TlsContext> tls_client_, tls_server_;
  mutable Stats stats_;
  LinkContext link_ctx_{};

  mutable std::shared_mutex mu_;  // guards peers_, shut_down_
  std::map<uint64_t, std::unique_ptr<PeerLink>> peers_;
  bool shut_down_ = false;

  mutable std::mutex server_mu_;  // guards server_
  std::unique_ptr<sb::wire::FramedServer> server_;
};

}  // namespace sb::transport_thrift
