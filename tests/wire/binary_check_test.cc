// Structural validation of binary-protocol input (thrift/net/binary_check.h)
// and decoding of hostile bytes: valid encodings pass, every truncation,
// unknown type code, overlong length and trailing byte is refused, and
// seeded random and mutated inputs never crash the decoder.
#include "thrift/net/binary_check.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "shardbearer/wire/shardbearer_types.h"
#include "thrift/net/framing.h"

namespace sb::test {
namespace {

namespace w = ::shardbearer::wire;

std::string SampleEnvelope() {
  w::PeerFrame f;
  w::Envelope e;
  e.protocol_version = 1;
  e.messages = {"one", std::string(300, 'x'), ""};
  f.__set_envelope(e);
  return sb::wire::Serialize(f);
}

bool Check(const std::string& s, std::string* why) {
  return sb::wire::CheckBinaryStruct(reinterpret_cast<const uint8_t*>(s.data()),
                                     s.size(), why);
}

TEST(BinaryCheck, AcceptsRealEncodings) {
  std::string why;
  EXPECT_TRUE(Check(SampleEnvelope(), &why)) << why;
  w::Configuration c;
  c.num = 3;
  c.shard_owner = {1, 2, 3};
  w::Order o;
  o.members = {1, 2};
  c.orders = {o};
  EXPECT_TRUE(Check(sb::wire::Serialize(c), &why)) << why;
}

TEST(BinaryCheck, RefusesEveryTruncationAndTrailingBytes) {
  std::string s = SampleEnvelope();
  std::string why;
  for (size_t n = 0; n < s.size(); ++n) {
    EXPECT_FALSE(Check(s.substr(0, n), &why)) << n;
  }
  EXPECT_FALSE(Check(s + "x", &why));
  EXPECT_NE(why.find("trailing"), std::string::npos);
}

TEST(BinaryCheck, RefusesUnknownTypesHugeCountsAndDeepNesting) {
  std::string why;
  EXPECT_FALSE(Check(std::string("\x30\x00\x01", 3), &why));
  EXPECT_NE(why.find("unknown type code 48"), std::string::npos);
  // A list<binary> claiming 2^30 elements in a 12-byte struct.
  std::string list("\x0f\x00\x02\x0b\x40\x00\x00\x00\x00", 9);
  EXPECT_FALSE(Check(list, &why));
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += std::string("\x0c\x00\x01", 3);
  deep += std::string(101, '\0');
  EXPECT_FALSE(Check(deep, &why));
  EXPECT_NE(why.find("nesting"), std::string::npos);
}

TEST(BinaryCheck, MessagesNeedTheStrictHeader) {
  std::string why;
  std::string msg("\x80\x01\x00\x01\x00\x00\x00\x03get\x00\x00\x00\x01\x00",
                  16);
  EXPECT_TRUE(sb::wire::CheckBinaryMessage(
      reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), &why))
      << why;
  msg[0] = 0;
  EXPECT_FALSE(sb::wire::CheckBinaryMessage(
      reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), &why));
}

TEST(BinaryCheck, RandomAndMutatedInputNeverCrashTheDecoder) {
  std::mt19937_64 rng(20261124);
  const std::string good = SampleEnvelope();
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    if (i % 2 == 0) {
      s.resize(rng() % 64);
      for (char& c : s) c = static_cast<char>(rng());
    } else {
      s = good;
      for (int k = 0; k < 3; ++k)
        s[rng() % s.size()] = static_cast<char>(rng());
    }
    w::PeerFrame f;
    std::string why;
    if (sb::wire::Deserialize(s, &f, &why)) ++accepted;
  }
  // Some mutations only touch payload bytes and still decode.
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace sb::test
