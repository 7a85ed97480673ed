// Functional tests of the transport-thrift plugin through the host's
// Transport wrapper: delivery, batching, ordering, peer table, overflow,
// handshake refusals and reconnects. All on 127.0.0.1.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/wire/transport_node.h"

namespace sb::test {
namespace {

using std::chrono::milliseconds;

std::vector<PluginConfigEntry> FastConfig() {
  return {{"backoff_min_ms", "10"},
          {"backoff_max_ms", "200"},
          {"connect_timeout_ms", "2000"},
          {"read_timeout_ms", "2000"}};
}

TEST(TransportThriftConfig, RejectsUnknownKeyNamingIt) {
  auto lib = TransportThriftPlugin();
  ASSERT_NE(lib, nullptr);
  auto vt = static_cast<const sb_transport_vtable*>(lib->vtable());
  PluginConfigAbi cfg{{"max_frame_bytes", "65536"}, {"tls.certfile", "x"}};
  sb_status st{};
  EXPECT_EQ(vt->check_config(cfg.get(), &st), SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("tls.certfile"), std::string::npos);
}

TEST(TransportThriftConfig, RejectsBadValuesAndHalfTls) {
  auto lib = TransportThriftPlugin();
  ASSERT_NE(lib, nullptr);
  auto vt = static_cast<const sb_transport_vtable*>(lib->vtable());
  sb_status st{};
  PluginConfigAbi bad_int{{"send_queue_messages", "many"}};
  EXPECT_EQ(vt->check_config(bad_int.get(), &st), SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("send_queue_messages"),
            std::string::npos);
  PluginConfigAbi order{{"backoff_min_ms", "500"}, {"backoff_max_ms", "100"}};
  EXPECT_EQ(vt->check_config(order.get(), &st), SB_INVALID_ARGUMENT);
  PluginConfigAbi half{{"tls.cert_file", "/nonexistent"}};
  EXPECT_EQ(vt->check_config(half.get(), &st), SB_INVALID_ARGUMENT);
  PluginConfigAbi good{{"max_frame_bytes", "1048576"},
                       {"idle_timeout_ms", "1000"}};
  EXPECT_EQ(vt->check_config(good.get(), &st), SB_OK) << st.message;
}

TEST(TransportThriftConfig, TlsFilesMustBeReadableNamingTheKey) {
  auto lib = TransportThriftPlugin();
  ASSERT_NE(lib, nullptr);
  char tmpl[] = "/tmp/sb-wire-tlsfiles-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/cert.pem") << "cert\n";
  std::ofstream(dir + "/key.pem") << "key\n";
  std::ofstream(dir + "/ca.pem") << "ca\n";
  // check_config looks for the files; it does not parse them.
  const std::vector<PluginConfigEntry> good = {
      {"tls.cert_file", dir + "/cert.pem"},
      {"tls.key_file", dir + "/key.pem"},
      {"tls.ca_file", dir + "/ca.pem"}};
  EXPECT_TRUE(Transport::CheckConfig(lib, *PluginConfigAbi(good).get()).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    for (const std::string& bad : {dir + "/absent.pem", dir}) {
      std::vector<PluginConfigEntry> cfg = good;
      cfg[i].value = bad;
      Status s = Transport::CheckConfig(lib, *PluginConfigAbi(cfg).get());
      EXPECT_EQ(s.code(), Code::kInvalidArgument) << cfg[i].key << " " << bad;
      EXPECT_NE(s.message().find(cfg[i].key + " = '" + bad +
                                 "' is not a readable file"),
                std::string::npos)
          << s.message();
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(TransportWrapper, CheckConfigRefusesAnotherKindOfPlugin) {
  PluginLoader loader({SB_PLUGIN_BUILD_DIR});
  auto lib = loader.Load("storage-mem", SB_KIND_STORAGE);
  ASSERT_TRUE(lib.ok()) << lib.status().ToString();
  PluginConfigAbi empty;
  EXPECT_EQ(Transport::CheckConfig(*lib, *empty.get()).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Transport::CheckConfig(nullptr, *empty.get()).code(),
            Code::kInvalidArgument);
  EXPECT_TRUE(
      Transport::CheckConfig(TransportThriftPlugin(), *empty.get()).ok());
}

TEST(TransportThrift, DeliversInOrderBothWaysAndBatches) {
  TransportNode a, b;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(b.Start(2, FastConfig()).ok());
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(b.transport->AddPeer(1, a.address).ok());
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    std::string m = "a->b " + std::to_string(i);
    ASSERT_TRUE(a.transport->Send(2, m).ok());
    ASSERT_TRUE(b.transport->Send(1, "b->a " + std::to_string(i)).ok());
  }
  ASSERT_TRUE(WaitFor([&] {
    return b.Count() == kCount && a.Count() == kCount;
  })) << b.Count()
      << " " << a.Count();
  auto got = b.Received();
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(got[i].first, 1u);
    EXPECT_EQ(got[i].second, "a->b " + std::to_string(i));
  }
  auto s = a.transport->Stats();
  EXPECT_EQ(s.messages_sent, static_cast<uint64_t>(kCount));
  EXPECT_GE(s.envelopes_sent, 1u);
  EXPECT_LE(s.envelopes_sent, s.messages_sent);
  EXPECT_EQ(b.transport->Stats().messages_received,
            static_cast<uint64_t>(kCount));
  EXPECT_EQ(s.messages_dropped, 0u);
}

TEST(TransportThrift, BinaryAndLargeMessagesArriveIntact) {
  TransportNode a, b;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(b.Start(2, FastConfig()).ok());
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(b.transport->AddPeer(1, a.address).ok());
  std::string big(3u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  std::string zeros("\0\0\xff\x00", 4);
  ASSERT_TRUE(a.transport->Send(2, big).ok());
  ASSERT_TRUE(a.transport->Send(2, zeros).ok());
  ASSERT_TRUE(a.transport->Send(2, "").ok());
  ASSERT_TRUE(WaitFor([&] { return b.Count() == 3; }));
  auto got = b.Received();
  EXPECT_EQ(got[0].second, big);
  EXPECT_EQ(got[1].second, zeros);
  EXPECT_EQ(got[2].second, "");
}

TEST(TransportThrift, OneConnectionCarriesMoreThanThriftMessageBudget) {
  // Thrift counts bytes against a 100 MB per-message budget on some
  // transports; a peer connection lives for days and must not hit it.
  TransportNode a, b;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(b.Start(2, FastConfig()).ok());
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(b.transport->AddPeer(1, a.address).ok());
  const std::string chunk(1u << 20, 'z');
  constexpr int kCount = 130;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(WaitFor([&] { return a.transport->Send(2, chunk).ok(); }));
  }
  ASSERT_TRUE(WaitFor([&] { return b.Count() == kCount; })) << b.Count();
  EXPECT_EQ(a.transport->Stats().connects, 1u);
}

TEST(TransportThrift, SendErrors) {
  TransportNode a;
  std::vector<PluginConfigEntry> cfg = FastConfig();
  cfg.emplace_back("send_queue_messages", "4");
  cfg.emplace_back("max_frame_bytes", "4096");
  ASSERT_TRUE(a.Start(1, cfg).ok());
  EXPECT_EQ(a.transport->Send(9, "x").code(), Code::kNotFound);
  EXPECT_EQ(a.transport->AddPeer(1, "127.0.0.1:1").code(),
            Code::kInvalidArgument);
  EXPECT_EQ(a.transport->AddPeer(2, "no-port").code(), Code::kInvalidArgument);
  // Port 1 on loopback refuses connections: the queue fills up.
  ASSERT_TRUE(a.transport->AddPeer(2, "127.0.0.1:1").ok());
  EXPECT_EQ(a.transport->AddPeer(2, "127.0.0.1:1").code(),
            Code::kAlreadyExists);
  EXPECT_EQ(a.transport->Send(2, std::string(5000, 'x')).code(),
            Code::kTooLarge);
  int busy = 0;
  for (int i = 0; i < 64; ++i) {
    if (a.transport->Send(2, "m").code() == Code::kBusy) ++busy;
  }
  EXPECT_GT(busy, 0);
  EXPECT_EQ(a.transport->Stats().send_busy, static_cast<uint64_t>(busy));
  ASSERT_TRUE(
      WaitFor([&] { return a.transport->Stats().connect_failures > 0; }));
  EXPECT_TRUE(a.log.Contains("cannot reach node 2"));
  ASSERT_TRUE(a.transport->RemovePeer(2).ok());
  EXPECT_EQ(a.transport->RemovePeer(2).code(), Code::kNotFound);
  a.transport->Shutdown();
  EXPECT_EQ(a.transport->Send(2, "m").code(), Code::kUnavailable);
}

TEST(TransportThrift, RefusesUnknownPeerAndOtherCluster) {
  TransportNode a, b, c;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(b.Start(2, FastConfig()).ok());
  ASSERT_TRUE(c.Start(3, FastConfig(), "other-cluster").ok());
  // b does not know a; c knows a but belongs to another cluster.
  ASSERT_TRUE(a.transport->AddPeer(2, b.address).ok());
  ASSERT_TRUE(a.transport->AddPeer(3, c.address).ok());
  ASSERT_TRUE(c.transport->AddPeer(1, a.address).ok());
  ASSERT_TRUE(a.transport->Send(2, "hello").ok());
  ASSERT_TRUE(a.transport->Send(3, "hello").ok());
  ASSERT_TRUE(WaitFor([&] {
    return b.log.Contains("node 1 is not a known peer") &&
           c.log.Contains("cluster id 'test-cluster' is not ours");
  }));
  ASSERT_TRUE(WaitFor([&] { return a.log.Contains("refused us"); }));
  EXPECT_EQ(b.Count(), 0u);
  EXPECT_EQ(c.Count(), 0u);
  EXPECT_GE(b.transport->Stats().inbound_refused, 1u);
  EXPECT_EQ(a.transport->Stats().connects, 0u);
}

TEST(TransportThrift, RefusesDialToWrongNodeId) {
  TransportNode a, b;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(b.Start(2, FastConfig()).ok());
  ASSERT_TRUE(b.transport->AddPeer(1, a.address).ok());
  // a believes node 7 lives at b's address.
  ASSERT_TRUE(a.transport->AddPeer(7, b.address).ok());
  ASSERT_TRUE(a.transport->Send(7, "hello").ok());
  ASSERT_TRUE(WaitFor(
      [&] { return b.log.Contains("dialed node 7 but this is node 2"); }));
  EXPECT_EQ(b.Count(), 0u);
}

TEST(TransportThrift, ReconnectsAfterPeerRestartAndAddressChange) {
  TransportNode a;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  auto b = std::make_unique<TransportNode>();
  ASSERT_TRUE(b->Start(2, FastConfig()).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, a.address).ok());
  ASSERT_TRUE(a.transport->AddPeer(2, b->address).ok());
  ASSERT_TRUE(a.transport->Send(2, "first").ok());
  ASSERT_TRUE(WaitFor([&] { return b->Count() == 1; }));

  // Restart b on the same port: a notices the closed connection before
  // writing and reconnects, so a message sent afterwards arrives.
  std::string addr = b->address;
  b.reset();
  b = std::make_unique<TransportNode>();
  ASSERT_TRUE(b->Start(2, FastConfig(), "test-cluster", addr).ok());
  ASSERT_TRUE(b->transport->AddPeer(1, a.address).ok());
  ASSERT_TRUE(WaitFor([&] {
    (void)a.transport->Send(2, "again");
    return b->Count() > 0;
  }));
  EXPECT_EQ(b->Received()[0].second, "again");

  // Move b to a new port: update_peer redirects the link.
  TransportNode b2;
  ASSERT_TRUE(b2.Start(2, FastConfig()).ok());
  ASSERT_TRUE(b2.transport->AddPeer(1, a.address).ok());
  ASSERT_TRUE(a.transport->UpdatePeer(2, b2.address).ok());
  // Messages still queued for the old address ("again") may follow the
  // link to the new one; "moved" must arrive there.
  auto got_moved = [&] {
    for (const auto& [from, m] : b2.Received()) {
      if (m == "moved") return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitFor([&] {
    (void)a.transport->Send(2, "moved");
    return got_moved();
  }));
  EXPECT_GE(a.transport->Stats().connects, 3u);
}

TEST(TransportThrift, DeliverMaySendFromCallback) {
  // An echo server: the deliver callback sends on the same transport.
  LogCapture log;
  std::unique_ptr<Transport> echo;
  PluginConfigAbi cfg(FastConfig());
  TransportOptions o;
  o.local_node_id = 2;
  o.cluster_id = "test-cluster";
  o.listen_address = "127.0.0.1:0";
  o.host = log.services();
  o.config = cfg.get();
  Transport* raw = nullptr;
  auto t = Transport::Create(
      TransportThriftPlugin(), o,
      [&raw](uint64_t from, std::string_view m) { (void)raw->Send(from, m); });
  ASSERT_TRUE(t.ok());
  echo = std::move(*t);
  raw = echo.get();
  ASSERT_TRUE(echo->Listen().ok());
  TransportNode a;
  ASSERT_TRUE(a.Start(1, FastConfig()).ok());
  ASSERT_TRUE(echo->AddPeer(1, a.address).ok());
  auto echo_address = echo->LocalAddress();
  ASSERT_TRUE(echo_address.ok());
  ASSERT_TRUE(a.transport->AddPeer(2, echo_address.value()).ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(a.transport->Send(2, "ping").ok());
  ASSERT_TRUE(WaitFor([&] { return a.Count() == 100; }));
  echo->Shutdown();
}

}  // namespace
}  // namespace sb::test
