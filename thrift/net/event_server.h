// thrift/net/event_server.h — a framed server of plaintext connections
// served by one event-loop thread (epoll), for request handlers that answer
// later from another thread.
//
// The loop thread accepts connections, reads them (edge-triggered,
// non-blocking, one recv per readiness while requests arrive whole), cuts
// the bytes into frames (length-prefixed, as framing.h) and hands each
// whole request frame to the FrameHandler. The handler must not block: it
// decodes the request and starts the work, and whichever thread finishes it
// answers with EventConnection::Reply. One request of a connection is in
// flight at a time: the next frame of that connection is handed over only
// after the previous one was answered, so answers leave in request order.
// With many clients a single wake-up of the loop serves every connection
// that became readable, where a thread per connection would sleep and wake
// once per request.
//
// Reply writes on the calling thread as much as the socket takes at once
// and leaves the rest to the loop (which writes it as the client reads), so
// a completing thread never waits for a client.
//
// Limits: at most max_connections open (more are refused at accept with a
// log line); frames over max_frame_bytes are refused from their header; a
// connection with no request in flight and no frame begun is closed after
// idle_timeout_ms; a begun frame must complete within read_timeout_ms; an
// answer the client does not take within write_timeout_ms closes the
// connection. Each close of a bad connection is logged; the others are
// unaffected.
//
// Thread safety: Start/Stop from one owning thread. The handler runs on the
// loop thread. EventConnection::Reply / Close may be called from any thread,
// also after the server stopped (they then do nothing).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "thrift/net/framed_server.h"

namespace sb::wire {

class EventServer;

// One client connection of an EventServer; shared by the loop and the
// requests in flight (it outlives its socket: a late answer finds it closed
// and is dropped).
class EventConnection : public std::enable_shared_from_this<EventConnection> {
 public:
  // Answers the request in flight with one frame (header added here). Never
  // blocks. Ignored once the connection is closed; a frame over
  // max_frame_bytes closes the connection instead (logged).
  void Reply(const uint8_t* payload, size_t len);
  // Ends the request in flight without an answer (a oneway call).
  void NoReply();
  // Closes the connection after logging `why` at `level`.
  void Close(int level, const std::string& why);

  // "ip:port" of the client.
  const std::string& peer() const { return peer_; }

 private:
  friend class EventServer;
  struct Core;
  EventConnection(std::shared_ptr<Core> core, int fd, std::string peer);

  // Under mu_: the request in flight is over; hands the connection back to
  // the loop when it has unread input waiting.
  void SettleLocked();
  // Writes out_ from out_off_ as far as the socket takes (loop thread).
  void Flush();

  const std::shared_ptr<Core> core_;
  const std::string peer_;

  // Loop thread only: received bytes not yet handed over are
  // in_[in_begin_, in_end_); frame_start_ms_ is when the first byte of the
  // frame being received arrived (0: none begun); idle_since_ms_ is when
  // the connection last had nothing in flight.
  std::vector<uint8_t> in_;
  size_t in_begin_ = 0, in_end_ = 0;
  int64_t frame_start_ms_ = 0;
  bool eof_ = false;

  std::mutex mu_;
  int fd_;                // -1 once closed
  bool busy_ = false;     // a request is in flight
  bool stalled_ = false;  // input waits for the request in flight
  bool failed_ = false;   // an answer could not be written
  std::string fail_why_;
  int fail_level_ = 3;
  std::string out_;  // answer bytes the socket did not take yet
  size_t out_off_ = 0;
  int64_t out_since_ms_ = 0;
  int64_t idle_since_ms_ = 0;
  bool out_armed_ = false;  // EPOLLOUT registered
};

class EventServer {
 public:
  // Called on the loop thread with one whole request frame (valid only
  // during the call). Must not block. Answers later (or at once) with
  // conn->Reply / NoReply; conn->Close drops the connection.
  using FrameHandler =
      std::function<void(const std::shared_ptr<EventConnection>& conn,
                         uint8_t* frame, size_t len)>;

  EventServer() = default;
  ~EventServer();
  EventServer(const EventServer&) = delete;
  EventServer& operator=(const EventServer&) = delete;

  // Binds and starts the loop thread. options.tls must be null. False +
  // *why when it cannot bind.
  bool Start(ServerOptions options, FrameHandler handler, std::string* why);
  // Stops accepting and reading, waits up to stop_drain_ms for the requests
  // in flight to be answered and written, then closes every connection and
  // joins the loop. Idempotent.
  void Stop();

  const std::string& address() const { return address_; }
  int port() const { return port_; }
  int open_connections() const;
  uint64_t refused_connections() const;
  uint64_t accepted_connections() const;

 private:
  void Loop();
  void Accept();
  // Hands over buffered frames and reads more, until the connection waits
  // for input or for its request in flight (or closes). `hangup`: the peer
  // closed or the socket failed (read until recv says so).
  void Serve(const std::shared_ptr<EventConnection>& c, bool hangup);
  // Checks the deadlines of every connection (idle, read, write).
  void Sweep(int64_t now);
  // Closes and forgets `c`, logging `why` at `level` (no log when empty).
  void Drop(const std::shared_ptr<EventConnection>& c, int level,
            const std::string& why);
  bool AnyBusy();

  std::shared_ptr<EventConnection::Core> core_;
  FrameHandler handler_;
  std::string address_;
  int port_ = 0;
  int listen_fd_ = -1;
  int64_t accept_paused_until_ = 0;  // out of descriptors: accepts wait
  std::thread loop_;
  // Loop thread only (and Stop after the join).
  std::unordered_map<EventConnection*, std::shared_ptr<EventConnection>> conns_;
};

}  // namespace sb::wire
