// FramedConnection on its own, over loopback TCP and mutual TLS: frames that
// arrive together, in pieces, or larger than the receive buffer; the idle
// timeout and the per-frame read deadline (also against a trickling peer);
// oversized, empty and truncated frames; orderly close; Interrupt(). A
// socket that counts its reads shows that frames arriving whole cost one
// recv, however many there are.
#include "thrift/net/framing.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "tests/wire/test_support.h"
#include "thrift/net/dial.h"

namespace sb::test {
namespace {

using std::chrono::milliseconds;
using wire::FramedConnection;
using wire::FrameLimits;
using wire::ReadResult;
namespace tt = apache::thrift::transport;

// A plain socket that counts read() calls: each is one recv.
class CountingSocket : public tt::TSocket {
 public:
  explicit CountingSocket(THRIFT_SOCKET fd) : tt::TSocket(fd) {}
  uint32_t read(uint8_t* buf, uint32_t len) override {
    ++reads;
    return tt::TSocket::read(buf, len);
  }
  int reads = 0;
};

std::string Frame(const std::string& payload) {
  return FrameHeader(static_cast<uint32_t>(payload.size())) + payload;
}

// Distinct bytes, so a misplaced or reordered byte shows.
std::string Pattern(size_t n, int seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::steady_clock::now() - since)
      .count();
}

// A loopback listener; the test writes raw bytes into client_ and reads
// them with conn_, which owns the accepted socket.
class FramingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  void TearDown() override {
    Disconnect();
    ::close(listen_fd_);
  }
  int Accept() { return ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC); }
  // A new connection (after closing the previous one, if any).
  void Connect(FrameLimits limits) {
    Disconnect();
    client_ = RawConnect(port_);
    ASSERT_GE(client_, 0);
    int fd = Accept();
    ASSERT_GE(fd, 0);
    sock_ = std::make_shared<CountingSocket>(fd);
    conn_ = std::make_unique<FramedConnection>(sock_, limits);
  }
  void Disconnect() {
    if (writer_.joinable()) writer_.join();
    conn_.reset();
    if (client_ >= 0) ::close(client_);
    client_ = -1;
  }
  // Writes `bytes` from another thread, `piece` bytes at a time with
  // `pause` between pieces, then shuts the client's side down if asked.
  void WriteInPieces(std::string bytes, size_t piece, milliseconds pause,
                     bool then_shutdown = false) {
    writer_ = std::thread(
        [this, bytes = std::move(bytes), piece, pause, then_shutdown] {
          for (size_t off = 0; off < bytes.size(); off += piece) {
            if (!RawWrite(client_, bytes.substr(off, piece))) return;
            std::this_thread::sleep_for(pause);
          }
          if (then_shutdown) ::shutdown(client_, SHUT_WR);
        });
  }
  ReadResult Read(std::string* payload) {
    return conn_->ReadFrame(payload, &why_);
  }

  int listen_fd_ = -1, port_ = 0, client_ = -1;
  std::shared_ptr<CountingSocket> sock_;
  std::unique_ptr<FramedConnection> conn_;
  std::thread writer_;
  std::string why_;
};

TEST_F(FramingTest, FramesArrivingTogetherComeOutInOrderFromOneRecv) {
  Connect(FrameLimits{});
  // Both frames in one segment (one send on loopback), then a third frame
  // and the first bytes of a fourth's header in another.
  ASSERT_TRUE(RawWrite(client_, Frame("first") + Frame(Pattern(300, 1))));
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "first");
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, Pattern(300, 1));
  EXPECT_EQ(sock_->reads, 1);  // the second frame came from the buffer

  std::string fourth = Frame("fourth");
  ASSERT_TRUE(RawWrite(client_, Frame("third") + fourth.substr(0, 2)));
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "third");
  ASSERT_TRUE(RawWrite(client_, fourth.substr(2)));
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "fourth");
  EXPECT_EQ(sock_->reads, 3);
}

TEST_F(FramingTest, FrameInManySmallWritesIsReassembled) {
  FrameLimits limits;
  limits.read_timeout_ms = 10000;
  Connect(limits);
  // Three bytes per write, the header split too, then a second frame.
  std::string a = Pattern(1000, 2);
  WriteInPieces(Frame(a) + Frame("next"), 3, milliseconds(1));
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, a);
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "next");
}

TEST_F(FramingTest, FramesLargerThanTheBufferAreReadWhole) {
  FrameLimits limits;
  limits.max_frame_bytes = 4u << 20;
  Connect(limits);
  // Around the 64 KiB receive buffer (65532 + 4 fills it exactly) and
  // well over it, with small frames between them in the same stream; the
  // writer blocks until the reader drains.
  std::string fits = Pattern(65532, 3), over = Pattern(65533, 4),
              big = Pattern(300 * 1024, 5);
  WriteInPieces(Frame("a") + Frame(big) + Frame("b") + Frame(over) +
                    Frame(fits) + Frame("c"),
                1 << 20, milliseconds(0));
  std::string p;
  for (const std::string& want : {std::string("a"), big, std::string("b"), over,
                                  fits, std::string("c")}) {
    ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
    EXPECT_EQ(p, want);
  }
}

TEST_F(FramingTest, IdleConnectionTimesOut) {
  FrameLimits limits;
  limits.idle_timeout_ms = 150;
  Connect(limits);
  auto start = std::chrono::steady_clock::now();
  std::string p;
  EXPECT_EQ(Read(&p), ReadResult::kIdle);
  EXPECT_NE(why_.find("idle_timeout_ms=150"), std::string::npos) << why_;
  EXPECT_GE(ElapsedMs(start), 140);
  EXPECT_LT(ElapsedMs(start), 5000);
}

TEST_F(FramingTest, IdleTimeoutStillHoldsAfterAFrameArrivedInPieces) {
  // A frame in pieces re-arms the receive timeout with the time left; the
  // next wait for a frame must use the idle timeout again.
  FrameLimits limits;
  limits.idle_timeout_ms = 1500;
  limits.read_timeout_ms = 5000;
  Connect(limits);
  std::string f = Frame("pieces");
  ASSERT_TRUE(RawWrite(client_, f.substr(0, 3)));
  WriteInPieces(f.substr(3), 2, milliseconds(20));
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "pieces");
  writer_.join();
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Read(&p), ReadResult::kIdle) << why_;
  EXPECT_GE(ElapsedMs(start), 1400);
  EXPECT_LT(ElapsedMs(start), 3500);  // not what was left of the 5 s
}

TEST_F(FramingTest, TricklingPeerIsCutOffAtTheFrameDeadline) {
  FrameLimits limits;
  limits.idle_timeout_ms = 10000;
  limits.read_timeout_ms = 300;
  Connect(limits);
  // A byte every 20 ms never finishes the 100-byte frame in time, though
  // no single read waits long.
  ASSERT_TRUE(RawWrite(client_, FrameHeader(100) + "x"));
  WriteInPieces(std::string(60, 'y'), 1, milliseconds(20));
  auto start = std::chrono::steady_clock::now();
  std::string p;
  EXPECT_EQ(Read(&p), ReadResult::kSlow);
  EXPECT_NE(why_.find("read_timeout_ms=300"), std::string::npos) << why_;
  EXPECT_GE(ElapsedMs(start), 250);
  EXPECT_LT(ElapsedMs(start), 1100);
}

TEST_F(FramingTest, HeaderThatNeverCompletesIsCutOff) {
  FrameLimits limits;
  limits.idle_timeout_ms = 10000;
  limits.read_timeout_ms = 200;
  Connect(limits);
  ASSERT_TRUE(RawWrite(client_, std::string(2, '\0')));
  std::string p;
  EXPECT_EQ(Read(&p), ReadResult::kSlow) << why_;
}

TEST_F(FramingTest, OversizedOrEmptyFrameIsRefusedUnread) {
  FrameLimits limits;
  limits.max_frame_bytes = 1024;
  Connect(limits);
  ASSERT_TRUE(RawWrite(client_, FrameHeader(1025) + "abc"));
  std::string p;
  EXPECT_EQ(Read(&p), ReadResult::kTooLarge);
  EXPECT_NE(why_.find("frame of 1025 bytes (max_frame_bytes=1024)"),
            std::string::npos)
      << why_;
  EXPECT_LT(p.capacity(), 1025u);  // nothing was sized by the peer's claim

  Connect(limits);
  ASSERT_TRUE(RawWrite(client_, FrameHeader(0xffffffffu)));
  EXPECT_EQ(Read(&p), ReadResult::kTooLarge);
  EXPECT_LT(p.capacity(), 1025u);

  Connect(limits);
  ASSERT_TRUE(RawWrite(client_, FrameHeader(0)));
  EXPECT_EQ(Read(&p), ReadResult::kTooLarge);
}

TEST_F(FramingTest, FrameExactlyAtTheLimitIsRead) {
  FrameLimits limits;
  limits.max_frame_bytes = 100;  // the buffer is then max_frame_bytes + 4
  Connect(limits);
  std::string a = Pattern(100, 5), b = Pattern(99, 6);
  ASSERT_TRUE(RawWrite(client_, Frame(a) + Frame(b) + Frame(a)));
  std::string p;
  for (const std::string& want : {a, b, a}) {
    ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
    EXPECT_EQ(p, want);
  }
}

TEST_F(FramingTest, CloseInsideAFrameIsAnError) {
  Connect(FrameLimits{});
  ASSERT_TRUE(RawWrite(client_, Frame("whole") + FrameHeader(100) + "part"));
  ::shutdown(client_, SHUT_WR);
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "whole");
  EXPECT_EQ(Read(&p), ReadResult::kError);
  EXPECT_EQ(why_, "closed by peer inside a frame");

  // Inside the header too.
  Connect(FrameLimits{});
  ASSERT_TRUE(RawWrite(client_, std::string(3, '\0')));
  ::shutdown(client_, SHUT_WR);
  EXPECT_EQ(Read(&p), ReadResult::kError);
  EXPECT_EQ(why_, "closed by peer inside a frame");
}

TEST_F(FramingTest, CloseInsideAFrameLargerThanTheBufferIsAnError) {
  FrameLimits limits;
  limits.max_frame_bytes = 1u << 20;
  Connect(limits);
  WriteInPieces(FrameHeader(200000) + Pattern(150000, 7), 1 << 20,
                milliseconds(0), /*then_shutdown=*/true);
  std::string p;
  EXPECT_EQ(Read(&p), ReadResult::kError);
  EXPECT_EQ(why_, "closed by peer inside a frame");
}

TEST_F(FramingTest, OrderlyCloseBetweenFramesIsClosed) {
  Connect(FrameLimits{});
  ASSERT_TRUE(RawWrite(client_, Frame("one") + Frame("two")));
  ::shutdown(client_, SHUT_WR);
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "one");
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  EXPECT_EQ(p, "two");
  EXPECT_EQ(Read(&p), ReadResult::kClosed) << why_;
}

TEST_F(FramingTest, InterruptUnblocksAReadAndFailsLaterOnes) {
  Connect(FrameLimits{});  // idle timeout: a minute
  auto start = std::chrono::steady_clock::now();
  std::thread interrupter([&] {
    std::this_thread::sleep_for(milliseconds(100));
    conn_->Interrupt();
  });
  std::string p;
  EXPECT_NE(Read(&p), ReadResult::kOk);
  interrupter.join();
  EXPECT_LT(ElapsedMs(start), 5000);
  EXPECT_TRUE(conn_->interrupted());
  EXPECT_EQ(Read(&p), ReadResult::kError);
  EXPECT_EQ(why_, "connection interrupted");
}

TEST_F(FramingTest, InterruptFailsReadsEvenWithFramesBuffered) {
  Connect(FrameLimits{});
  ASSERT_TRUE(RawWrite(client_, Frame("one") + Frame("two")));
  std::string p;
  ASSERT_EQ(Read(&p), ReadResult::kOk) << why_;
  conn_->Interrupt();
  EXPECT_EQ(Read(&p), ReadResult::kError);
  EXPECT_EQ(why_, "connection interrupted");
}

// The same over mutual TLS: TSSLSocket::read returns decrypted bytes, at
// most one TLS record per call.
TEST_F(FramingTest, TlsFramesTogetherInPiecesAndLarge) {
  char tmpl[] = "/tmp/sb-framing-tls-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  ASSERT_TRUE(MakeTestCertificates(dir));
  wire::TlsFiles files{dir + "/node.pem", dir + "/node.key", dir + "/ca.pem"};
  std::string why;
  auto server_tls = wire::TlsContext::Create(files, true, &why);
  ASSERT_NE(server_tls, nullptr) << why;
  auto client_tls = wire::TlsContext::Create(files, false, &why);
  ASSERT_NE(client_tls, nullptr) << why;

  FrameLimits limits;
  limits.max_frame_bytes = 1u << 20;
  limits.read_timeout_ms = 10000;
  std::string big = Pattern(200 * 1024, 8), mid = Pattern(20000, 9);
  // The client writes (and handshakes) from another thread: the handshake
  // needs both sides.
  std::thread client([&] {
    std::string e;
    auto sock =
        wire::Dial("127.0.0.1:" + std::to_string(port_), 3000, client_tls, &e);
    if (!sock) return;
    sock->setRecvTimeout(10000);  // bounds the handshake if the test fails
    FramedConnection c(sock, limits);
    // Two frames in one TLS record, then one in three records, then one
    // over many records, then the close.
    std::string two = Frame("first") + Frame("second");
    sock->write(reinterpret_cast<const uint8_t*>(two.data()),
                static_cast<uint32_t>(two.size()));
    std::string split = Frame(mid);
    for (size_t off = 0; off < split.size(); off += 7000) {
      std::string piece = split.substr(off, 7000);
      sock->write(reinterpret_cast<const uint8_t*>(piece.data()),
                  static_cast<uint32_t>(piece.size()));
      std::this_thread::sleep_for(milliseconds(5));
    }
    c.WriteFrame(big, &e);
    // Wait for the reader's close before closing our side.
    std::string ignored;
    c.ReadFrame(&ignored, &e);
  });
  {
    int fd = Accept();
    EXPECT_GE(fd, 0);  // (no ASSERT: the client thread must be joined)
    FramedConnection conn(server_tls->factory().createSocket(fd), limits);
    std::string p;
    for (const std::string& want :
         {std::string("first"), std::string("second"), mid, big}) {
      EXPECT_EQ(conn.ReadFrame(&p, &why), ReadResult::kOk) << why;
      EXPECT_EQ(p, want);
    }
  }  // closing conn ends the client's last read
  client.join();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sb::test
