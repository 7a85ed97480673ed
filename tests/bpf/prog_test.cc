// Unit tests of the classifier's BPF programs through
// bpf_prog_test_run_opts on hand-made frames: no network, no attachment.
// Skipped (not passed) when this process may not load BPF programs.
#include <gtest/gtest.h>
#include <linux/pkt_cls.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

#include "bpf_classifier.h"
#include "frames.h"

namespace sb::bpfq {
namespace {

using bpftest::BuildArp;
using bpftest::BuildFrame;
using bpftest::FrameSpec;
using bpftest::RunProg;

constexpr uint16_t kClient = 7000;
constexpr uint16_t kPeer = 7001;
constexpr uint16_t kJoin = 7002;

class ProgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options opts;
    opts.allowed_cidrs = {"10.0.0.0/24", "fd00:1::/64"};
    sb_status st = {};
    sb_code rc = BpfClassifier::Create(opts, nullptr, &cls_, &st);
    if (rc == SB_PERMISSION_DENIED) {
      GTEST_SKIP() << "cannot load BPF here: " << st.message;
    }
    ASSERT_EQ(rc, SB_OK) << st.message;
    ASSERT_EQ(cls_->SetPorts(kClient, kPeer, &st), SB_OK) << st.message;
    ASSERT_EQ(cls_->SetJoinPort(kJoin, &st), SB_OK) << st.message;
  }

  // Verdict of the ingress program for `spec`.
  int In(const FrameSpec& spec) { return InFrame(BuildFrame(spec)); }
  int InFrame(const std::vector<uint8_t>& frame) {
    auto r = RunProg(cls_->ingress_fd(), frame);
    EXPECT_EQ(r.err, 0);
    return static_cast<int>(r.retval);
  }
  // For frames cut inside the IP header: the kernel's test runner may
  // refuse to inject them (EINVAL: it wants the IP header in the skb);
  // if it runs them, the program must drop them as malformed. Returns 1
  // when the program ran.
  int ExpectMalformedDropped(const std::vector<uint8_t>& frame) {
    auto r = RunProg(cls_->ingress_fd(), frame);
    if (r.err == -EINVAL) return 0;
    EXPECT_EQ(r.err, 0);
    EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_SHOT));
    return 1;
  }
  sb_classifier_counters Counters() {
    sb_classifier_counters c = {};
    c.struct_size = sizeof c;
    sb_status st = {};
    EXPECT_EQ(cls_->ReadCounters(&c, &st), SB_OK) << st.message;
    return c;
  }

  std::unique_ptr<BpfClassifier> cls_;
};

FrameSpec V4(const char* src, uint16_t dport, uint8_t proto = 6) {
  FrameSpec s;
  s.src = src;
  s.dport = dport;
  s.proto = proto;
  return s;
}

FrameSpec V6(const char* src, uint16_t dport, uint8_t proto = 6) {
  FrameSpec s;
  s.src = src;
  s.dst = "fd00:1::2";
  s.dport = dport;
  s.proto = proto;
  return s;
}

TEST_F(ProgTest, AllowedSourceReachesProtectedPorts) {
  EXPECT_EQ(In(V4("10.0.0.9", kClient)), TC_ACT_OK);
  EXPECT_EQ(In(V4("10.0.0.9", kPeer)), TC_ACT_OK);
  EXPECT_EQ(In(V4("10.0.0.9", kClient, 17)), TC_ACT_OK);
  EXPECT_EQ(In(V6("fd00:1::9", kPeer)), TC_ACT_OK);
  EXPECT_EQ(Counters().allowed, 4u);
}

TEST_F(ProgTest, UnknownSourceDroppedAtProtectedPorts) {
  EXPECT_EQ(In(V4("10.0.1.9", kClient)), TC_ACT_SHOT);
  EXPECT_EQ(In(V4("192.168.1.1", kPeer)), TC_ACT_SHOT);
  EXPECT_EQ(In(V4("192.168.1.1", kPeer, 17)), TC_ACT_SHOT);
  EXPECT_EQ(In(V6("fd00:2::9", kClient)), TC_ACT_SHOT);
  auto c = Counters();
  EXPECT_EQ(c.dropped, 4u);
  EXPECT_EQ(c.allowed, 0u);
}

TEST_F(ProgTest, OtherPortsProtocolsAndNonIpPass) {
  EXPECT_EQ(In(V4("192.168.1.1", 22)), TC_ACT_OK);
  EXPECT_EQ(In(V6("fd00:2::9", 443, 17)), TC_ACT_OK);
  EXPECT_EQ(In(V4("192.168.1.1", kClient, 1)), TC_ACT_OK);  // ICMP
  EXPECT_EQ(InFrame(BuildArp()), TC_ACT_OK);
  // A reply from a remote client port to our ephemeral port is not aimed at
  // a protected port.
  FrameSpec reply = V4("192.168.1.1", 45000);
  reply.sport = kClient;
  EXPECT_EQ(In(reply), TC_ACT_OK);
  EXPECT_EQ(Counters().passed, 5u);
  EXPECT_EQ(Counters().dropped, 0u);
}

TEST_F(ProgTest, DenyEntryCarvesHoleInAllowedRange) {
  sb_status st = {};
  ASSERT_EQ(cls_->PutCidr("10.0.0.128/25", SB_CLS_DENY, &st), SB_OK);
  EXPECT_EQ(In(V4("10.0.0.9", kClient)), TC_ACT_OK);
  EXPECT_EQ(In(V4("10.0.0.200", kClient)), TC_ACT_SHOT);
  // The longest prefix wins: a /32 ALLOW inside the DENY range passes.
  ASSERT_EQ(cls_->PutCidr("10.0.0.201", SB_CLS_ALLOW, &st), SB_OK);
  EXPECT_EQ(In(V4("10.0.0.201", kClient)), TC_ACT_OK);
  EXPECT_EQ(In(V4("10.0.0.202", kClient)), TC_ACT_SHOT);
  // A DENY source is not admitted by the join path either.
  EXPECT_EQ(In(V4("10.0.0.200", kJoin)), TC_ACT_SHOT);
  EXPECT_EQ(Counters().join_admitted, 0u);
}

TEST_F(ProgTest, RuntimeCidrUpdates) {
  sb_status st = {};
  EXPECT_EQ(In(V4("172.16.5.5", kClient)), TC_ACT_SHOT);
  ASSERT_EQ(cls_->PutCidr("172.16.0.0/12", SB_CLS_ALLOW, &st), SB_OK);
  EXPECT_EQ(In(V4("172.16.5.5", kClient)), TC_ACT_OK);
  ASSERT_EQ(cls_->RemoveCidr("172.16.0.0/12", &st), SB_OK);
  EXPECT_EQ(In(V4("172.16.5.5", kClient)), TC_ACT_SHOT);
  EXPECT_EQ(cls_->RemoveCidr("172.16.0.0/12", &st), SB_NOT_FOUND);

  EXPECT_EQ(In(V6("2001:db8::1", kPeer)), TC_ACT_SHOT);
  ASSERT_EQ(cls_->PutCidr("2001:db8::1", SB_CLS_ALLOW, &st), SB_OK);
  EXPECT_EQ(In(V6("2001:db8::1", kPeer)), TC_ACT_OK);
  EXPECT_EQ(In(V6("2001:db8::2", kPeer)), TC_ACT_SHOT);
  ASSERT_EQ(cls_->RemoveCidr("2001:db8::1/128", &st), SB_OK);
  EXPECT_EQ(In(V6("2001:db8::1", kPeer)), TC_ACT_SHOT);

  EXPECT_EQ(cls_->PutCidr("10.0.0.1/8", SB_CLS_ALLOW, &st),
            SB_INVALID_ARGUMENT);
  EXPECT_NE(std::string(st.message).find("10.0.0.0/8"), std::string::npos);
}

TEST_F(ProgTest, JoinAdmitsUnknownSourcesUpToTheBurst) {
  sb_status st = {};
  // No refill: exactly `burst` connection attempts are admitted.
  ASSERT_EQ(cls_->SetJoinRate(0, 3, &st), SB_OK);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(In(V4("192.168.7.7", kJoin)), TC_ACT_OK) << i;
  }
  EXPECT_EQ(In(V4("192.168.7.8", kJoin)), TC_ACT_SHOT);
  EXPECT_EQ(In(V6("fd00:9::1", kJoin, 17)), TC_ACT_SHOT);
  // Segments of admitted connections (no bare SYN) take no token.
  FrameSpec ack = V4("192.168.7.7", kJoin);
  ack.tcp_flags = 0x10;
  EXPECT_EQ(In(ack), TC_ACT_OK);
  FrameSpec synack = V4("192.168.7.7", kJoin);
  synack.tcp_flags = 0x12;
  EXPECT_EQ(In(synack), TC_ACT_OK);
  // Allowed sources never need a token.
  EXPECT_EQ(In(V4("10.0.0.5", kJoin)), TC_ACT_OK);
  auto c = Counters();
  EXPECT_EQ(c.join_admitted, 3u);
  EXPECT_EQ(c.join_limited, 2u);
  EXPECT_EQ(c.allowed, 1u);
  // A new rate refills the bucket.
  ASSERT_EQ(cls_->SetJoinRate(0, 1, &st), SB_OK);
  EXPECT_EQ(In(V4("192.168.7.9", kJoin)), TC_ACT_OK);
  EXPECT_EQ(In(V4("192.168.7.9", kJoin)), TC_ACT_SHOT);
}

TEST_F(ProgTest, JoinBucketRefillsOverTime) {
  sb_status st = {};
  ASSERT_EQ(cls_->SetJoinRate(1000, 1, &st), SB_OK);  // 1 token per ms
  EXPECT_EQ(In(V4("192.168.7.7", kJoin)), TC_ACT_OK);
  // At 1000 tokens/s the bucket holds a token again after 1 ms; waiting
  // longer can only help (capacity is 1), so this cannot flake.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(In(V4("192.168.7.7", kJoin)), TC_ACT_OK);
  EXPECT_EQ(Counters().join_admitted, 2u);
}

TEST_F(ProgTest, JoinPortZeroDisablesJoinPath) {
  sb_status st = {};
  ASSERT_EQ(cls_->SetJoinPort(0, &st), SB_OK);
  EXPECT_EQ(In(V4("192.168.7.7", kJoin)), TC_ACT_OK);  // just another port
  EXPECT_EQ(Counters().join_admitted, 0u);
  EXPECT_EQ(cls_->SetJoinPort(kClient, &st), SB_INVALID_ARGUMENT);
  EXPECT_EQ(cls_->SetPorts(kPeer, kPeer, &st), SB_INVALID_ARGUMENT);
  EXPECT_EQ(cls_->SetJoinRate(2000000, 1, &st), SB_INVALID_ARGUMENT);
}

TEST_F(ProgTest, Ipv4OptionsAreSkipped) {
  FrameSpec s = V4("192.168.1.1", kClient);
  s.ipv4_option_words = 10;  // IHL 15: the maximum
  EXPECT_EQ(In(s), TC_ACT_SHOT);
  s.dport = 22;
  EXPECT_EQ(In(s), TC_ACT_OK);
  s.src = "10.0.0.3";
  s.dport = kClient;
  EXPECT_EQ(In(s), TC_ACT_OK);
}

TEST_F(ProgTest, VlanTaggedFramesAreParsed) {
  FrameSpec s = V4("192.168.1.1", kClient);
  s.vlan_tags = 2;
  EXPECT_EQ(In(s), TC_ACT_SHOT);
  s.src = "10.0.0.3";
  EXPECT_EQ(In(s), TC_ACT_OK);
}

TEST_F(ProgTest, MalformedIpv4IsDropped) {
  auto frame = BuildFrame(V4("10.0.0.9", 22));
  // IHL 4 (< 5).
  auto bad_ihl = frame;
  bad_ihl[14] = 0x44;
  EXPECT_EQ(InFrame(bad_ihl), TC_ACT_SHOT);
  // Version 5.
  auto bad_version = frame;
  bad_version[14] = 0x55;
  EXPECT_EQ(InFrame(bad_version), TC_ACT_SHOT);
  // Header cut short: 14 + 10 bytes.
  std::vector<uint8_t> cut(frame.begin(), frame.begin() + 24);
  int ran = ExpectMalformedDropped(cut);
  // Total length shorter than the header.
  auto bad_len = frame;
  bad_len[16] = 0;
  bad_len[17] = 10;
  EXPECT_EQ(InFrame(bad_len), TC_ACT_SHOT);
  EXPECT_EQ(Counters().malformed, 3u + ran);
}

TEST_F(ProgTest, TruncatedTransportHeaderFailsClosed) {
  // IP header intact, TCP header cut after 2 bytes: the destination port
  // is unknown, so only an ALLOW source passes.
  auto unknown = BuildFrame(V4("192.168.1.1", 22));
  unknown.resize(14 + 20 + 2);
  EXPECT_EQ(InFrame(unknown), TC_ACT_SHOT);
  auto allowed = BuildFrame(V4("10.0.0.9", 22));
  allowed.resize(14 + 20 + 2);
  EXPECT_EQ(InFrame(allowed), TC_ACT_OK);
  // TCP header with ports and flags but under 20 bytes.
  auto short_tcp = BuildFrame(V4("192.168.1.1", 22));
  short_tcp.resize(14 + 20 + 16);
  EXPECT_EQ(InFrame(short_tcp), TC_ACT_SHOT);
  // UDP header of 6 bytes.
  auto short_udp = BuildFrame(V4("192.168.1.1", 53, 17));
  short_udp.resize(14 + 20 + 6);
  EXPECT_EQ(InFrame(short_udp), TC_ACT_SHOT);
  // IPv6 header cut.
  auto v6 = BuildFrame(V6("fd00:1::9", 22));
  v6.resize(14 + 30);
  int ran = ExpectMalformedDropped(v6);
  auto c = Counters();
  EXPECT_EQ(c.malformed, 3u + ran);
  EXPECT_EQ(c.allowed, 1u);
}

TEST_F(ProgTest, LaterFragmentsCarryNoPortsAndPass) {
  FrameSpec s = V4("192.168.1.1", kClient);
  s.ipv4_frag_offset = 185;
  EXPECT_EQ(In(s), TC_ACT_OK);
  FrameSpec f6 = V6("fd00:2::9", kClient);
  f6.ipv6_ext = {44};
  f6.ipv6_frag_offset = 100;
  EXPECT_EQ(In(f6), TC_ACT_OK);
  // A first fragment (offset 0) is judged by its ports.
  f6.ipv6_frag_offset = 0;
  EXPECT_EQ(In(f6), TC_ACT_SHOT);
}

TEST_F(ProgTest, Ipv6ExtensionHeadersAreWalked) {
  FrameSpec s = V6("fd00:2::9", kClient);
  s.ipv6_ext = {0, 60, 43};
  EXPECT_EQ(In(s), TC_ACT_SHOT);
  EXPECT_EQ(Counters().dropped, 1u);
  s.dport = 22;
  EXPECT_EQ(In(s), TC_ACT_OK);
  s.src = "fd00:1::9";
  s.dport = kClient;
  EXPECT_EQ(In(s), TC_ACT_OK);
}

TEST_F(ProgTest, OverlongIpv6ChainFailsClosed) {
  FrameSpec s = V6("fd00:2::9", 22);
  s.ipv6_ext = {60, 60, 60, 60, 60, 60, 60, 60};  // beyond the walk bound
  EXPECT_EQ(In(s), TC_ACT_SHOT);
  EXPECT_EQ(Counters().malformed, 1u);
  s.src = "fd00:1::9";
  EXPECT_EQ(In(s), TC_ACT_OK);
}

TEST_F(ProgTest, EgressMarksPeerAboveClientTraffic) {
  sb_status st = {};
  ASSERT_EQ(cls_->SetEgressPriorities(0x10010, 0x10020, &st), SB_OK);
  FrameSpec from_peer = V4("10.0.0.2", 45000);
  from_peer.sport = kPeer;
  auto r = RunProg(cls_->egress_fd(), BuildFrame(from_peer), 99);
  ASSERT_EQ(r.err, 0);
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  EXPECT_EQ(r.priority, 0x10010u);
  FrameSpec to_peer = V6("fd00:1::2", kPeer);
  r = RunProg(cls_->egress_fd(), BuildFrame(to_peer), 99);
  EXPECT_EQ(r.priority, 0x10010u);
  FrameSpec from_client_port = V4("10.0.0.2", 45000);
  from_client_port.sport = kClient;
  r = RunProg(cls_->egress_fd(), BuildFrame(from_client_port), 99);
  EXPECT_EQ(r.priority, 0x10020u);
  FrameSpec other = V4("10.0.0.2", 443);
  r = RunProg(cls_->egress_fd(), BuildFrame(other), 99);
  EXPECT_EQ(r.priority, 99u);  // untouched
  EXPECT_EQ(r.retval, static_cast<uint32_t>(TC_ACT_OK));
  auto c = Counters();
  EXPECT_EQ(c.egress_peer_marked, 2u);
  EXPECT_EQ(c.egress_client_marked, 1u);
}

TEST_F(ProgTest, CountersHonourCallerStructSize) {
  In(V4("10.0.0.9", kClient));
  In(V4("192.168.1.1", kClient));
  // A caller built against a struct holding only `allowed`.
  sb_classifier_counters c;
  memset(&c, 0xee, sizeof c);
  c.struct_size = offsetof(sb_classifier_counters, dropped);
  sb_status st = {};
  ASSERT_EQ(cls_->ReadCounters(&c, &st), SB_OK);
  EXPECT_EQ(c.allowed, 1u);
  EXPECT_EQ(c.dropped, 0xeeeeeeeeeeeeeeeeull);  // beyond its size: untouched
}

}  // namespace
}  // namespace sb::bpfq

namespace sb::bpfq {
namespace {

TEST_F(ProgTest, FullTableIsTooLargeNotACrash) {
  sb_status st = {};
  // The fixture holds one IPv4 entry; fill the rest with /32s.
  int added = 1;
  for (int i = 0; added < SB_CLS_MAX_CIDRS && i < 2 * SB_CLS_MAX_CIDRS; ++i) {
    std::string c = "100." + std::to_string((i >> 16) & 0xff) + "." +
                    std::to_string((i >> 8) & 0xff) + "." +
                    std::to_string(i & 0xff);
    ASSERT_EQ(cls_->PutCidr(c, SB_CLS_ALLOW, &st), SB_OK) << st.message;
    ++added;
  }
  EXPECT_EQ(cls_->PutCidr("198.51.100.1", SB_CLS_ALLOW, &st), SB_TOO_LARGE);
  EXPECT_NE(std::string(st.message).find("full"), std::string::npos)
      << st.message;
  // Overwriting an existing entry still works, and so does the program.
  EXPECT_EQ(cls_->PutCidr("10.0.0.0/24", SB_CLS_DENY, &st), SB_OK);
  EXPECT_EQ(In(V4("10.0.0.9", kClient)), TC_ACT_SHOT);
  EXPECT_EQ(In(V4("100.0.1.2", kClient)), TC_ACT_OK);
}

TEST_F(ProgTest, ConcurrentUpdatesAndReads) {
  // Membership updates, counter reads and packets from several threads at
  // once (bounded: 4 threads x 500 iterations).
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      sb_status st = {};
      for (int i = 0; i < 500; ++i) {
        std::string c =
            "10.9." + std::to_string(t) + "." + std::to_string(i % 250);
        if (cls_->PutCidr(c, SB_CLS_ALLOW, &st) != SB_OK) ++failures;
        if (cls_->RemoveCidr(c, &st) != SB_OK) ++failures;
        sb_classifier_counters cnt = {};
        cnt.struct_size = sizeof cnt;
        if (cls_->ReadCounters(&cnt, &st) != SB_OK) ++failures;
        auto r =
            RunProg(cls_->ingress_fd(), BuildFrame(V4("10.0.0.9", kClient)));
        if (r.err != 0 || r.retval != TC_ACT_OK) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Counters().allowed, 2000u);
}

}  // namespace
}  // namespace sb::bpfq
