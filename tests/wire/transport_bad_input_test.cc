// Bad input on the peer port of transport-thrift: garbage, truncated,
// oversized and slow frames, envelopes before the handshake, a peer with the
// wrong protocol version, a connection flood, and mutual TLS refusing a
// client without a certificate from the cluster CA. Each bad connection is
// closed with a log line; a registered peer keeps being served.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "shardbearer/wire/shardbearer_constants.h"
#include "shardbearer/wire/shardbearer_types.h"
#include "tests/wire/transport_node.h"
#include "thrift/net/framing.h"

namespace sb::test {
namespace {

using std::chrono::milliseconds;
namespace w = ::shardbearer::wire;

std::vector<PluginConfigEntry> Config(
    const std::vector<PluginConfigEntry>& extra = {}) {
  std::vector<PluginConfigEntry> c = {{"backoff_min_ms", "10"},
                                      {"backoff_max_ms", "200"},
                                      {"read_timeout_ms", "300"},
                                      {"max_frame_bytes", "65536"}};
  c.insert(c.end(), extra.begin(), extra.end());
  return c;
}

// Reads one frame from a raw socket within `timeout`; empty on failure.
std::string RawReadFrame(int fd, milliseconds timeout) {
  std::string data;
  auto end = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    if (data.size() >= 4) {
      uint32_t len = (uint8_t(data[0]) << 24) | (uint8_t(data[1]) << 16) |
                     (uint8_t(data[2]) << 8) | uint8_t(data[3]);
      if (data.size() >= 4 + len) return data.substr(4, len);
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return "";
}

std::string HandshakeFrame(int32_t version, int64_t from, int64_t to) {
  w::PeerFrame f;
  w::Handshake h;
  h.protocol_version = version;
  h.cluster_id = "test-cluster";
  h.sender_node_id = from;
  h.receiver_node_id = to;
  f.__set_handshake(h);
  std::string body = sb::wire::Serialize(f);
  return FrameHeader(static_cast<uint32_t>(body.size())) + body;
}

// A listening node 2 that knows peer 1, and a working peer 1 that has
// already delivered one message, so "still serving" can be checked.
class PeerPortTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start(2, Config()).ok());
    ASSERT_TRUE(peer_.Start(1, Config()).ok());
    ASSERT_TRUE(server_.transport->AddPeer(1, peer_.address).ok());
    ASSERT_TRUE(peer_.transport->AddPeer(2, server_.address).ok());
    ASSERT_TRUE(peer_.transport->Send(2, "warm-up").ok());
    ASSERT_TRUE(WaitFor([&] { return server_.Count() == 1; }));
    port_ = PortOf(server_.address);
  }
  void ExpectStillServing() {
    size_t before = server_.Count();
    ASSERT_TRUE(peer_.transport->Send(2, "still here").ok());
    ASSERT_TRUE(WaitFor([&] { return server_.Count() == before + 1; }));
    EXPECT_EQ(server_.Received().back().second, "still here");
  }
  uint64_t Refused() { return server_.transport->Stats().inbound_refused; }

  TransportNode server_, peer_;
  int port_ = 0;
};

TEST_F(PeerPortTest, GarbageBytes) {
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, "SSH-2.0-OpenSSH_9.2\r\n"));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(16) + "0123456789abcdef"));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] {
    return server_.log.Contains("frame too large") &&
           server_.log.Contains("first frame is not a peer handshake");
  }));
  EXPECT_GE(Refused(), 2u);
  ExpectStillServing();
}

TEST_F(PeerPortTest, TruncatedFrame) {
  int fd = RawConnect(port_);
  std::string hs = HandshakeFrame(1, 1, 2);
  ASSERT_TRUE(RawWrite(fd, hs.substr(0, hs.size() - 5)));
  ::shutdown(fd, SHUT_WR);
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return server_.log.Contains("inside a frame"); }));
  ExpectStillServing();
}

TEST_F(PeerPortTest, OversizedFrame) {
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(65537)));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(
      WaitFor([&] { return server_.log.Contains("max_frame_bytes=65536"); }));
  ExpectStillServing();
}

TEST_F(PeerPortTest, SlowClientNeverFinishingAFrame) {
  int fd = RawConnect(port_);
  EXPECT_TRUE(TrickleUntilClosed(fd, FrameHeader(100) + "x", "y"));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] { return server_.log.Contains("read timeout"); }));
  ExpectStillServing();
}

TEST_F(PeerPortTest, WrongProtocolVersionIsRefusedWithAReason) {
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, HandshakeFrame(99, 1, 2)));
  std::string reply = RawReadFrame(fd, milliseconds(5000));
  ASSERT_FALSE(reply.empty());
  w::PeerFrame f;
  std::string why;
  ASSERT_TRUE(sb::wire::Deserialize(reply, &f, &why)) << why;
  ASSERT_TRUE(f.__isset.handshake_reply);
  EXPECT_FALSE(f.handshake_reply.accepted);
  EXPECT_NE(f.handshake_reply.reason.find("protocol version 99"),
            std::string::npos);
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(server_.log.Contains("handshake refused: protocol version 99"));
  ExpectStillServing();
}

TEST_F(PeerPortTest, EnvelopeWithoutHandshake) {
  w::PeerFrame f;
  w::Envelope e;
  e.protocol_version = 1;
  e.messages = {"sneaky"};
  f.__set_envelope(e);
  std::string body = sb::wire::Serialize(f);
  int fd = RawConnect(port_);
  ASSERT_TRUE(RawWrite(fd, FrameHeader(body.size()) + body));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor([&] {
    return server_.log.Contains("first frame is not a peer handshake");
  }));
  for (const auto& [from, m] : server_.Received()) EXPECT_NE(m, "sneaky");
  ExpectStillServing();
}

TEST_F(PeerPortTest, GarbageAfterHandshakeClosesOnlyThatConnection) {
  // A peer that passes the handshake, then sends a malformed envelope with
  // a huge list count: refused before allocation.
  int fd = RawConnect(port_);
  // Node 1 is registered; pretend to be it from a raw socket.
  ASSERT_TRUE(RawWrite(fd, HandshakeFrame(1, 1, 2)));
  ASSERT_FALSE(RawReadFrame(fd, milliseconds(5000)).empty());
  // PeerFrame{3: Envelope{2: list<binary> of 2^30 elements}} in 20 bytes.
  std::string body;
  body += '\x0c';  // struct field
  body += std::string("\x00\x03", 2);
  body += '\x0f';  // list field
  body += std::string("\x00\x02", 2);
  body += '\x0b';  // element type binary
  body += std::string("\x40\x00\x00\x00", 4);
  body += std::string(8, '\0');
  ASSERT_TRUE(RawWrite(fd, FrameHeader(body.size()) + body));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  EXPECT_TRUE(WaitFor(
      [&] { return server_.log.Contains("malformed envelope from node 1"); }));
  ExpectStillServing();
}

TEST(PeerPortFlood, ConnectionFloodIsBounded) {
  TransportNode server, peer;
  ASSERT_TRUE(server.Start(2, Config({{"max_inbound_connections", "4"}})).ok());
  ASSERT_TRUE(peer.Start(1, Config()).ok());
  ASSERT_TRUE(server.transport->AddPeer(1, peer.address).ok());
  ASSERT_TRUE(peer.transport->AddPeer(2, server.address).ok());
  ASSERT_TRUE(peer.transport->Send(2, "before").ok());
  ASSERT_TRUE(WaitFor([&] { return server.Count() == 1; }));
  long rss_before = RssBytes();
  std::vector<int> flood;
  for (int i = 0; i < 200; ++i) {
    int fd = RawConnect(PortOf(server.address));
    if (fd >= 0) flood.push_back(fd);
  }
  ASSERT_TRUE(WaitFor(
      [&] { return server.transport->Stats().inbound_refused >= 150; }));
  EXPECT_LE(server.transport->Stats().inbound_open, 4u);
  EXPECT_TRUE(server.log.Contains("max_connections=4"));
  // The peer connected before the flood is still served.
  ASSERT_TRUE(peer.transport->Send(2, "during").ok());
  ASSERT_TRUE(WaitFor([&] { return server.Count() == 2; }));
  EXPECT_LT(RssBytes() - rss_before, 64L << 20);
  for (int fd : flood) ::close(fd);
}

// ---- Mutual TLS -----------------------------------------------------------

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sb-wire-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(MakeTestCertificates(dir_));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<PluginConfigEntry> TlsConfig(const std::string& cert,
                                           const std::string& key) {
    return Config({{"tls.cert_file", dir_ + "/" + cert},
                   {"tls.key_file", dir_ + "/" + key},
                   {"tls.ca_file", dir_ + "/ca.pem"}});
  }
  std::string dir_;
};

TEST_F(TlsTest, MutualTlsDeliversAndRefusesStrangers) {
  TransportNode server, peer, rogue;
  ASSERT_TRUE(server.Start(2, TlsConfig("node.pem", "node.key")).ok());
  ASSERT_TRUE(peer.Start(1, TlsConfig("node.pem", "node.key")).ok());
  ASSERT_TRUE(server.transport->AddPeer(1, peer.address).ok());
  ASSERT_TRUE(peer.transport->AddPeer(2, server.address).ok());
  ASSERT_TRUE(peer.transport->Send(2, "over tls").ok());
  ASSERT_TRUE(WaitFor([&] { return server.Count() == 1; }));
  EXPECT_EQ(server.Received()[0].second, "over tls");

  // Node id 3 is registered, but its certificate is not from the CA.
  ASSERT_TRUE(server.transport->AddPeer(3, "127.0.0.1:1").ok());
  ASSERT_TRUE(rogue.Start(3, TlsConfig("rogue.pem", "rogue.key")).ok());
  ASSERT_TRUE(rogue.transport->AddPeer(2, server.address).ok());
  ASSERT_TRUE(rogue.transport->Send(2, "let me in").ok());
  ASSERT_TRUE(WaitFor([&] {
    return rogue.transport->Stats().connect_failures > 0 &&
           server.transport->Stats().inbound_refused > 0;
  }));
  EXPECT_TRUE(server.log.Contains("closing peer connection"));
  EXPECT_EQ(server.Count(), 1u);

  // A plain-TCP client on the TLS port is garbage to the server.
  int fd = RawConnect(PortOf(server.address));
  ASSERT_TRUE(RawWrite(fd, HandshakeFrame(1, 1, 2)));
  EXPECT_TRUE(WaitClosed(fd, milliseconds(5000)));
  ::close(fd);
  ASSERT_TRUE(peer.transport->Send(2, "still").ok());
  ASSERT_TRUE(WaitFor([&] { return server.Count() == 2; }));
}

TEST_F(TlsTest, MissingCertificateFileIsAConfigError) {
  TransportNode n;
  Status st = n.Start(1, TlsConfig("absent.pem", "node.key"));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("absent.pem"), std::string::npos);
}

}  // namespace
}  // namespace sb::test
