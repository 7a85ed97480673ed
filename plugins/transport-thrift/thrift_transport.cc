// plugins/transport-thrift/thrift_transport.cc — see thrift_transport.h.
#include "plugins/transport-thrift/thrift_transport.h"

#include <vector>

#include "shardbearer/wire/shardbearer_constants.h"
#include "shardbearer/wire/shardbearer_types.h"

namespace sb::transport_thrift {

namespace w = ::shardbearer::wire;

void Stats::Fill(sb_transport_stats* out, uint64_t extra_refused) const {
  sb_transport_stats s{};
  s.struct_size = sizeof s;
  s.messages_sent = messages_sent;
  s.bytes_sent = bytes_sent;
  s.messages_received = messages_received;
  s.bytes_received = bytes_received;
  s.send_busy = send_busy;
  s.messages_dropped = messages_dropped;
  s.envelopes_sent = envelopes_sent;
  s.connects = connects;
  s.connect_failures = connect_failures;
  s.inbound_accepted = inbound_accepted;
  s.inbound_refused = inbound_refused + extra_refused;
  s.inbound_open = inbound_open;
  s.outbound_open = outbound_open;
  // Copy only what the caller's (possibly older, smaller) struct holds.
  uint32_t size = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  if (size <= sizeof(uint32_t)) return;
  memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t),
         reinterpret_cast<const char*>(&s) + sizeof(uint32_t),
         size - sizeof(uint32_t));
}

sb_code ThriftTransport::Create(const sb_transport_create_args* args,
                                ThriftTransport** out, sb_status* st) {
  if (args == nullptr || out == nullptr || !SB_HAS_FIELD(args, deliver_ctx) ||
      args->deliver == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: create needs args with a deliver "
                         "callback");
  }
  if (args->local_node_id == 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: local node id must be non-zero");
  }
  std::unique_ptr<ThriftTransport> t(new ThriftTransport());
  sb_code c = ParseOptions(args->config, &t->options_, st);
  if (c != SB_OK) return c;
  t->host_ = args->host;
  t->local_id_ = args->local_node_id;
  t->cluster_id_ = args->cluster_id != nullptr ? args->cluster_id : "";
  t->listen_address_ =
      args->listen_address != nullptr ? args->listen_address : "";
  t->deliver_ = args->deliver;
  t->deliver_ctx_ = args->deliver_ctx;
  if (t->options_.tls.enabled()) {
    std::string why;
    t->tls_client_ = sb::wire::TlsContext::Create(t->options_.tls, false, &why);
    if (t->tls_client_) {
      t->tls_server_ =
          sb::wire::TlsContext::Create(t->options_.tls, true, &why);
    }
    if (!t->tls_server_) {
      return sb_status_set(st, SB_INVALID_ARGUMENT, "transport: %s",
                           why.c_str());
    }
  }
  if (!t->listen_address_.empty()) {
    sb::wire::HostPort hp;
    std::string why;
    if (!sb::wire::ParseHostPort(t->listen_address_, &hp, &why)) {
      return sb_status_set(st, SB_INVALID_ARGUMENT, "transport: listen: %s",
                           why.c_str());
    }
  }
  t->link_ctx_ = LinkContext{t->host_,     &t->options_,   &t->stats_,
                             t->local_id_, t->cluster_id_, t->tls_client_};
  *out = t.release();
  return sb_status_ok(st);
}

ThriftTransport::~ThriftTransport() { Shutdown(); }

void ThriftTransport::FillStats(sb_transport_stats* out) const {
  // Connections refused at accept (max_inbound_connections) are counted by
  // the server; fold them into inbound_refused.
  uint64_t at_accept = 0;
  {
    std::lock_guard<std::mutex> lock(server_mu_);
    if (server_) at_accept = server_->refused_connections();
  }
  stats_.Fill(out, at_accept);
}

sb_code ThriftTransport::Listen(sb_status* st) {
  std::lock_guard<std::mutex> lock(server_mu_);
  {
    std::shared_lock<std::shared_mutex> rl(mu_);
    if (shut_down_) return sb_status_set(st, SB_UNAVAILABLE, "shut down");
  }
  if (server_) {
    return sb_status_set(st, SB_ALREADY_EXISTS, "transport: already listening");
  }
  if (listen_address_.empty()) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: no listen address given at create");
  }
  sb::wire::ServerOptions so;
  so.listen_address = listen_address_;
  so.max_connections = options_.max_inbound_connections;
  so.limits.max_frame_bytes = options_.max_frame_bytes;
  so.limits.idle_timeout_ms = options_.idle_timeout_ms;
  so.limits.read_timeout_ms = options_.read_timeout_ms;
  so.limits.write_timeout_ms = options_.read_timeout_ms;
  so.tls = tls_server_;
  so.name = "transport";
  const sb_host_services* host = host_;
  so.log = [host](int level, const std::string& m) {
    sb_logf(host, level, "%s", m.c_str());
  };
  auto server = std::make_unique<sb::wire::FramedServer>();
  std::string why;
  if (!server->Start(
          so, [this](sb::wire::FramedConnection& c) { ServeInbound(c); },
          &why)) {
    return sb_status_set(st, SB_IO_ERROR, "transport: %s", why.c_str());
  }
  server_ = std::move(server);
  return sb_status_ok(st);
}

sb_code ThriftTransport::LocalAddress(sb_bytes_sink sink, void* ctx,
                                      sb_status* st) {
  std::lock_guard<std::mutex> lock(server_mu_);
  if (!server_) {
    return sb_status_set(st, SB_UNAVAILABLE, "transport: not listening");
  }
  const std::string& a = server_->address();
  sink(ctx, reinterpret_cast<const uint8_t*>(a.data()), a.size());
  return sb_status_ok(st);
}

sb_code ThriftTransport::AddPeer(uint64_t id, const char* address,
                                 sb_status* st) {
  sb::wire::HostPort hp;
  std::string why;
  if (id == 0 || id == local_id_) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "transport: peer id %llu is zero or our own",
                         static_cast<unsigned long long>(id));
  }
  if (address == nullptr || !sb::wire::ParseHostPort(address, &hp, &why)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "transport: peer %llu: %s",
                         static_cast<unsigned long long>(id), why.c_str());
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (shut_down_) return sb_status_set(st, SB_UNAVAILABLE, "shut down");
  if (peers_.count(id)) {
    return sb_status_set(st, SB_ALREADY_EXISTS,
                         "transport: peer %llu already known",
                         static_cast<unsigned long long>(id));
  }
  peers_[id] = std::make_unique<PeerLink>(link_ctx_, id, address);
  return sb_status_ok(st);
}

sb_code ThriftTransport::UpdatePeer(uint64_t id, const char* address,
                                    sb_status* st) {
  sb::wire::HostPort hp;
  std::string why;
  if (address == nullptr || !sb::wire::ParseHostPort(address, &hp, &why)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "transport: peer %llu: %s",
                         static_cast<unsigned long long>(id), why.c_str());
  }
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) {
    return sb_status_set(st, SB_NOT_FOUND, "transport: unknown peer %llu",
                         static_cast<unsigned long long>(id));
  }
  it->second->SetAddress(address);
  return sb_status_ok(st);
}

sb_code ThriftTransport::RemovePeer(uint64_t id, sb_status* st) {
  std::unique_ptr<PeerLink> link;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) {
      return sb_status_set(st, SB_NOT_FOUND, "transport: unknown peer %llu",
                           static_cast<unsigned long long>(id));
    }
    link = std::move(it->second);
    peers_.erase(it);
  }
  link->Stop();  // outside the lock: joins the link's thread
  return sb_status_ok(st);
}

sb_code ThriftTransport::Send(uint64_t to, sb_bytes msg, sb_status* st) {
  // A message must fit one envelope frame with its framing overhead.
  if (msg.len + 64 > options_.max_frame_bytes) {
    return sb_status_set(st, SB_TOO_LARGE,
                         "transport: message of %zu bytes over "
                         "max_frame_bytes=%u",
                         msg.len, options_.max_frame_bytes);
  }
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (shut_down_) return sb_status_set(st, SB_UNAVAILABLE, "shut down");
  auto it = peers_.find(to);
  if (it == peers_.end()) {
    return sb_status_set(st, SB_NOT_FOUND, "transport: unknown peer %llu",
                         static_cast<unsigned long long>(to));
  }
  return it->second->Enqueue(msg.data, msg.len, st);
}

void ThriftTransport::Shutdown() {
  std::map<uint64_t, std::unique_ptr<PeerLink>> peers;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    shut_down_ = true;
    peers.swap(peers_);
  }
  for (auto& [id, link] : peers) link->Stop();
  std::lock_guard<std::mutex> lock(server_mu_);
  if (server_) server_->Stop();  // joins every inbound thread
}

bool ThriftTransport::IsPeer(uint64_t id) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return !shut_down_ && peers_.count(id) != 0;
}

std::string ThriftTransport::CheckHandshake(const void* p) const {
  const auto& hs = *static_cast<const w::Handshake*>(p);
  const int32_t v = hs.protocol_version;
  if (v < w::g_shardbearer_constants.MIN_PROTOCOL_VERSION ||
      v > w::g_shardbearer_constants.PROTOCOL_VERSION) {
    return "protocol version " + std::to_string(v) + " not in [" +
           std::to_string(w::g_shardbearer_constants.MIN_PROTOCOL_VERSION) +
           ", " + std::to_string(w::g_shardbearer_constants.PROTOCOL_VERSION) +
           "]";
  }
  if (hs.cluster_id != cluster_id_) {
    return "cluster id '" + hs.cluster_id + "' is not ours ('" + cluster_id_ +
           "')";
  }
  if (static_cast<uint64_t>(hs.receiver_node_id) != local_id_) {
    return "dialed node " + std::to_string(hs.receiver_node_id) +
           " but this is node " + std::to_string(local_id_);
  }
  if (!IsPeer(static_cast<uint64_t>(hs.sender_node_id))) {
    return "node " + std::to_string(hs.sender_node_id) + " is not a known peer";
  }
  return "";
}

void ThriftTransport::ServeInbound(sb::wire::FramedConnection& conn) {
  ++stats_.inbound_open;
  struct OpenGuard {
    std::atomic<uint64_t>& n;
    ~OpenGuard() { --n; }
  } guard{stats_.inbound_open};

  auto refuse = [&](const std::string& why) {
    ++stats_.inbound_refused;
    sb_logf(host_, SB_LOG_WARN,
            "transport: closing peer connection from %s: %s",
            conn.peer().c_str(), why.c_str());
  };
  std::string payload, why;
  // Step 1: the first frame must be a handshake.
  sb::wire::ReadResult r = conn.ReadFrame(&payload, &why);
  if (r != sb::wire::ReadResult::kOk) {
    refuse(std::string("no handshake: ") + sb::wire::ReadResultName(r) + " (" +
           why + ")");
    return;
  }
  w::PeerFrame frame;
  if (!sb::wire::Deserialize(payload, &frame, &why) ||
      !frame.__isset.handshake) {
    refuse("first frame is not a peer handshake (" +
           (why.empty() ? std::string("other frame type") : why) + ")");
    return;
  }
  // Step 2: check version, cluster, receiver and sender; answer either way.
  std::string reason = CheckHandshake(&frame.handshake);
  const uint64_t from = static_cast<uint64_t>(frame.handshake.sender_node_id);
  w::PeerFrame reply;
  w::HandshakeReply hr;
  hr.protocol_version = w::g_shardbearer_constants.PROTOCOL_VERSION;
  hr.accepted = reason.empty();
  hr.reason = reason;
  hr.node_id = static_cast<int64_t>(local_id_);
  reply.__set_handshake_reply(hr);
  std::string werr;
  bool wrote = conn.WriteFrame(sb::wire::Serialize(reply), &werr);
  if (!reason.empty()) {
    refuse("handshake refused: " + reason);
    return;
  }
  if (!wrote) {
    refuse("handshake reply failed: " + werr);
    return;
  }
  ++stats_.inbound_accepted;
  sb_logf(host_, SB_LOG_INFO, "transport: node %llu connected from %s",
          static_cast<unsigned long long>(from), conn.peer().c_str());

  // Step 3: envelopes until close.
  for (;;) {
    r = conn.ReadFrame(&payload, &why);
    if (r == sb::wire::ReadResult::kClosed ||
        r == sb::wire::ReadResult::kIdle || conn.interrupted()) {
      sb_logf(host_, SB_LOG_DEBUG, "transport: node %llu disconnected (%s)",
              static_cast<unsigned long long>(from),
              sb::wire::ReadResultName(r));
      return;
    }
    if (r != sb::wire::ReadResult::kOk) {
      refuse(std::string(sb::wire::ReadResultName(r)) + ": " + why);
      return;
    }
    frame = w::PeerFrame();
    if (!sb::wire::Deserialize(payload, &frame, &why) ||
        !frame.__isset.envelope) {
      refuse("malformed envelope from node " + std::to_string(from) +
             (why.empty() ? "" : ": " + why));
      return;
    }
    const int32_t ev = frame.envelope.protocol_version;
    if (ev < w::g_shardbearer_constants.MIN_PROTOCOL_VERSION ||
        ev > w::g_shardbearer_constants.PROTOCOL_VERSION) {
      refuse("envelope protocol version " + std::to_string(ev));
      return;
    }
    if (!IsPeer(from)) {
      refuse("node " + std::to_string(from) + " was removed");
      return;
    }
    for (const std::string& m : frame.envelope.messages) {
      ++stats_.messages_received;
      stats_.bytes_received += m.size();
      deliver_(deliver_ctx_, from, reinterpret_cast<const uint8_t*>(m.data()),
               m.size());
    }
  }
}

}  // namespace sb::transport_thrift
