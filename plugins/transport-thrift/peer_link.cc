// plugins/transport-thrift/peer_link.cc — see peer_link.h.
#include "plugins/transport-thrift/peer_link.h"

#include <poll.h>

#include <chrono>

#include "shardbearer/wire/shardbearer_constants.h"
#include "shardbearer/wire/shardbearer_types.h"

namespace sb::transport_thrift {

namespace w = ::shardbearer::wire;

PeerLink::PeerLink(const LinkContext& ctx, uint64_t node_id,
                   std::string address)
    : ctx_(ctx),
      node_id_(node_id),
      rng_(static_cast<uint32_t>(node_id * 2654435761u ^ ctx.local_node_id)),
      address_(std::move(address)) {
  thread_ = std::thread([this] { Run(); });
}

PeerLink::~PeerLink() { Stop(); }

sb_code PeerLink::Enqueue(const uint8_t* data, size_t len, sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return sb_status_set(st, SB_UNAVAILABLE, "peer link stopped");
  // Overflow policy: refuse the newest message, keep what is queued.
  if (queue_.size() >= ctx_.options->send_queue_messages) {
    ++ctx_.stats->send_busy;
    return sb_status_set(
        st, SB_BUSY, "send queue to node %llu full (%zu messages)",
        static_cast<unsigned long long>(node_id_), queue_.size());
  }
  queue_.emplace_back(reinterpret_cast<const char*>(data), len);
  if (queue_.size() == 1) cv_.notify_one();
  return sb_status_ok(st);
}

void PeerLink::SetAddress(std::string address) {
  std::lock_guard<std::mutex> lock(mu_);
  address_ = std::move(address);
  address_changed_ = true;
  if (conn_) conn_->Interrupt();
  cv_.notify_one();
}

void PeerLink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
    ctx_.stats->messages_dropped += queue_.size();
    queue_.clear();
    if (conn_) conn_->Interrupt();
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void PeerLink::CloseConnection() {
  std::unique_ptr<sb::wire::FramedConnection> c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c = std::move(conn_);
  }
  if (c) {
    c->Close();
    --ctx_.stats->outbound_open;
  }
}

void PeerLink::Backoff(int ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms),
               [this] { return stop_ || address_changed_; });
}

bool PeerLink::PeerClosed() {
  // The receiver never writes after the handshake reply, so a readable
  // socket means it closed (EOF, RST, or a TLS close_notify): reconnect
  // before writing instead of losing the next envelope into a dead socket.
  pollfd p{conn_->socket().getSocketFD(), POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0;
}

bool PeerLink::Connect(std::string* why) {
  std::string address;
  {
    std::lock_guard<std::mutex> lock(mu_);
    address = address_;
    address_changed_ = false;
  }
  auto sock =
      sb::wire::Dial(address, ctx_.options->connect_timeout_ms, ctx_.tls, why);
  if (!sock) return false;
  sb::wire::FrameLimits limits;
  limits.max_frame_bytes = ctx_.options->max_frame_bytes;
  limits.idle_timeout_ms = ctx_.options->read_timeout_ms;
  limits.read_timeout_ms = ctx_.options->read_timeout_ms;
  limits.write_timeout_ms = ctx_.options->read_timeout_ms;
  auto conn = std::make_unique<sb::wire::FramedConnection>(sock, limits);

  // Step 2: handshake — version, cluster, who we are, whom we expect.
  w::PeerFrame hello;
  w::Handshake hs;
  hs.protocol_version = w::g_shardbearer_constants.PROTOCOL_VERSION;
  hs.cluster_id = ctx_.cluster_id;
  hs.sender_node_id = static_cast<int64_t>(ctx_.local_node_id);
  hs.receiver_node_id = static_cast<int64_t>(node_id_);
  hs.max_frame_bytes = ctx_.options->max_frame_bytes;
  hello.__set_handshake(hs);
  std::string reply_bytes;
  if (!conn->WriteFrame(sb::wire::Serialize(hello), why)) {
    *why = "handshake to " + address + ": " + *why;
    return false;
  }
  sb::wire::ReadResult r = conn->ReadFrame(&reply_bytes, why);
  if (r != sb::wire::ReadResult::kOk) {
    *why = "handshake reply from " + address + ": " +
           sb::wire::ReadResultName(r) + " (" + *why + ")";
    return false;
  }
  w::PeerFrame reply;
  if (!sb::wire::Deserialize(reply_bytes, &reply, why) ||
      !reply.__isset.handshake_reply) {
    *why = "malformed handshake reply from " + address;
    return false;
  }
  if (!reply.handshake_reply.accepted) {
    *why =
        "node at " + address + " refused us: " + reply.handshake_reply.reason;
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_) return false;
  conn_ = std::move(conn);
  ++ctx_.stats->outbound_open;
  ++ctx_.stats->connects;
  return true;
}

void PeerLink::Run() {
  int backoff = ctx_.options->backoff_min_ms;
  int failures = 0;  // consecutive failed attempts
  const auto idle_close =
      std::chrono::milliseconds(std::max(1, ctx_.options->idle_timeout_ms / 2));
  // Leave room for the envelope's own fields and list headers.
  const size_t batch_bytes = std::min<size_t>(
      ctx_.options->batch_max_bytes, ctx_.options->max_frame_bytes - 64);
  std::vector<std::string> batch;
  // One serialisation buffer for the link's life: it keeps its capacity, so
  // steady traffic allocates no frame-sized buffers.
  auto out = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol proto(out);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      bool have = cv_.wait_for(lock, idle_close, [this] {
        return stop_ || address_changed_ || !queue_.empty();
      });
      if (stop_) break;
      if (!have) {
        // Idle: close our side first (see Options::idle_timeout_ms).
        lock.unlock();
        CloseConnection();
        continue;
      }
      if (address_changed_ && conn_) {
        lock.unlock();
        CloseConnection();
        lock.lock();
      }
      if (queue_.empty() && !address_changed_) continue;
    }
    bool connected;
    {
      std::lock_guard<std::mutex> lock(mu_);
      connected = conn_ != nullptr && !address_changed_;
    }
    if (connected && PeerClosed()) {
      CloseConnection();
      connected = false;
    }
    if (!connected) {
      std::string why;
      if (!Connect(&why)) {
        ++ctx_.stats->connect_failures;
        ++failures;
        // Jitter +-25% so a restarted cluster does not reconnect in step.
        int jittered =
            backoff * 3 / 4 + static_cast<int>(rng_() % (backoff / 2 + 1));
        // A peer down for long logs a warning on the first failure and every
        // 20th after it, the rest at debug level.
        sb_logf(
            ctx_.host,
            failures == 1 || failures % 20 == 0 ? SB_LOG_WARN : SB_LOG_DEBUG,
            "transport: cannot reach node %llu: %s; retrying in %d ms",
            static_cast<unsigned long long>(node_id_), why.c_str(), jittered);
        Backoff(jittered);
        backoff = std::min(backoff * 2, ctx_.options->backoff_max_ms);
        continue;
      }
      backoff = ctx_.options->backoff_min_ms;
      sb_logf(ctx_.host, SB_LOG_INFO,
              "transport: connected to node %llu after %d failed attempts",
              static_cast<unsigned long long>(node_id_), failures);
      failures = 0;
    }
    // Step 3: batch everything queued (up to batch_bytes) into one envelope.
    batch.clear();
    size_t bytes = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      while (
          !queue_.empty() &&
          (batch.empty() || bytes + queue_.front().size() + 4 <= batch_bytes)) {
        bytes += queue_.front().size() + 4;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) continue;
    w::PeerFrame frame;
    w::Envelope env;
    env.protocol_version = w::g_shardbearer_constants.PROTOCOL_VERSION;
    env.messages = std::move(batch);
    frame.__set_envelope(std::move(env));
    std::string why;
    size_t n = frame.envelope.messages.size();
    out->resetBuffer();
    frame.write(&proto);
    uint8_t* frame_bytes = nullptr;
    uint32_t frame_len = 0;
    out->getBuffer(&frame_bytes, &frame_len);
    if (!conn_->WriteFrame(frame_bytes, frame_len, &why)) {
      ctx_.stats->messages_dropped += n;
      sb_logf(ctx_.host, SB_LOG_WARN,
              "transport: lost connection to node %llu (%s); %zu messages "
              "dropped",
              static_cast<unsigned long long>(node_id_), why.c_str(), n);
      CloseConnection();
      continue;
    }
    ++ctx_.stats->envelopes_sent;
    ctx_.stats->messages_sent += n;
    ctx_.stats->bytes_sent += bytes - 4 * n;
    batch = std::move(frame.envelope.messages);
  }
  CloseConnection();
}

}  // namespace sb::transport_thrift
