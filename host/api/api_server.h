// host/api/api_server.h — the public API server: Kv and Admin over framed +
// binary Thrift on the client port.
//
// Model: plaintext connections are read by one event-loop thread
// (thrift/net's EventServer); TLS connections get a thread each (its
// FramedServer). Either way at most max_connections are open (more are
// refused at accept with a log line), and each request frame is read whole,
// with the frame size limit derived from ApiLimits and the idle/read
// deadlines, then dispatched: Kv and Admin method names are unique, so both
// services share the port without a multiplexed protocol and any plain
// generated client works. Requests are validated against ApiLimits (empty
// key: InvalidArgument; oversized key, value or batch: TooLarge) before a
// handler sees them. Malformed frames close the connection with a log line;
// other connections are unaffected.
//
// On the event loop, get and put go to KvHandler::GetAsync/PutAsync when
// the handler can answer without blocking; every other request runs on a
// worker thread (created as needed, at most one per open connection). One
// request per connection is in flight, so answers leave in request order.
//
// Start() sets SIGPIPE to ignored (process-wide): a peer closing during a
// write must be an error, not a signal.
//
// Thread safety: Start/Stop from one owning thread; handlers are called
// from the loop, worker and TLS connection threads concurrently.
#pragma once

#include <thrift/TProcessor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "host/api/handlers.h"
#include "host/api/limits.h"
#include "host/common/status.h"
#include "thrift/net/event_server.h"
#include "thrift/net/framed_server.h"

namespace sb::api {

struct ApiServerOptions {
  std::string listen_address = "127.0.0.1:0";
  ApiLimits limits;
  int max_connections = 1024;
  int idle_timeout_ms = 300000;  // a client may stay idle 5 minutes
  int read_timeout_ms = 10000;   // a begun request frame completes in 10 s
  sb::wire::TlsFiles tls;        // optional mutual TLS (all three files)
  // Log sink; default: spdlog.
  std::function<void(int level, const std::string& message)> log;
};

// Options from the node configuration: [node] listen_client and
// client_tls_*_file, and [limits]; the rest keep their defaults.
ApiServerOptions ApiServerOptionsFromConfig(const NodeConfig& config);

class Workers;

class ApiServer {
 public:
  ApiServer(std::shared_ptr<KvHandler> kv, std::shared_ptr<AdminHandler> admin);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Status Start(const ApiServerOptions& options);
  void Stop();

  // Bound address, "host:port".
  std::string address() const;
  int open_connections() const;
  uint64_t refused_connections() const;

 private:
  struct Decoder;
  // A plaintext request frame, on the event loop's thread.
  void OnFrame(const std::shared_ptr<sb::wire::EventConnection>& conn,
               uint8_t* frame, size_t len);
  // A TLS connection, on its own thread.
  void ServeTls(sb::wire::FramedConnection& conn);

  std::shared_ptr<KvHandler> kv_;
  std::shared_ptr<AdminHandler> admin_;
  ApiServerOptions options_;
  std::shared_ptr<apache::thrift::TProcessor> kv_processor_, admin_processor_;
  std::unique_ptr<Decoder> decoder_;  // the loop thread's
  std::unique_ptr<Workers> workers_;  // requests that may block
  sb::wire::EventServer server_;      // plaintext
  sb::wire::FramedServer tls_server_;
};

}  // namespace sb::api
