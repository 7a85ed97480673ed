// Peer messages: consensus messages round-trip; truncated, garbled and
// oversized bytes are refused, never crash; other union members decode as
// kOther.
#include "host/transport/peer_message.h"

#include <gtest/gtest.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include <random>

#include "shardbearer/wire/shardbearer_types.h"

namespace sb {
namespace {

TEST(PeerMessageTest, ConsensusRoundTrip) {
  std::string payload("raft\0bytes", 10);
  std::string bytes = EncodeConsensusMessage(42, payload);
  auto m = DecodePeerMessage(bytes, 1 << 20);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->kind, PeerMessage::Kind::kConsensus);
  EXPECT_EQ(m->group, 42u);
  EXPECT_EQ(m->payload, payload);
}

TEST(PeerMessageTest, TruncatedAndOversizedAreRefused) {
  std::string bytes = EncodeConsensusMessage(7, std::string(1000, 'x'));
  for (size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(DecodePeerMessage(bytes.substr(0, n), 1 << 20).ok()) << n;
  }
  auto big = DecodePeerMessage(bytes, 100);
  ASSERT_FALSE(big.ok());
  EXPECT_TRUE(big.status().IsInvalidArgument());
}

TEST(PeerMessageTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(1);
  std::string good = EncodeConsensusMessage(3, "abc");
  for (int i = 0; i < 20000; ++i) {
    std::string b = good;
    if (i % 2 == 0) {
      b.resize(rng() % 64);
      for (char& ch : b) ch = static_cast<char>(rng());
    } else {
      b[rng() % b.size()] = static_cast<char>(rng());
    }
    (void)DecodePeerMessage(b, 1 << 16);
  }
}

TEST(PeerMessageTest, OtherMembersDecodeAsOther) {
  ::shardbearer::wire::PeerMessage m;
  ::shardbearer::wire::Poll p;
  p.poll_id = 9;
  m.__set_poll(p);
  auto buf = std::make_shared<apache::thrift::transport::TMemoryBuffer>();
  apache::thrift::protocol::TBinaryProtocol proto(buf);
  m.write(&proto);
  auto d = DecodePeerMessage(buf->getBufferAsString(), 1 << 20);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->kind, PeerMessage::Kind::kOther);
  EXPECT_EQ(d->other, "poll");
}

}  // namespace
}  // namespace sb
