// Unit tests of the Raft plugin's internals, compiled from its sources:
// the codec (round trips, refusal of malformed input) and the log's
// in-memory indexes (term runs, conflict search, membership history,
// compaction).
#include <gtest/gtest.h>

#include "plugins/raft/codec.h"
#include "plugins/raft/raft_log.h"
#include "tests/simulation/disk.h"

namespace sbraft {
namespace {

Message SampleAppend() {
  Message m;
  m.type = MsgType::kAppend;
  m.group = 7;
  m.from = 1;
  m.to = 2;
  m.term = 5;
  m.index = 10;
  m.log_term = 4;
  m.commit = 9;
  for (int i = 0; i < 3; ++i) {
    Entry e;
    e.index = 11 + i;
    e.term = 5;
    e.type = i == 0 ? SB_ENTRY_PROTOCOL : SB_ENTRY_NORMAL;
    e.data = "payload" + std::to_string(i);
    m.entries.push_back(e);
  }
  return m;
}

TEST(RaftCodec, MessagesRoundTrip) {
  Message m = SampleAppend();
  std::string wire;
  EncodeMessage(m, &wire);
  Message d;
  ASSERT_TRUE(DecodeMessage(wire, &d));
  EXPECT_EQ(d.type, m.type);
  EXPECT_EQ(d.group, 7u);
  EXPECT_EQ(d.term, 5u);
  EXPECT_EQ(d.commit, 9u);
  ASSERT_EQ(d.entries.size(), 3u);
  EXPECT_EQ(d.entries[2].index, 13u);
  EXPECT_EQ(d.entries[2].data, "payload2");
  EXPECT_EQ(d.entries[0].type, static_cast<uint32_t>(SB_ENTRY_PROTOCOL));

  Message s;
  s.type = MsgType::kSnapshot;
  s.from = 1;
  s.to = 3;
  s.snap_index = 100;
  s.offset = 64;
  s.done = true;
  s.snap_meta = "meta";
  s.snap_data = std::string(300, 'z');
  EncodeMessage(s, &wire);
  ASSERT_TRUE(DecodeMessage(wire, &d));
  EXPECT_EQ(d.snap_index, 100u);
  EXPECT_EQ(d.offset, 64u);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.snap_data.size(), 300u);
}

TEST(RaftCodec, RefusesEveryTruncationAndTrailingBytes) {
  std::string wire;
  EncodeMessage(SampleAppend(), &wire);
  Message d;
  for (size_t len = 0; len < wire.size(); ++len) {
    EXPECT_FALSE(DecodeMessage(wire.substr(0, len), &d)) << len;
  }
  EXPECT_FALSE(DecodeMessage(wire + "x", &d));
  std::string bad = wire;
  bad[0] = 9;  // unknown format
  EXPECT_FALSE(DecodeMessage(bad, &d));
  bad = wire;
  bad[1] = 99;  // unknown type
  EXPECT_FALSE(DecodeMessage(bad, &d));
  // An entry count far beyond the bytes present is refused before any
  // allocation.
  Message huge;
  huge.from = 1;
  huge.to = 2;
  std::string w;
  EncodeMessage(huge, &w);
  w.back() = static_cast<char>(0x7f);  // entries count 127, no entries
  EXPECT_FALSE(DecodeMessage(w, &d));
}

TEST(RaftCodec, HardStateAndMembership) {
  std::string b;
  EncodeHardState({3, 2, 40}, &b);
  HardState hs;
  ASSERT_TRUE(DecodeHardState(b, &hs));
  EXPECT_EQ(hs, (HardState{3, 2, 40}));
  EXPECT_FALSE(DecodeHardState(b.substr(0, b.size() - 1), &hs));

  Membership ms{{1, 2, 3}, {9}};
  EncodeMembershipEntry(ms, &b);
  ProtocolKind kind;
  Membership out;
  ASSERT_TRUE(DecodeProtocolEntry(b, &kind, &out));
  EXPECT_EQ(kind, ProtocolKind::kMembership);
  EXPECT_EQ(out, ms);
  // Unsorted, duplicate, zero ids and a voter that is also a learner are
  // refused.
  for (const Membership& bad : {Membership{{2, 1}, {}}, Membership{{1, 1}, {}},
                                Membership{{0}, {}}, Membership{{1, 2}, {2}}}) {
    EncodeMembershipEntry(bad, &b);
    EXPECT_FALSE(DecodeProtocolEntry(b, &kind, &out));
  }
}

// A log backed by the simulation's disk.
class RaftLogTest : public ::testing::Test {
 protected:
  sb::sim::SimDisk disk_;
  sb_consensus_log_reader reader_{};

  void SetUp() override {
    reader_.struct_size = sizeof reader_;
    reader_.ctx = &disk_;
    reader_.range = [](void* ctx, uint64_t* f, uint64_t* l, sb_status*) {
      return static_cast<sb_code>(
          static_cast<sb::sim::SimDisk*>(ctx)->Range(f, l).code());
    };
    reader_.entries = [](void*, uint64_t, uint64_t, uint64_t,
                         sb_consensus_entry_sink, void*, sb_status*) {
      return static_cast<sb_code>(SB_NOT_FOUND);
    };
    reader_.snapshot_meta = [](void*, uint64_t*, sb_bytes_sink, void*,
                               sb_status*) {
      return static_cast<sb_code>(SB_NOT_FOUND);
    };
    reader_.snapshot_read = [](void*, uint64_t, uint64_t, uint64_t,
                               sb_bytes_sink, void*, int32_t*, sb_status*) {
      return static_cast<sb_code>(SB_NOT_FOUND);
    };
  }

  static Entry E(uint64_t index, uint64_t term, std::string data = "x") {
    Entry e;
    e.index = index;
    e.term = term;
    e.data = std::move(data);
    return e;
  }
  static Entry Config(uint64_t index, uint64_t term, Membership ms) {
    Entry e = E(index, term);
    e.type = SB_ENTRY_PROTOCOL;
    EncodeMembershipEntry(ms, &e.data);
    return e;
  }
};

TEST_F(RaftLogTest, TermsConflictSearchAndTruncation) {
  RaftLog log(&reader_);
  std::string err;
  ASSERT_TRUE(log.Init(&err)) << err;
  // Terms: 1 1 1 4 4 5 5 5 6
  uint64_t terms[] = {1, 1, 1, 4, 4, 5, 5, 5, 6};
  for (uint64_t i = 0; i < 9; ++i) log.Append(E(i + 1, terms[i]));
  EXPECT_EQ(log.last_index(), 9u);
  EXPECT_EQ(*log.Term(4), 4u);
  EXPECT_EQ(*log.Term(9), 6u);
  EXPECT_FALSE(log.Term(10).has_value());
  // Largest index <= 8 whose term <= 4 is 5.
  EXPECT_EQ(log.FindConflictByTerm(8, 4), 5u);
  EXPECT_EQ(log.FindConflictByTerm(8, 3), 3u);
  EXPECT_EQ(log.FindConflictByTerm(9, 6), 9u);
  EXPECT_EQ(log.FindConflictByTerm(2, 0), 0u);
  // A conflicting suffix from index 6 replaces 6..9.
  log.Append(E(6, 7));
  EXPECT_EQ(log.last_index(), 6u);
  EXPECT_EQ(*log.Term(6), 7u);
  EXPECT_EQ(*log.Term(5), 4u);
  EXPECT_TRUE(log.IsUpToDate(6, 7));
  EXPECT_FALSE(log.IsUpToDate(10, 6));
}

TEST_F(RaftLogTest, MembershipFollowsTheLogAndItsTruncation) {
  RaftLog log(&reader_);
  std::string err;
  ASSERT_TRUE(log.Init(&err)) << err;
  log.Append(Config(1, 1, {{1, 2, 3}, {}}));
  log.Append(E(2, 1));
  log.Append(Config(3, 1, {{1, 2, 3}, {4}}));
  EXPECT_EQ(log.membership().learners, std::vector<uint64_t>{4});
  EXPECT_EQ(log.membership_index(), 3u);
  EXPECT_TRUE(log.MembershipAt(2).learners.empty());
  // The uncommitted change is overwritten: the previous membership is back
  // (dissertation §4.1).
  log.Append(E(3, 2));
  EXPECT_TRUE(log.membership().learners.empty());
  EXPECT_EQ(log.membership_index(), 1u);
}

TEST_F(RaftLogTest, CompactionKeepsTermsAndMembership) {
  RaftLog log(&reader_);
  std::string err;
  ASSERT_TRUE(log.Init(&err)) << err;
  log.Append(Config(1, 1, {{1, 2}, {}}));
  for (uint64_t i = 2; i <= 6; ++i) log.Append(E(i, i < 4 ? 1 : 2));
  log.StableTo(6);
  log.CompactTo(4);
  EXPECT_EQ(log.snapshot_index(), 4u);
  EXPECT_EQ(log.snapshot_term(), 2u);
  EXPECT_EQ(log.first_index(), 5u);
  EXPECT_FALSE(log.Term(3).has_value());
  EXPECT_EQ(*log.Term(4), 2u);
  EXPECT_EQ(*log.Term(6), 2u);
  EXPECT_EQ(log.membership().voters, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(log.FindConflictByTerm(6, 1), 4u);  // never below the snapshot
  log.Restore(20, 9, {{5}, {}});
  EXPECT_EQ(log.last_index(), 20u);
  EXPECT_EQ(log.last_term(), 9u);
  EXPECT_EQ(log.membership().voters, std::vector<uint64_t>{5});
}

}  // namespace
}  // namespace sbraft
