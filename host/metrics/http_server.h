// host/metrics/http_server.h — the metrics endpoint: a small HTTP/1.1
// server that answers GET /metrics with the registry's text, and nothing
// else.
//
// Contract:
//  - GET /metrics (a query string is ignored) -> 200, Content-Type
//    "text/plain; version=0.0.4; charset=utf-8", the body from `render`.
//  - Any other method on /metrics -> 405 with "Allow: GET"; any other
//    path -> 404; a request head that does not parse -> 400; an HTTP
//    version other than 1.0/1.1 -> 505; a request head longer than
//    max_request_bytes -> 431.
//  - One request per connection: every response carries
//    "Connection: close" and the server closes after writing it. A request
//    body is never read.
//  - At most max_connections connections at once (further ones are accepted
//    and closed at once); a connection that has not sent a complete head
//    and been answered within request_timeout_ms is closed.
// Nothing a client sends can crash the server: every input is bounded and
// parsed by ParseRequestHead, which is exposed for tests.
//
// Thread safety: Start/Stop/the destructor from one thread; the server runs
// one thread of its own, which calls `render`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "host/common/status.h"
#include "host/config/address.h"

namespace sb::metrics {

struct HttpRequestHead {
  std::string method;   // "GET"
  std::string target;   // "/metrics?x=1"
  std::string version;  // "HTTP/1.1"
};

enum class HeadParse {
  kIncomplete,  // no blank line yet, and under the size limit
  kComplete,    // *out filled; *consumed bytes make up the head
  kBad,         // not an HTTP/1.x request head (*why says why)
  kTooLarge,    // no complete head within max_bytes
};

// Parses the request line and header lines of `buf` (CRLF line ends; a
// bare LF is accepted too, as RFC 9112 allows).
HeadParse ParseRequestHead(std::string_view buf, size_t max_bytes,
                           HttpRequestHead* out, std::string* why);

// The full response (status line, headers, body) to a parse result; the
// body of a 200 comes from `render`.
std::string Respond(HeadParse parse, const HttpRequestHead& head,
                    const std::string& why,
                    const std::function<std::string()>& render);

struct MetricsServerOptions {
  size_t max_request_bytes = 8192;
  int max_connections = 32;
  int request_timeout_ms = 5000;
};

class MetricsServer {
 public:
  // Binds `listen` (port 0: any free port) and starts serving.
  static StatusOr<std::unique_ptr<MetricsServer>> Start(
      const HostPort& listen, std::function<std::string()> render,
      MetricsServerOptions options = {});
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Stops accepting, closes every connection, joins the thread.
  void Stop();
  uint16_t port() const { return port_; }

 private:
  MetricsServer() = default;
  void Run();

  std::function<std::string()> render_;
  MetricsServerOptions options_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: Stop() wakes the poll loop
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace sb::metrics
