// thrift/net/event_server.cc — see event_server.h.
#include "thrift/net/event_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sb::wire {

namespace {

// Smallest receive buffer of a connection; a larger frame grows it to fit.
constexpr size_t kReadBytes = 64 * 1024;
// Connections accepted per readiness of the listening socket (it is
// level-triggered: more wait for the next round).
constexpr int kAcceptsPerRound = 64;
constexpr int kEvents = 256;

}  // namespace

// What the loop shares with its connections (and so with the requests in
// flight, which may outlive the server).
struct EventConnection::Core {
  ServerOptions options;
  int epfd = -1;
  int wakefd = -1;  // eventfd: a connection to serve again, or Stop
  std::atomic<bool> stopping{false};
  std::atomic<int> open{0};
  std::atomic<uint64_t> refused{0}, accepted{0};

  std::mutex mu;  // guards ready and done
  std::vector<std::shared_ptr<EventConnection>> ready;
  bool done = false;  // the loop has ended: nothing is served again

  ~Core() {
    if (epfd >= 0) ::close(epfd);
    if (wakefd >= 0) ::close(wakefd);
  }
  void Log(int level, const std::string& m) const {
    if (options.log) options.log(level, options.name + ": " + m);
  }
  void Wake() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = ::write(wakefd, &one, sizeof one);
  }
  // Asks the loop to serve `c` again.
  void Ready(std::shared_ptr<EventConnection> c) {
    bool first;
    {
      std::lock_guard<std::mutex> l(mu);
      if (done) return;  // (holding c here would keep it and Core alive)
      first = ready.empty();
      ready.push_back(std::move(c));
    }
    if (first) Wake();
  }
};

// ---- EventConnection --------------------------------------------------------

EventConnection::EventConnection(std::shared_ptr<Core> core, int fd,
                                 std::string peer)
    : core_(std::move(core)), peer_(std::move(peer)), fd_(fd) {
  idle_since_ms_ = NowMs();
}

void EventConnection::SettleLocked() {
  busy_ = false;
  idle_since_ms_ = NowMs();
  if (stalled_ || failed_ || core_->stopping) {
    core_->Ready(shared_from_this());
  }
}

void EventConnection::Reply(const uint8_t* payload, size_t len) {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ < 0 || !busy_ || failed_) return;
  if (len > core_->options.limits.max_frame_bytes) {
    failed_ = true;
    fail_why_ = "answer of " + std::to_string(len) +
                " bytes over max_frame_bytes=" +
                std::to_string(core_->options.limits.max_frame_bytes);
    return SettleLocked();
  }
  uint8_t header[4];
  EncodeFrameHeader(static_cast<uint32_t>(len), header);
  size_t sent = 0;
  if (out_.size() == out_off_) {
    std::string why;
    const long n = SendFrameNow(fd_, payload, len, &why);
    if (n < 0) {
      failed_ = true;
      fail_why_ = "reply failed: " + why;
      return SettleLocked();
    }
    sent = static_cast<size_t>(n);
    if (sent == len + 4) return SettleLocked();
    out_.clear();
    out_off_ = 0;
    out_since_ms_ = NowMs();
  }
  // The rest goes out as the client reads (the loop writes it); the
  // request stays in flight until then.
  if (sent < 4) out_.append(reinterpret_cast<char*>(header) + sent, 4 - sent);
  const size_t from = sent < 4 ? 0 : sent - 4;
  out_.append(reinterpret_cast<const char*>(payload) + from, len - from);
  if (!out_armed_) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = this;
    ::epoll_ctl(core_->epfd, EPOLL_CTL_MOD, fd_, &ev);
    out_armed_ = true;
  }
}

void EventConnection::NoReply() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ >= 0 && busy_) SettleLocked();
}

void EventConnection::Close(int level, const std::string& why) {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ < 0 || failed_) return;
  failed_ = true;
  fail_why_ = why;
  fail_level_ = level;
  core_->Ready(shared_from_this());
}

void EventConnection::Flush() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ < 0 || out_off_ == out_.size()) return;
  while (out_off_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_off_, out_.size() - out_off_,
                       MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) {
      failed_ = true;
      fail_why_ = std::string("reply failed: send: ") + strerror(errno);
      return SettleLocked();
    }
    out_off_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_.shrink_to_fit();  // a large answer's memory goes with it
  out_off_ = 0;
  SettleLocked();
}

// ---- EventServer ------------------------------------------------------------

EventServer::~EventServer() { Stop(); }

int EventServer::open_connections() const {
  return core_ ? core_->open.load() : 0;
}
uint64_t EventServer::refused_connections() const {
  return core_ ? core_->refused.load() : 0;
}
uint64_t EventServer::accepted_connections() const {
  return core_ ? core_->accepted.load() : 0;
}

bool EventServer::Start(ServerOptions options, FrameHandler handler,
                        std::string* why) {
  if (options.tls) {
    *why = "the event server serves plaintext connections only";
    return false;
  }
  auto core = std::make_shared<EventConnection::Core>();
  core->options = std::move(options);
  core->epfd = ::epoll_create1(EPOLL_CLOEXEC);
  core->wakefd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (core->epfd < 0 || core->wakefd < 0) {
    *why = std::string("epoll: ") + strerror(errno);
    return false;
  }
  int fd = ListenTcp(core->options.listen_address, &address_, &port_, why);
  if (fd < 0) return false;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &listen_fd_;
  ::epoll_ctl(core->epfd, EPOLL_CTL_ADD, fd, &ev);
  ev.data.ptr = core.get();
  ::epoll_ctl(core->epfd, EPOLL_CTL_ADD, core->wakefd, &ev);
  listen_fd_ = fd;
  core_ = std::move(core);
  handler_ = std::move(handler);
  loop_ = std::thread([this] { Loop(); });
  core_->Log(2, "listening on " + address_);
  return true;
}

void EventServer::Stop() {
  if (!core_ || !loop_.joinable()) return;
  core_->stopping = true;
  core_->Wake();
  loop_.join();
}

bool EventServer::AnyBusy() {
  for (auto& [raw, c] : conns_) {
    std::lock_guard<std::mutex> l(c->mu_);
    if (c->busy_) return true;
  }
  return false;
}

void EventServer::Loop() {
  EventConnection::Core& core = *core_;
  const FrameLimits& lim = core.options.limits;
  // Deadlines are checked every quarter of the shortest one (5 ms..1 s).
  const int sweep_ms =
      std::clamp(std::min({lim.idle_timeout_ms, lim.read_timeout_ms,
                           lim.write_timeout_ms}) /
                     4,
                 5, 1000);
  int64_t next_sweep = NowMs() + sweep_ms;
  int64_t drain_deadline = 0;  // set once stopping
  epoll_event events[kEvents];
  for (;;) {
    int64_t now = NowMs();
    if (core.stopping && drain_deadline == 0) {
      drain_deadline = now + core.options.stop_drain_ms;
      if (listen_fd_ >= 0) {
        ::close(listen_fd_);  // refuses new clients from here on
        listen_fd_ = -1;
      }
    }
    if (drain_deadline != 0 && (now >= drain_deadline || !AnyBusy())) break;
    if (accept_paused_until_ != 0 && now >= accept_paused_until_ &&
        listen_fd_ >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &listen_fd_;
      ::epoll_ctl(core.epfd, EPOLL_CTL_ADD, listen_fd_, &ev);
      accept_paused_until_ = 0;
    }
    int64_t wake_at = next_sweep;
    if (accept_paused_until_ != 0) {
      wake_at = std::min(wake_at, accept_paused_until_);
    }
    const int timeout =
        drain_deadline != 0
            ? 10
            : static_cast<int>(std::max<int64_t>(0, wake_at - now));
    int n = ::epoll_wait(core.epfd, events, kEvents, timeout);
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &listen_fd_) {
        if (listen_fd_ >= 0 && !core.stopping) Accept();
        continue;
      }
      if (tag == &core) {
        uint64_t v;
        [[maybe_unused]] ssize_t r = ::read(core.wakefd, &v, sizeof v);
        continue;
      }
      auto it = conns_.find(static_cast<EventConnection*>(tag));
      if (it == conns_.end()) continue;  // dropped earlier in this round
      std::shared_ptr<EventConnection> c = it->second;
      if (events[i].events & EPOLLOUT) c->Flush();
      Serve(c, (events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    }
    std::vector<std::shared_ptr<EventConnection>> ready;
    {
      std::lock_guard<std::mutex> l(core.mu);
      ready.swap(core.ready);
    }
    for (auto& c : ready) {
      if (conns_.count(c.get())) Serve(c, /*hangup=*/false);
    }
    now = NowMs();
    if (now >= next_sweep) {
      Sweep(now);
      next_sweep = now + sweep_ms;
    }
  }
  // Stopped: every connection closes; late answers find them closed.
  while (!conns_.empty()) Drop(conns_.begin()->second, 1, "");
  {
    std::lock_guard<std::mutex> l(core.mu);
    core.done = true;
    core.ready.clear();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

void EventServer::Accept() {
  EventConnection::Core& core = *core_;
  for (int i = 0; i < kAcceptsPerRound; ++i) {
    sockaddr_storage ss{};
    socklen_t sl = sizeof ss;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &sl,
                       SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        core.Log(4, std::string("accept: ") + strerror(errno) +
                        "; pausing accepts for 100 ms");
        ::epoll_ctl(core.epfd, EPOLL_CTL_DEL, listen_fd_, nullptr);
        accept_paused_until_ = NowMs() + 100;
      }
      return;  // EAGAIN: none left
    }
    int port = 0;
    const std::string host = AddressText(ss, &port);
    // Bound the number of connections: a flood is refused at accept time
    // and the open connections keep being served.
    if (core.open.load() >= core.options.max_connections) {
      ++core.refused;
      core.Log(3, "refusing connection from " + host + ": " +
                      std::to_string(core.open.load()) +
                      " connections open (max_connections=" +
                      std::to_string(core.options.max_connections) + ")");
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::shared_ptr<EventConnection> c(
        new EventConnection(core_, fd, host + ":" + std::to_string(port)));
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c.get();
    if (::epoll_ctl(core.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      core.Log(4, std::string("epoll_ctl: ") + strerror(errno));
      ::close(fd);
      continue;
    }
    ++core.accepted;
    ++core.open;
    conns_.emplace(c.get(), c);
  }
}

void EventServer::Serve(const std::shared_ptr<EventConnection>& c,
                        bool hangup) {
  const FrameLimits& lim = core_->options.limits;
  // The last recv took all there was: it returned less than it could take
  // (for a stream socket that means the queue is empty; more data is a new
  // edge). Not after a hangup: the close itself is only seen by a recv.
  bool drained = false;
  bool shrink = false;
  for (;;) {
    bool failed = false;
    std::string fail_why;
    int fail_level = 0;
    {
      std::lock_guard<std::mutex> l(c->mu_);
      if (c->failed_) {
        failed = true;
        fail_why = c->fail_why_;
        fail_level = c->fail_level_;
      }
    }
    if (failed) return Drop(c, fail_level, fail_why);
    const size_t avail = c->in_end_ - c->in_begin_;
    uint32_t len = 0;
    if (avail >= 4) {
      len = DecodeFrameHeader(c->in_.data() + c->in_begin_);
      if (len == 0 || len > lim.max_frame_bytes) {
        return Drop(c, 3,
                    "frame too large (frame of " + std::to_string(len) +
                        " bytes (max_frame_bytes=" +
                        std::to_string(lim.max_frame_bytes) + "))");
      }
      if (avail >= size_t{len} + 4) {
        if (core_->stopping) return;  // no new requests once stopping
        {
          std::lock_guard<std::mutex> l(c->mu_);
          if (c->busy_) {
            c->stalled_ = true;  // the answer hands it back
            return;
          }
          c->busy_ = true;
          c->stalled_ = false;
        }
        uint8_t* frame = c->in_.data() + c->in_begin_ + 4;
        c->in_begin_ += size_t{len} + 4;
        if (c->in_begin_ == c->in_end_) {
          c->in_begin_ = c->in_end_ = 0;
          c->frame_start_ms_ = 0;
          if (c->in_.size() > kReadBytes) {
            // Handled below, after the handler is done with the frame.
            shrink = true;
          }
        } else {
          c->frame_start_ms_ = NowMs();
        }
        try {
          handler_(c, frame, len);
        } catch (const std::exception& e) {
          return Drop(c, 4, std::string("handler failed: ") + e.what());
        }
        if (shrink) {
          // A large frame's buffer goes with it.
          std::vector<uint8_t>(kReadBytes).swap(c->in_);
          shrink = false;
        }
        continue;
      }
    }
    // More bytes needed.
    if (c->eof_) {
      if (avail == 0) return Drop(c, 1, "");
      return Drop(c, 3, "error (closed by peer inside a frame)");
    }
    if (drained) return;
    const size_t need = avail >= 4 ? size_t{len} + 4 : 4;
    if (c->in_.size() - c->in_begin_ < need || c->in_.empty()) {
      // Move the partial frame to the front, growing the buffer to fit it.
      if (c->in_begin_ > 0) {
        std::memmove(c->in_.data(), c->in_.data() + c->in_begin_, avail);
        c->in_begin_ = 0;
        c->in_end_ = avail;
      }
      if (c->in_.size() < need || c->in_.empty()) {
        c->in_.resize(std::max(need, kReadBytes));
      }
    }
    const size_t space = c->in_.size() - c->in_end_;
    ssize_t n;
    {
      std::lock_guard<std::mutex> l(c->mu_);
      if (c->fd_ < 0) return;
      n = ::recv(c->fd_, c->in_.data() + c->in_end_, space, MSG_DONTWAIT);
    }
    if (n > 0) {
      if (avail == 0) c->frame_start_ms_ = NowMs();
      c->in_end_ += static_cast<size_t>(n);
      drained = !hangup && static_cast<size_t>(n) < space;
      continue;
    }
    if (n == 0) {
      c->eof_ = true;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    return Drop(c, 3, std::string("error (recv: ") + strerror(errno) + ")");
  }
}

void EventServer::Sweep(int64_t now) {
  const FrameLimits& lim = core_->options.limits;
  std::vector<std::pair<std::shared_ptr<EventConnection>, std::string>> late;
  std::vector<std::shared_ptr<EventConnection>> idle;
  for (auto& [raw, c] : conns_) {
    std::lock_guard<std::mutex> l(c->mu_);
    if (c->out_off_ < c->out_.size()) {
      if (now - c->out_since_ms_ > lim.write_timeout_ms) {
        late.emplace_back(c,
                          "write timeout (answer not taken within "
                          "write_timeout_ms=" +
                              std::to_string(lim.write_timeout_ms) + ")");
      }
    } else if (c->busy_) {
      // A request in flight: the handler answers within its own timeout.
    } else if (c->frame_start_ms_ != 0) {
      if (now - c->frame_start_ms_ > lim.read_timeout_ms) {
        late.emplace_back(c,
                          "read timeout (frame incomplete after "
                          "read_timeout_ms=" +
                              std::to_string(lim.read_timeout_ms) + ")");
      }
    } else if (now - c->idle_since_ms_ > lim.idle_timeout_ms) {
      idle.push_back(c);
    }
  }
  for (auto& [c, why] : late) Drop(c, 3, why);
  for (auto& c : idle) {
    Drop(c, 1,
         "idle timeout (no frame within idle_timeout_ms=" +
             std::to_string(lim.idle_timeout_ms) + ")");
  }
}

void EventServer::Drop(const std::shared_ptr<EventConnection>& conn, int level,
                       const std::string& why) {
  std::shared_ptr<EventConnection> c = conn;  // conn may be the map's own
  {
    std::lock_guard<std::mutex> l(c->mu_);
    if (c->fd_ >= 0) {
      ::close(c->fd_);  // also leaves the epoll set
      c->fd_ = -1;
    }
    c->out_.clear();
  }
  if (conns_.erase(c.get()) > 0) --core_->open;
  if (!why.empty()) {
    core_->Log(level, "closing connection from " + c->peer() + ": " + why);
  }
}

}  // namespace sb::wire
