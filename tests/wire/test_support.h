// tests/wire/test_support.h — helpers for the wire tests: a host-services
// table that records log lines, raw loopback sockets for speaking bad input,
// and bounded waits. Thread safety: LogCapture is thread-safe; the rest are
// plain functions.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "shardbearer/abi/common.h"

namespace sb::test {

// Host services whose log lines are kept (and echoed to stderr).
class LogCapture {
 public:
  LogCapture() {
    services_.struct_size = sizeof services_;
    services_.host_ctx = this;
    services_.log = [](void* ctx, int32_t level, const char* msg, size_t len) {
      auto* self = static_cast<LogCapture*>(ctx);
      std::string line(msg, len);
      std::fprintf(stderr, "[log %d] %s\n", level, line.c_str());
      std::lock_guard<std::mutex> lock(self->mu_);
      self->lines_.push_back(std::move(line));
    };
    services_.log_enabled = [](void*, int32_t) -> int32_t { return 1; };
    services_.monotonic_ns = [](void*) -> uint64_t {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
    services_.wall_ns = [](void*) -> uint64_t {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  const sb_host_services* services() const { return &services_; }
  bool Contains(const std::string& needle) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& l : lines_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  sb_host_services services_{};
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// Polls `pred` every 10 ms for at most `timeout`; true once it holds.
inline bool WaitFor(
    const std::function<bool()>& pred,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(15000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

inline int PortOf(const std::string& address) {
  return std::stoi(address.substr(address.rfind(':') + 1));
}

// A raw loopback TCP connection; -1 on failure. With `rcvbuf`, its receive
// buffer is set to that many bytes before connecting.
inline int RawConnect(int port, int rcvbuf = 0) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool RawWrite(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n =
        ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// 4-byte big-endian length prefix.
inline std::string FrameHeader(uint32_t len) {
  std::string h(4, '\0');
  h[0] = static_cast<char>(len >> 24);
  h[1] = static_cast<char>(len >> 16);
  h[2] = static_cast<char>(len >> 8);
  h[3] = static_cast<char>(len);
  return h;
}

// True when the server closed `fd` (EOF or reset) within `timeout`; reads
// and discards whatever arrives before that.
inline bool WaitClosed(int fd, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

// A peer that starts a frame and never finishes it: writes `begin`, then
// one byte of `dribble` every 100 ms (at most 50 times) until the server
// closes `fd`. True once it did; a per-frame deadline (not a per-read
// timeout) is what cuts such a peer off.
inline bool TrickleUntilClosed(int fd, const std::string& begin,
                               const std::string& dribble) {
  if (!RawWrite(fd, begin)) return false;
  for (int i = 0; i < 50; ++i) {
    RawWrite(fd, dribble);
    if (WaitClosed(fd, std::chrono::milliseconds(100))) return true;
  }
  return false;
}

// Writes a throwaway CA (ca.pem), a node certificate it signs (node.pem,
// node.key) and a self-signed rogue certificate (rogue.pem, rogue.key) into
// `dir` with openssl. EC keys keep it fast. True on success.
inline bool MakeTestCertificates(const std::string& dir) {
  std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::string cmd =
      "cd '" + dir + "' && openssl req -x509" + key +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=sb-test-ca && "
      "openssl req" +
      key +
      " -keyout node.key -out node.csr -subj /CN=sb-node && "
      "openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out node.pem -days 2 && "
      "openssl req -x509" +
      key + " -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue";
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// Resident set size of this process, bytes.
inline long RssBytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

}  // namespace sb::test
