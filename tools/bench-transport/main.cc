// sb-bench-transport — loopback throughput of a transport plugin.
//
// Echo benchmark: K client nodes each send N messages of S bytes to one echo
// node, which sends every message straight back from its deliver callback.
// At most W messages per client are outstanding. Reported: round trips per
// second and payload MB/s (both directions), for the transport and for a raw
// TCP echo of the same length-prefixed frames (one thread per connection,
// blocking sockets), which bounds what any transport can do on this machine.
//
// usage: sb-bench-transport [--plugin NAME] [--sizes 100,65536]
//          [--connections 1,8] [--window 1,256] [--messages N]
//          [--max-seconds S]
// Every run stops after N messages or S seconds, whichever comes first.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host/config/plugin_section.h"
#include "host/plugin/loader.h"
#include "host/transport/transport.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  uint64_t round_trips = 0;
  double seconds = 0;
};

sb_host_services QuietHost() {
  sb_host_services h{};
  h.struct_size = sizeof h;
  h.log = [](void*, int32_t level, const char* m, size_t n) {
    if (level >= SB_LOG_WARN) std::fprintf(stderr, "%.*s\n", (int)n, m);
  };
  h.log_enabled = [](void*, int32_t level) -> int32_t {
    return level >= SB_LOG_WARN;
  };
  h.monotonic_ns = [](void*) -> uint64_t { return 0; };
  h.wall_ns = [](void*) -> uint64_t { return 0; };
  return h;
}

// ---- Transport echo
// ----------------------------------------------------------

struct Counter {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t received = 0;
};

Result RunTransport(const std::shared_ptr<sb::PluginLibrary>& lib, int conns,
                    size_t size, int window, uint64_t messages,
                    double max_seconds) {
  static sb_host_services host = QuietHost();
  sb::PluginConfigAbi cfg{{"send_queue_messages", "65536"},
                          {"max_frame_bytes", "16777216"}};
  auto make = [&](uint64_t id, sb::Transport::DeliverFn fn) {
    sb::TransportOptions o;
    o.local_node_id = id;
    o.cluster_id = "bench";
    o.listen_address = "127.0.0.1:0";
    o.host = &host;
    o.config = cfg.get();
    auto t = sb::Transport::Create(lib, o, std::move(fn));
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      std::exit(1);
    }
    auto tr = std::move(*t);
    if (!tr->Listen().ok()) std::exit(1);
    return tr;
  };
  sb::Transport* echo_raw = nullptr;
  auto echo = make(1, [&echo_raw](uint64_t from, std::string_view m) {
    (void)echo_raw->Send(from, m);
  });
  echo_raw = echo.get();
  std::string echo_addr = echo->LocalAddress().value();

  std::vector<std::unique_ptr<Counter>> counters;
  std::vector<std::unique_ptr<sb::Transport>> clients;
  for (int i = 0; i < conns; ++i) {
    counters.push_back(std::make_unique<Counter>());
    Counter* c = counters.back().get();
    clients.push_back(make(100 + i, [c](uint64_t, std::string_view) {
      std::lock_guard<std::mutex> lock(c->mu);
      ++c->received;
      c->cv.notify_one();
    }));
    if (!echo->AddPeer(100 + i, clients.back()->LocalAddress().value()).ok() ||
        !clients.back()->AddPeer(1, echo_addr).ok()) {
      std::exit(1);
    }
  }
  const std::string payload(size, 'p');
  const auto deadline =
      Clock::now() + std::chrono::duration<double>(max_seconds);
  std::atomic<uint64_t> total{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < conns; ++i) {
    threads.emplace_back([&, i] {
      Counter& c = *counters[i];
      uint64_t sent = 0;
      const uint64_t per = messages / conns;
      std::unique_lock<std::mutex> lock(c.mu);
      while (c.received < per && Clock::now() < deadline) {
        while (sent < per && sent - c.received < (uint64_t)window) {
          lock.unlock();
          if (clients[i]->Send(1, payload).ok()) ++sent;
          lock.lock();
        }
        c.cv.wait_for(lock, std::chrono::milliseconds(100));
      }
      total += c.received;
    });
  }
  for (auto& t : threads) t.join();
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.round_trips = total;
  clients.clear();
  echo.reset();
  return r;
}

// ---- Raw TCP echo
// --------------------------------------------------------------

bool ReadAll(int fd, void* buf, size_t n) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

bool WriteAll(int fd, const void* buf, size_t n) {
  auto* p = static_cast<const char*>(buf);
  while (n > 0) {
    ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL);
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

bool WriteFrame(int fd, const std::string& payload) {
  std::string f(4 + payload.size(), '\0');
  uint32_t len = htonl(static_cast<uint32_t>(payload.size()));
  std::memcpy(f.data(), &len, 4);
  std::memcpy(f.data() + 4, payload.data(), payload.size());
  return WriteAll(fd, f.data(), f.size());
}

bool ReadFrame(int fd, std::string* out) {
  uint32_t len;
  if (!ReadAll(fd, &len, 4)) return false;
  out->resize(ntohl(len));
  return ReadAll(fd, out->data(), out->size());
}

Result RunRawTcp(int conns, size_t size, int window, uint64_t messages,
                 double max_seconds) {
  int lfd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(lfd, 64);
  socklen_t sl = sizeof a;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &sl);
  std::vector<std::thread> servers;
  std::thread acceptor([&] {
    for (int i = 0; i < conns; ++i) {
      int fd = ::accept(lfd, nullptr, nullptr);
      if (fd < 0) return;
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      servers.emplace_back([fd] {
        std::string m;
        while (ReadFrame(fd, &m) && WriteFrame(fd, m)) {
        }
        ::close(fd);
      });
    }
  });
  const std::string payload(size, 'p');
  const auto deadline =
      Clock::now() + std::chrono::duration<double>(max_seconds);
  std::atomic<uint64_t> total{0};
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int i = 0; i < conns; ++i) {
    clients.emplace_back([&] {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      timeval tv{1, 0};  // a reader never waits past the deadline for long
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
      const uint64_t per = messages / conns;
      uint64_t sent = 0, got = 0;
      std::string m;
      // A writer thread keeps `window` frames in flight.
      std::mutex mu;
      std::condition_variable cv;
      std::thread writer([&] {
        std::unique_lock<std::mutex> lock(mu);
        while (sent < per && Clock::now() < deadline) {
          cv.wait(lock, [&] { return sent - got < (uint64_t)window; });
          ++sent;
          lock.unlock();
          if (!WriteFrame(fd, payload)) return;
          lock.lock();
        }
      });
      while (Clock::now() < deadline) {
        {
          std::lock_guard<std::mutex> lock(mu);
          if (got >= sent && (sent >= per)) break;
        }
        if (!ReadFrame(fd, &m)) break;
        std::lock_guard<std::mutex> lock(mu);
        ++got;
        cv.notify_one();
      }
      ::shutdown(fd, SHUT_RDWR);
      {
        std::lock_guard<std::mutex> lock(mu);
        got = sent;  // release a writer still waiting for room
        cv.notify_one();
      }
      writer.join();
      ::close(fd);
      total += std::min(got, per);
    });
  }
  for (auto& t : clients) t.join();
  Result r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.round_trips = total;
  acceptor.join();
  for (auto& t : servers) t.join();
  ::close(lfd);
  return r;
}

std::vector<long> ParseList(const char* s) {
  std::vector<long> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::atol(item.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::string plugin = "transport-thrift";
  std::vector<long> sizes = {100, 65536}, conns = {1, 8}, windows = {1, 256};
  uint64_t messages = 200000;
  double max_seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--plugin")
      plugin = argv[i + 1];
    else if (k == "--sizes")
      sizes = ParseList(argv[i + 1]);
    else if (k == "--connections")
      conns = ParseList(argv[i + 1]);
    else if (k == "--window")
      windows = ParseList(argv[i + 1]);
    else if (k == "--messages")
      messages = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--max-seconds")
      max_seconds = std::atof(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  sb::PluginLoader loader;
  auto lib = loader.Load(plugin, SB_KIND_TRANSPORT);
  if (!lib.ok()) {
    std::fprintf(stderr, "%s\n", lib.status().ToString().c_str());
    return 1;
  }
  std::printf("| what | msg bytes | conns | window | round trips/s | MB/s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  for (long size : sizes) {
    for (long c : conns) {
      for (long w : windows) {
        // Big messages: fewer of them, so a run stays within bounds.
        uint64_t n =
            size >= 16384 ? std::min<uint64_t>(messages, 20000) : messages;
        n = std::max<uint64_t>(n / c * c, c);
        for (int kind = 0; kind < 2; ++kind) {
          Result r = kind == 0 ? RunTransport(*lib, c, size, w, n, max_seconds)
                               : RunRawTcp(c, size, w, n, max_seconds);
          double rate = r.round_trips / r.seconds;
          double mbs = rate * size * 2 / 1e6;
          std::printf("| %s | %ld | %ld | %ld | %.0f | %.1f |\n",
                      kind == 0 ? plugin.c_str() : "raw TCP", size, c, w, rate,
                      mbs);
          std::fflush(stdout);
        }
      }
    }
  }
  return 0;
}
