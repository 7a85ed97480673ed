// thrift/net/framed_server.h — a bounded thread-per-connection server of
// framed connections (plain TCP or mutual TLS).
//
// The accept thread takes each connection; when max_connections are
// already open it logs and closes the new one at once (the flood is refused,
// the open connections keep being served). Otherwise a connection thread
// runs the handler with a FramedConnection until the handler returns, then
// closes the socket. The handler reads frames with ReadFrame(), which
// enforces max_frame_bytes and the idle/read deadlines of FrameLimits.
//
// Thread safety: Start/Stop from one owning thread. The handler runs on
// connection threads, several at once. Stop() interrupts every connection
// and joins every thread; after it returns no handler runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "thrift/net/dial.h"
#include "thrift/net/framing.h"

namespace sb::wire {

// Severity follows sb_code's log levels (2 info, 3 warn, 4 error).
using LogFn = std::function<void(int level, const std::string& message)>;

struct ServerOptions {
  std::string listen_address = "127.0.0.1:0";
  int max_connections = 1024;
  FrameLimits limits;
  std::shared_ptr<TlsContext> tls;  // null: plain TCP
  std::string name = "server";      // prefix of log lines
  // EventServer only: how long Stop() waits for the requests in flight to
  // be answered before it closes their connections.
  int stop_drain_ms = 10000;
  LogFn log;
};

class FramedServer {
 public:
  using Handler = std::function<void(FramedConnection& conn)>;

  FramedServer() = default;
  ~FramedServer();
  FramedServer(const FramedServer&) = delete;
  FramedServer& operator=(const FramedServer&) = delete;

  // Binds and starts the accept thread. False + *why when it cannot bind.
  bool Start(ServerOptions options, Handler handler, std::string* why);
  // Stops accepting, interrupts and joins every connection. Idempotent.
  void Stop();

  // "host:port" actually bound (real port when 0 was asked).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  int open_connections() const { return open_.load(); }
  uint64_t refused_connections() const { return refused_.load(); }
  uint64_t accepted_connections() const { return accepted_.load(); }

 private:
  struct Conn {
    std::unique_ptr<FramedConnection> conn;
    std::thread thread;
    bool done = false;
  };

  void AcceptLoop();
  void Serve(Conn* c);
  void ReapFinished(bool all);
  void Log(int level, const std::string& m) const {
    if (options_.log) options_.log(level, options_.name + ": " + m);
  }

  ServerOptions options_;
  Handler handler_;
  std::string address_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: wakes the accept loop on Stop
  std::thread accept_thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> accepted_{0};

  std::mutex mu_;  // guards conns_
  std::list<Conn> conns_;
};

}  // namespace sb::wire
