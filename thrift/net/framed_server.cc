// thrift/net/framed_server.cc — see framed_server.h.
#include "thrift/net/framed_server.h"

#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sb::wire {

FramedServer::~FramedServer() { Stop(); }

bool FramedServer::Start(ServerOptions options, Handler handler,
                         std::string* why) {
  options_ = std::move(options);
  handler_ = std::move(handler);
  int fd = ListenTcp(options_.listen_address, &address_, &port_, why);
  if (fd < 0) return false;
  listen_fd_ = fd;
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stopping_ = false;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  Log(2, "listening on " + address_ + (options_.tls ? " (mutual TLS)" : ""));
  return true;
}

void FramedServer::Stop() {
  if (listen_fd_ < 0) return;
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = ::write(wake_fd_, &one, sizeof one);
  if (accept_thread_.joinable()) accept_thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Conn& c : conns_) c.conn->Interrupt();
  }
  ReapFinished(/*all=*/true);
  ::close(listen_fd_);
  ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void FramedServer::ReapFinished(bool all) {
  std::list<Conn> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (all || it->done) {
        auto next = std::next(it);
        finished.splice(finished.end(), conns_, it);
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (Conn& c : finished) {
    if (c.thread.joinable()) c.thread.join();
  }
}

void FramedServer::AcceptLoop() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    ReapFinished(/*all=*/false);
    if (n <= 0 || stopping_) continue;
    if (!(fds[0].revents & POLLIN)) continue;
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &sl,
                       SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        Log(4, std::string("accept: ") + strerror(errno) +
                   "; pausing accepts for 100 ms");
        ::poll(nullptr, 0, 100);
      }
      continue;
    }
    const std::string host = AddressText(ss);
    // Bound the number of connections (and threads): a flood is refused at
    // accept time and the open connections keep being served.
    if (open_.load() >= options_.max_connections) {
      ++refused_;
      Log(3, std::string("refusing connection from ") + host + ": " +
                 std::to_string(open_.load()) +
                 " connections open (max_connections=" +
                 std::to_string(options_.max_connections) + ")");
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::shared_ptr<apache::thrift::transport::TSocket> sock;
    try {
      if (options_.tls) {
        sock = options_.tls->factory().createSocket(fd);
      } else {
        sock = std::make_shared<apache::thrift::transport::TSocket>(fd);
      }
    } catch (const std::exception& e) {
      Log(4, std::string("cannot wrap connection: ") + e.what());
      ::close(fd);
      continue;
    }
    ++accepted_;
    ++open_;
    std::lock_guard<std::mutex> lock(mu_);
    conns_.emplace_back();
    Conn* c = &conns_.back();
    c->conn = std::make_unique<FramedConnection>(sock, options_.limits);
    c->thread = std::thread([this, c] { Serve(c); });
  }
}

void FramedServer::Serve(Conn* c) {
  try {
    handler_(*c->conn);
  } catch (const std::exception& e) {
    Log(4, "connection from " + c->conn->peer() + " failed: " + e.what());
  }
  c->conn->Close();
  --open_;
  std::lock_guard<std::mutex> lock(mu_);
  c->done = true;
}

}  // namespace sb::wire
