// Streaming snapshots of an order (SnapshotSource / RestoreChunk): a round
// trip through many tiny chunks reproduces every key of every keyspace
// (data, sessions, their index and counts), no chunk exceeds its budget,
// the restored replica deduplicates like the source, and broken streams are
// refused. Also the apply-result hand-off.
#include <gtest/gtest.h>

#include <random>

#include "host/order/apply_results.h"
#include "host/order/shard.h"
#include "host/order/state_machine.h"
#include "tests/unit/order/order_fixture.h"

namespace sb::order {
namespace {

using testing::AllShards;
using testing::ApplyBatch;
using testing::ApplyOne;
using testing::Dump;
using testing::Encoded;
using testing::MakeReplica;

// Fills `r` with `keys` keys over all shards and `clients` sessions.
void Fill(testing::Replica* r, int keys, int clients) {
  std::vector<std::string> batch;
  for (int i = 0; i < keys; ++i) {
    std::string k = "key-" + std::to_string(i);
    Command c = Command::Put(ShardOf(k, r->sm->shards()), k,
                             std::string(1 + i % 50, 'a' + i % 26));
    if (i < clients) c.WithSession(1000 + i, 1, 5000 + i);
    batch.push_back(Encoded(c));
    if (batch.size() == 64) {
      ApplyBatch(r, batch);
      batch.clear();
    }
  }
  if (!batch.empty()) ApplyBatch(r, batch);
}

// Streams `src` into `dst` with chunks of at most `budget` bytes; returns
// the largest chunk seen and the number of chunks.
Status Stream(testing::Replica* src, testing::Replica* dst, size_t budget,
              size_t* largest, size_t* chunks) {
  auto source = src->sm->NewSnapshotSource();
  if (!source.ok()) return source.status();
  uint64_t index = (*source)->index();
  bool done = false, first = true;
  *largest = 0;
  *chunks = 0;
  for (int guard = 0; !done && guard < 1'000'000; ++guard) {
    auto chunk = (*source)->Next(budget, &done);
    if (!chunk.ok()) return chunk.status();
    *largest = std::max(*largest, chunk->size());
    ++*chunks;
    // Each chunk in its own batch, written as it comes: the whole state is
    // never held in memory on either side.
    auto batch = dst->storage->NewBatch();
    if (!batch.ok()) return batch.status();
    SB_RETURN_IF_ERROR(
        dst->sm->RestoreChunk(index, first, done, *chunk, &*batch));
    SB_RETURN_IF_ERROR(dst->storage->Write(*batch));
    first = false;
  }
  dst->next_index = index + 1;
  return done ? Status::OK() : Status::Internal("stream did not finish");
}

TEST(OrderSnapshotTest, TinyChunksRoundTripEveryKeyIncludingSessions) {
  auto a = MakeReplica(AllShards());
  auto b = MakeReplica(AllShards());
  ASSERT_TRUE(a && b);
  Fill(a.get(), 2000, 300);
  // b holds unrelated state the restore must remove.
  ApplyOne(b.get(), Command::Put(1, "stale", "x").WithSession(1, 1, 1));
  size_t largest = 0, chunks = 0;
  const size_t budget = 128;
  ASSERT_TRUE(Stream(a.get(), b.get(), budget, &largest, &chunks).ok());
  // Every record here is smaller than the budget, so every chunk fits it.
  EXPECT_LE(largest, budget);
  EXPECT_GT(chunks, 2000u * 10 / budget);
  EXPECT_EQ(Dump(a.get()), Dump(b.get()));
  EXPECT_EQ(b->sm->StoredAppliedIndex().value(),
            a->sm->StoredAppliedIndex().value());
  // Sessions travelled: a retry on the restored replica is a duplicate.
  std::string k = "key-7";
  Command retry =
      Command::Put(ShardOf(k, 16), k, "other").WithSession(1007, 1, 9000);
  CommandResult x = ApplyOne(b.get(), retry);
  EXPECT_TRUE(x.duplicate);
  std::string v;
  ASSERT_TRUE(b->sm->Get(ShardOf(k, 16), k, &v).ok());
  EXPECT_EQ(v, std::string(8, 'a' + 7));
}

TEST(OrderSnapshotTest, StateLargerThanTheChunkBudgetIsStreamed) {
  auto a = MakeReplica(AllShards());
  auto b = MakeReplica(AllShards());
  ASSERT_TRUE(a && b);
  Fill(a.get(), 500, 0);
  // One value larger than the budget goes alone in its chunk.
  ApplyOne(a.get(), Command::Put(2, "big", std::string(5000, 'z')));
  auto whole = a->sm->Snapshot();
  ASSERT_TRUE(whole.ok());
  size_t largest = 0, chunks = 0;
  ASSERT_TRUE(Stream(a.get(), b.get(), 1024, &largest, &chunks).ok());
  EXPECT_LT(largest, whole->size() / 4);
  EXPECT_LE(largest, 5000u + 64);  // the big record and its framing
  EXPECT_EQ(Dump(a.get()), Dump(b.get()));
}

TEST(OrderSnapshotTest, WholeStringInterfaceRoundTrips) {
  auto a = MakeReplica(AllShards());
  auto b = MakeReplica(AllShards());
  ASSERT_TRUE(a && b);
  Fill(a.get(), 100, 10);
  auto data = a->sm->Snapshot();
  ASSERT_TRUE(data.ok());
  uint64_t index = a->sm->StoredAppliedIndex().value();
  auto batch = b->storage->NewBatch();
  ASSERT_TRUE(b->sm->Restore(index, *data, &*batch).ok());
  ASSERT_TRUE(b->storage->Write(*batch).ok());
  EXPECT_EQ(Dump(a.get()), Dump(b.get()));
}

// A consensus plugin re-chunks the stream by bytes: records split across
// chunks must restore the same.
TEST(OrderSnapshotTest, ChunksCutAnywhereRestoreTheSame) {
  auto a = MakeReplica(AllShards());
  auto b = MakeReplica(AllShards());
  ASSERT_TRUE(a && b);
  Fill(a.get(), 300, 40);
  auto data = a->sm->Snapshot();
  ASSERT_TRUE(data.ok());
  uint64_t index = a->sm->StoredAppliedIndex().value();
  std::mt19937_64 rng(77);
  size_t off = 0;
  bool first = true;
  while (off < data->size()) {
    size_t n = std::min<size_t>(data->size() - off, 1 + rng() % 23);
    bool last = off + n == data->size();
    auto batch = b->storage->NewBatch();
    ASSERT_TRUE(b->sm
                    ->RestoreChunk(index, first, last,
                                   std::string_view(*data).substr(off, n),
                                   &*batch)
                    .ok())
        << "at offset " << off;
    ASSERT_TRUE(b->storage->Write(*batch).ok());
    first = false;
    off += n;
  }
  EXPECT_EQ(Dump(a.get()), Dump(b.get()));
}

TEST(OrderSnapshotTest, BrokenStreamsAreRefused) {
  auto a = MakeReplica(AllShards());
  auto b = MakeReplica(AllShards());
  ASSERT_TRUE(a && b);
  Fill(a.get(), 50, 5);
  auto data = a->sm->Snapshot();
  ASSERT_TRUE(data.ok());
  uint64_t index = a->sm->StoredAppliedIndex().value();
  auto restore = [&](std::string_view d, uint64_t idx) {
    auto batch = b->storage->NewBatch();
    return b->sm->Restore(idx, d, &*batch);
  };
  EXPECT_TRUE(restore(*data, index).ok());
  EXPECT_EQ(restore(*data, index + 1).code(), Code::kCorruption);
  for (size_t cut :
       {size_t{0}, size_t{10}, data->size() / 2, data->size() - 1}) {
    EXPECT_EQ(restore(std::string_view(*data).substr(0, cut), index).code(),
              Code::kCorruption)
        << cut;
  }
  std::string garbage = *data;
  garbage[garbage.size() / 2] ^= 0x5a;
  garbage[garbage.size() / 3] ^= 0x5a;
  // Either framing breaks or (value bytes only) it still decodes: never a
  // crash; a changed length shows as corruption.
  (void)restore(garbage, index);
  std::string extra = *data + std::string("\x01\0\0\0\0\0\0\0\0", 9);
  EXPECT_EQ(restore(extra, index).code(), Code::kCorruption);
  // A stream of another format names both formats. The header record is
  // table 0, then the magic as u32 length + bytes: its last byte is the
  // format digit.
  std::string v1 = *data;
  const size_t digit = 1 + 4 + std::string("shardbearer.order.v2").size() - 1;
  ASSERT_EQ(v1[digit], '2');
  v1[digit] = '1';
  Status s = restore(v1, index);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.ToString().find("shardbearer.order.v1"), std::string::npos)
      << s.ToString();
}

TEST(ApplyResultsTest, WatchersGetTheirResultOrAborted) {
  ApplyResults r;
  CommandResult ok;
  ok.index = 3;
  auto f3 = r.Watch(3, CommandDigest("three"));
  auto f4 = r.Watch(4, CommandDigest("four"));  // another proposal lands at 4
  auto f5 = r.Watch(5, 9);                      // 5 is a protocol entry
  auto f9 = r.Watch(9, 1);
  r.Record(3, "three", ok);
  r.Record(4, "not four", ok);
  r.Record(6, "unwatched", ok);  // not kept: nobody waits for it
  EXPECT_EQ(r.watchers(), 4u);
  r.ReleaseThrough(5);
  EXPECT_EQ(f3.get().value(), ok);
  EXPECT_EQ(f4.get().status().code(), Code::kAborted);
  EXPECT_EQ(f5.get().status().code(), Code::kAborted);
  EXPECT_EQ(r.released(), 5u);
  // Too late: released results are gone.
  EXPECT_EQ(r.Watch(2, 1).get().status().code(), Code::kAborted);
  r.FailAll(Status::Unavailable("leadership lost"));
  EXPECT_EQ(f9.get().status().code(), Code::kUnavailable);
  EXPECT_EQ(r.watchers(), 0u);
}

}  // namespace
}  // namespace sb::order
