// EventServer on its own, over loopback TCP: frames answered at once or
// later from another thread; one request per connection in flight, answers
// in request order also for pipelined frames; many connections served by the
// one loop; an answer the client does not read (the replying thread does not
// wait; the write deadline closes the connection); the idle, read and frame
// size limits; a close inside a frame; the connection bound; Close from the
// handler; and Stop, which waits (bounded) for requests in flight.
#include "thrift/net/event_server.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/wire/test_support.h"

namespace sb::test {
namespace {

using std::chrono::milliseconds;
using wire::EventConnection;
using wire::EventServer;
using Conn = std::shared_ptr<EventConnection>;

std::string Frame(const std::string& payload) {
  return FrameHeader(static_cast<uint32_t>(payload.size())) + payload;
}

// Reads one frame's payload from fd within `timeout`; nullopt on close,
// error or timeout.
std::optional<std::string> ReadFrom(int fd,
                                    milliseconds timeout = milliseconds(5000)) {
  auto end = std::chrono::steady_clock::now() + timeout;
  std::string got;
  auto want = [&]() -> size_t {
    if (got.size() < 4) return 4;
    auto b = [&](int i) { return uint32_t{uint8_t(got[i])}; };
    return 4 + ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3));
  };
  while (got.size() < want()) {
    auto left = std::chrono::duration_cast<milliseconds>(
                    end - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) return std::nullopt;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[65536];
    const size_t take = std::min(sizeof buf, want() - got.size());
    ssize_t n = ::recv(fd, buf, take, 0);
    if (n <= 0) return std::nullopt;
    got.append(buf, static_cast<size_t>(n));
  }
  return got.substr(4);
}

// Answers frames later, from its own thread, in the order they were
// handed over (after `delay` each), as an order's driver thread does.
class LaterReplier {
 public:
  explicit LaterReplier(milliseconds delay) : delay_(delay) {
    thread_ = std::thread([this] { Run(); });
  }
  ~LaterReplier() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // `before` runs on the replier's thread just before the answer goes out.
  void Push(Conn c, std::string answer, std::function<void()> before = {}) {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({std::move(c), std::move(answer), std::move(before)});
    cv_.notify_all();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      Item item = std::move(queue_.front());
      queue_.pop_front();
      l.unlock();
      std::this_thread::sleep_for(delay_);
      if (item.before) item.before();
      const std::string& answer = item.answer;
      item.conn->Reply(reinterpret_cast<const uint8_t*>(answer.data()),
                       answer.size());
      l.lock();
    }
  }
  const milliseconds delay_;
  std::mutex mu_;
  std::condition_variable cv_;
  struct Item {
    Conn conn;
    std::string answer;
    std::function<void()> before;
  };
  std::deque<Item> queue_;
  bool stop_ = false;
  std::thread thread_;
};

class EventServerTest : public ::testing::Test {
 protected:
  void Start(EventServer::FrameHandler handler, wire::FrameLimits limits = {},
             int max_connections = 64, int stop_drain_ms = 10000) {
    wire::ServerOptions o;
    o.listen_address = "127.0.0.1:0";
    o.limits = limits;
    o.max_connections = max_connections;
    o.stop_drain_ms = stop_drain_ms;
    o.name = "test";
    o.log = [this](int level, const std::string& m) {
      std::fprintf(stderr, "[%d] %s\n", level, m.c_str());
      std::lock_guard<std::mutex> l(mu_);
      logs_.push_back(m);
    };
    std::string why;
    ASSERT_TRUE(server_.Start(o, std::move(handler), &why)) << why;
    port_ = server_.port();
  }
  void TearDown() override { server_.Stop(); }
  bool Logged(const std::string& needle) {
    return WaitFor([&] {
      std::lock_guard<std::mutex> l(mu_);
      for (const auto& m : logs_) {
        if (m.find(needle) != std::string::npos) return true;
      }
      return false;
    });
  }
  // A handler answering every frame at once with "re:" + its payload.
  static EventServer::FrameHandler Echo() {
    return [](const Conn& c, uint8_t* frame, size_t len) {
      std::string a = "re:" + std::string(reinterpret_cast<char*>(frame), len);
      c->Reply(reinterpret_cast<const uint8_t*>(a.data()), a.size());
    };
  }
  // The server still answers a new client.
  void ExpectStillServing() {
    int fd = RawConnect(port_);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(RawWrite(fd, Frame("ping")));
    auto r = ReadFrom(fd);
    ::close(fd);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->substr(r->size() - 4), "ping");
  }

  EventServer server_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(EventServerTest, AnswersAtOnceAndPipelinedInOrder) {
  Start(Echo());
  int fd = RawConnect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(RawWrite(fd, Frame("a")));
  EXPECT_EQ(ReadFrom(fd), "re:a");
  // Three frames in one write, then one in pieces.
  ASSERT_TRUE(RawWrite(fd, Frame("1") + Frame("22") + Frame("333")));
  EXPECT_EQ(ReadFrom(fd), "re:1");
  EXPECT_EQ(ReadFrom(fd), "re:22");
  EXPECT_EQ(ReadFrom(fd), "re:333");
  const std::string f = Frame("pieces");
  for (char ch : f) {
    ASSERT_TRUE(RawWrite(fd, std::string(1, ch)));
    std::this_thread::sleep_for(milliseconds(2));
  }
  EXPECT_EQ(ReadFrom(fd), "re:pieces");
  ::close(fd);
}

TEST_F(EventServerTest, OneRequestInFlightPerConnectionAnswersInOrder) {
  LaterReplier later(milliseconds(20));
  std::mutex m;
  std::map<EventConnection*, int> in_flight;
  int most = 0;
  Start([&](const Conn& c, uint8_t* frame, size_t len) {
    {
      std::lock_guard<std::mutex> l(m);
      most = std::max(most, ++in_flight[c.get()]);
    }
    std::string payload(reinterpret_cast<char*>(frame), len);
    later.Push(c, "re:" + payload, [&, c] {
      std::lock_guard<std::mutex> l(m);
      --in_flight[c.get()];
    });
  });
  int fd = RawConnect(port_);
  ASSERT_GE(fd, 0);
  std::string burst;
  for (int i = 0; i < 5; ++i) burst += Frame(std::to_string(i));
  ASSERT_TRUE(RawWrite(fd, burst));
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(ReadFrom(fd), "re:" + std::to_string(i));
  ::close(fd);
  std::lock_guard<std::mutex> l(m);
  EXPECT_EQ(most, 1);
}

TEST_F(EventServerTest, ManyConnectionsAnsweredFromAnotherThread) {
  LaterReplier later(milliseconds(0));
  Start([&](const Conn& c, uint8_t* frame, size_t len) {
    later.Push(c, "re:" + std::string(reinterpret_cast<char*>(frame), len));
  });
  constexpr int kClients = 32, kRequests = 50;
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      int fd = RawConnect(port_);
      if (fd < 0) {
        ++wrong;
        return;
      }
      for (int j = 0; j < kRequests; ++j) {
        const std::string p = std::to_string(i) + "/" + std::to_string(j);
        if (!RawWrite(fd, Frame(p)) || ReadFrom(fd) != "re:" + p) {
          ++wrong;
          break;
        }
      }
      ::close(fd);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_TRUE(WaitFor([&] { return server_.open_connections() == 0; }));
  EXPECT_EQ(server_.accepted_connections(), uint64_t{kClients});
}

// A client that does not read a large answer: Reply returns at once (the
// loop writes the rest as the client reads), other clients are served
// meanwhile, and the slow client still gets the whole answer.
TEST_F(EventServerTest, ReplyNeverWaitsForTheClient) {
  const std::string big(6'000'000, 'b');
  std::atomic<bool> replied{false};
  Start(
      [&](const Conn& c, uint8_t* frame, size_t len) {
        std::string p(reinterpret_cast<char*>(frame), len);
        if (p == "big") {
          std::thread([c, &big, &replied] {
            c->Reply(reinterpret_cast<const uint8_t*>(big.data()), big.size());
            replied = true;
          }).detach();
          return;
        }
        std::string a = "re:" + p;
        c->Reply(reinterpret_cast<const uint8_t*>(a.data()), a.size());
      },
      wire::FrameLimits{8u << 20, 60000, 10000, 10000});
  int slow = RawConnect(port_, /*rcvbuf=*/4096);
  ASSERT_GE(slow, 0);
  ASSERT_TRUE(RawWrite(slow, Frame("big")));
  ASSERT_TRUE(WaitFor([&] { return replied.load(); }, milliseconds(5000)));
  ExpectStillServing();
  auto r = ReadFrom(slow, milliseconds(10000));
  ::close(slow);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, big);
}

TEST_F(EventServerTest, AnswerNotTakenWithinTheWriteDeadlineClosesIt) {
  const std::string big(6'000'000, 'b');
  Start(
      [&](const Conn& c, uint8_t* frame, size_t len) {
        std::string a =
            std::string(reinterpret_cast<char*>(frame), len) == "big"
                ? big
                : "re:ping";
        c->Reply(reinterpret_cast<const uint8_t*>(a.data()), a.size());
      },
      wire::FrameLimits{8u << 20, 60000, 10000, /*write_timeout_ms=*/300});
  int slow = RawConnect(port_, /*rcvbuf=*/4096);
  ASSERT_TRUE(RawWrite(slow, Frame("big")));
  EXPECT_TRUE(Logged("write timeout"));
  EXPECT_TRUE(WaitFor([&] { return server_.open_connections() == 0; }));
  ::close(slow);
  ExpectStillServing();
}

TEST_F(EventServerTest, IdleConnectionIsClosed) {
  Start(Echo(), wire::FrameLimits{1024, /*idle_timeout_ms=*/200, 10000, 10000});
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("x")));
  EXPECT_EQ(ReadFrom(fd), "re:x");
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(Logged("idle timeout"));
}

// Idle time does not run while a request is in flight: a slow answer does
// not cost the client its connection.
TEST_F(EventServerTest, RequestInFlightIsNotIdle) {
  LaterReplier later(milliseconds(500));
  Start([&](const Conn& c, uint8_t*, size_t) { later.Push(c, "late"); },
        wire::FrameLimits{1024, /*idle_timeout_ms=*/100, 10000, 10000});
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("x")));
  EXPECT_EQ(ReadFrom(fd), "late");
  ::close(fd);
}

TEST_F(EventServerTest, TricklingFrameIsCutOffAtTheReadDeadline) {
  Start(Echo(), wire::FrameLimits{1024, 60000, /*read_timeout_ms=*/300, 10000});
  int fd = RawConnect(port_);
  EXPECT_TRUE(TrickleUntilClosed(fd, FrameHeader(64) + "ab", "c"));
  ::close(fd);
  EXPECT_TRUE(Logged("read timeout"));
  ExpectStillServing();
}

TEST_F(EventServerTest, OversizedOrEmptyFrameIsRefusedFromItsHeader) {
  Start(
      [](const Conn& c, uint8_t*, size_t len) {
        std::string a = std::to_string(len);
        c->Reply(reinterpret_cast<const uint8_t*>(a.data()), a.size());
      },
      wire::FrameLimits{1024, 60000, 10000, 10000});
  for (uint32_t len : {1025u, 0u, 0xffffffffu}) {
    int fd = RawConnect(port_);
    ASSERT_TRUE(RawWrite(fd, FrameHeader(len)));
    EXPECT_TRUE(WaitClosed(fd, milliseconds(5000))) << len;
    ::close(fd);
  }
  EXPECT_TRUE(Logged("max_frame_bytes=1024"));
  // Exactly at the limit is fine.
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame(std::string(1024, 'z'))));
  EXPECT_EQ(ReadFrom(fd), "1024");
  ::close(fd);
}

// An answer over max_frame_bytes is not sent: the connection closes with a
// log line.
TEST_F(EventServerTest, OversizedAnswerClosesTheConnection) {
  Start(
      [](const Conn& c, uint8_t*, size_t) {
        std::string a(2000, 'a');
        c->Reply(reinterpret_cast<const uint8_t*>(a.data()), a.size());
      },
      wire::FrameLimits{1024, 60000, 10000, 10000});
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("x")));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(Logged("answer of 2000 bytes over max_frame_bytes=1024"));
}

TEST_F(EventServerTest, CloseInsideAFrameIsLoggedAndCloseBetweenIsNot) {
  Start(Echo());
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("whole") + FrameHeader(100) + "part"));
  EXPECT_EQ(ReadFrom(fd), "re:whole");
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(Logged("closed by peer inside a frame"));
  fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("x")));
  EXPECT_EQ(ReadFrom(fd), "re:x");
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return server_.open_connections() == 0; }));
  std::lock_guard<std::mutex> l(mu_);
  EXPECT_EQ(logs_.size(), 2u);  // "listening on", the close inside a frame
}

TEST_F(EventServerTest, HandlerCanCloseTheConnection) {
  Start([](const Conn& c, uint8_t*, size_t) { c->Close(3, "bad request"); });
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("x") + Frame("y")));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(Logged("bad request"));
  EXPECT_TRUE(WaitFor([&] { return server_.open_connections() == 0; }));
}

TEST_F(EventServerTest, ConnectionsOverTheBoundAreRefused) {
  Start(Echo(), {}, /*max_connections=*/4);
  std::vector<int> fds;
  for (int i = 0; i < 4; ++i) {
    fds.push_back(RawConnect(port_));
    ASSERT_TRUE(RawWrite(fds.back(), Frame("k")));
    EXPECT_EQ(ReadFrom(fds.back()), "re:k");
  }
  int extra = RawConnect(port_);
  EXPECT_TRUE(WaitClosed(extra, milliseconds(5000)));
  ::close(extra);
  EXPECT_TRUE(Logged("max_connections=4"));
  EXPECT_EQ(server_.refused_connections(), 1u);
  for (int fd : fds) ::close(fd);
  ASSERT_TRUE(WaitFor([&] { return server_.open_connections() == 0; }));
  ExpectStillServing();
}

// Stop waits for a request in flight to be answered; one never answered
// holds it only stop_drain_ms, and its late answer is dropped.
TEST_F(EventServerTest, StopWaitsBoundedForRequestsInFlight) {
  LaterReplier later(milliseconds(200));
  Conn never;
  std::mutex m;
  Start(
      [&](const Conn& c, uint8_t* frame, size_t len) {
        if (std::string(reinterpret_cast<char*>(frame), len) == "never") {
          std::lock_guard<std::mutex> l(m);
          never = c;
          return;
        }
        later.Push(c, "done");
      },
      {}, 64, /*stop_drain_ms=*/500);
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("soon")));
  std::this_thread::sleep_for(milliseconds(50));  // dispatched
  server_.Stop();
  EXPECT_EQ(ReadFrom(fd), "done");
  ::close(fd);

  Start(
      [&](const Conn& c, uint8_t*, size_t) {
        std::lock_guard<std::mutex> l(m);
        never = c;
      },
      {}, 64, /*stop_drain_ms=*/300);
  fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, Frame("never")));
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> l(m);
    return never != nullptr;
  }));
  const auto start = std::chrono::steady_clock::now();
  server_.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  never->Reply(reinterpret_cast<const uint8_t*>("late"), 4);  // dropped
}

}  // namespace
}  // namespace sb::test
