// Command and result encodings (host/order/command.h): round trips of every
// kind, strict decoding of truncated, oversized and garbage bytes, and a
// seeded random-mutation run that must never crash or accept garbage that
// does not re-encode to itself.
#include "host/order/command.h"

#include <gtest/gtest.h>

#include <random>

#include "host/order/shard.h"

namespace sb::order {
namespace {

std::vector<Command> Samples() {
  std::string exp = "old", nv = "new";
  std::vector<Command> out;
  out.push_back(Command::Put(7, "k", "v").WithSession(42, 1, 1000));
  out.push_back(Command::Put(0, "", ""));
  out.push_back(Command::Append(65535, "key", std::string(300, '\xff'), 512)
                    .WithSession(~0ull, ~0ull, ~0ull));
  out.push_back(Command::Delete(3, std::string("a\0b", 3)));
  out.push_back(Command::CompareAndSet(1, "c", &exp, &nv));
  out.push_back(Command::CompareAndSet(1, "c", nullptr, &nv));
  out.push_back(Command::CompareAndSet(1, "c", &exp, nullptr));
  out.push_back(Command::CompareAndSet(1, "c", nullptr, nullptr));
  return out;
}

std::string Encode(const Command& c) {
  std::string out;
  EXPECT_TRUE(EncodeCommand(c, &out).ok());
  return out;
}

TEST(CommandTest, RoundTripsEveryKind) {
  for (const Command& c : Samples()) {
    std::string bytes = Encode(c);
    auto d = DecodeCommand(bytes);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(*d, c);
  }
}

TEST(CommandTest, EveryTruncationIsCorruption) {
  for (const Command& c : Samples()) {
    std::string bytes = Encode(c);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto d = DecodeCommand(std::string_view(bytes).substr(0, n));
      ASSERT_FALSE(d.ok()) << "prefix of " << n;
      EXPECT_EQ(d.status().code(), Code::kCorruption);
    }
  }
}

TEST(CommandTest, TrailingBytesAreCorruption) {
  std::string bytes = Encode(Command::Put(1, "k", "v")) + "x";
  EXPECT_EQ(DecodeCommand(bytes).status().code(), Code::kCorruption);
}

TEST(CommandTest, WrongVersionUnknownKindAndFlagsAreCorruption) {
  std::string good = Encode(Command::Put(1, "k", "v"));
  std::string b = good;
  b[0] = 2;
  EXPECT_EQ(DecodeCommand(b).status().code(), Code::kCorruption);
  b = good;
  b[1] = 99;
  EXPECT_EQ(DecodeCommand(b).status().code(), Code::kCorruption);
  b = good;
  b[2] = 0x7;
  EXPECT_EQ(DecodeCommand(b).status().code(), Code::kCorruption);
  // A delete carrying a value breaks the kind's invariant.
  b = Encode(Command::Delete(1, "k"));
  b[2] = 2;
  b += std::string("\0\0\0\0", 4);
  EXPECT_EQ(DecodeCommand(b).status().code(), Code::kCorruption);
}

TEST(CommandTest, ReservedKindsAreNotSupported) {
  std::string b = Encode(Command::Put(1, "k", "v"));
  b[1] = static_cast<char>(CommandKind::kInstallShard);
  EXPECT_EQ(DecodeCommand(b).status().code(), Code::kNotSupported);
}

TEST(CommandTest, OversizedLengthsAreCorruptionNotAllocation) {
  std::string b = Encode(Command::Put(1, "k", "v"));
  // The key length field sits after version, kind, flags, shard, client,
  // sequence, timestamp and limit: 1+1+1+2+8+8+8+4 = 33 bytes.
  for (uint32_t len : {0xffffffffu, uint32_t(kMaxCommandKeyBytes + 1), 2u}) {
    std::string m = b;
    m[33] = static_cast<char>(len >> 24);
    m[34] = static_cast<char>(len >> 16);
    m[35] = static_cast<char>(len >> 8);
    m[36] = static_cast<char>(len);
    EXPECT_EQ(DecodeCommand(m).status().code(), Code::kCorruption) << len;
  }
}

TEST(CommandTest, EncodeRefusesBrokenInvariants) {
  std::string out;
  Command c = Command::Put(1, "k", "v");
  c.client_id = 5;  // sequence 0 with a client id
  EXPECT_TRUE(EncodeCommand(c, &out).IsInvalidArgument());
  Command d = Command::Delete(1, "k");
  d.value_limit = 3;
  EXPECT_TRUE(EncodeCommand(d, &out).IsInvalidArgument());
  Command big = Command::Put(1, std::string(kMaxCommandKeyBytes + 1, 'k'), "");
  EXPECT_TRUE(EncodeCommand(big, &out).IsInvalidArgument());
  EXPECT_TRUE(out.empty());
}

// Seeded: random bytes and random mutations of valid encodings. Decoding
// must return (never crash); whatever decodes must re-encode to the same
// bytes (the encoding is canonical, so no two byte strings mean one command).
TEST(CommandTest, RandomBytesAndMutationsNeverCrash) {
  const uint64_t seed = 0x5eed0de5;
  std::mt19937_64 rng(seed);
  std::vector<std::string> valid;
  for (const Command& c : Samples()) valid.push_back(Encode(c));
  size_t decoded = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string b;
    if (iter % 4 == 0) {
      b.resize(rng() % 80);
      for (char& ch : b) ch = static_cast<char>(rng());
    } else {
      b = valid[rng() % valid.size()];
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !b.empty(); ++e) {
        size_t pos = rng() % b.size();
        switch (rng() % 3) {
          case 0:
            b[pos] = static_cast<char>(rng());
            break;
          case 1:
            b.erase(pos, 1 + rng() % 3);
            break;
          default:
            b.insert(pos, 1, static_cast<char>(rng()));
            break;
        }
      }
    }
    auto d = DecodeCommand(b);
    if (!d.ok()) {
      EXPECT_TRUE(d.status().code() == Code::kCorruption ||
                  d.status().code() == Code::kNotSupported)
          << "seed " << seed << " iteration " << iter;
      continue;
    }
    ++decoded;
    ASSERT_EQ(Encode(*d), b) << "seed " << seed << " iteration " << iter;
  }
  EXPECT_GT(decoded, 0u);  // some mutations keep a valid command
}

TEST(ResultTest, RoundTripAndTruncation) {
  CommandResult r;
  r.code = ResultCode::kOk;
  r.index = 77;
  r.cas_succeeded = true;
  r.has_current = true;
  r.current = std::string("x\0y", 3);
  r.new_size = 9;
  std::string b;
  EncodeResult(r, &b);
  auto d = DecodeResult(b);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, r);
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(DecodeResult(std::string_view(b).substr(0, n)).ok());
  }
  b[0] = 100;
  EXPECT_EQ(DecodeResult(b).status().code(), Code::kCorruption);
}

// The vectors published in docs/orders.md.
TEST(ShardTest, Fnv1a64TestVectors) {
  struct Vector {
    std::string_view key;
    uint64_t hash;
    uint16_t of64, of16;
  };
  const Vector vectors[] = {
      {"", 0xcbf29ce484222325ull, 37, 5},
      {"a", 0xaf63dc4c8601ec8cull, 12, 12},
      {"foobar", 0x85944171f73967e8ull, 40, 8},
      {"user:1", 0xf7fd9aaa75081cebull, 43, 11},
      {"hello", 0xa430d84680aabd0bull, 11, 11},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(Fnv1a64(v.key), v.hash) << v.key;
    EXPECT_EQ(ShardOf(v.key, 64), v.of64) << v.key;
    EXPECT_EQ(ShardOf(v.key, 16), v.of16) << v.key;
  }
  EXPECT_EQ(ShardOf("anything", 1), 0);
}

}  // namespace
}  // namespace sb::order
