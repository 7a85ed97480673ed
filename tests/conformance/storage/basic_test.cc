// Storage conformance: keyspaces, point operations, batches, delete-range,
// checkpoints, size estimates, sync and error paths.
#include <algorithm>
#include <random>
#include <set>

#include "storage_fixture.h"

namespace sb::testing {
namespace {

std::string Bin(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// Incompressible bytes, so size estimates see real volume.
std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

TEST_P(StorageConformance, KeyspaceCreateLookupList) {
  auto a = db().Keyspace("alpha");
  auto b = db().Keyspace("beta.2_x-Y");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE(*a, *b);
  auto again = db().Keyspace("alpha");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *a);
  auto names = db().ListKeyspaces();
  ASSERT_TRUE(names.ok()) << names.status().ToString();
  std::set<std::string> got(names->begin(), names->end());
  EXPECT_EQ(got, (std::set<std::string>{"alpha", "beta.2_x-Y"}));
  // The longest valid name.
  EXPECT_TRUE(db().Keyspace(std::string(64, 'k')).ok());
}

TEST_P(StorageConformance, KeyspacesPersistAcrossReopen) {
  if (!durable()) GTEST_SKIP() << GetParam() << " is not durable";
  uint32_t a = Ks("alpha");
  ASSERT_TRUE(db().Put(a, "k", "v", true).ok());
  Ks("empty");
  Reopen();
  auto names = db().ListKeyspaces();
  ASSERT_TRUE(names.ok());
  std::set<std::string> got(names->begin(), names->end());
  EXPECT_EQ(got, (std::set<std::string>{"alpha", "empty"}));
  EXPECT_EQ(Get(Ks("alpha"), "k"), "v");
}

TEST_P(StorageConformance, InvalidKeyspaceNamesAreRejected) {
  for (std::string bad :
       {std::string(""), std::string(65, 'x'), std::string("a/b"),
        std::string("with space"), std::string("ks:x"), std::string("é"),
        std::string("nul\0byte", 8)}) {
    auto id = db().Keyspace(bad);
    ASSERT_FALSE(id.ok()) << "accepted '" << bad << "'";
    EXPECT_EQ(id.status().code(), Code::kInvalidArgument)
        << id.status().ToString();
  }
  auto names = db().ListKeyspaces();
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST_P(StorageConformance, UnknownKeyspaceIdIsNotFound) {
  const uint32_t known = Ks("known");
  for (uint32_t id : {0u, known + 1, 0xffffffffu}) {
    std::string v;
    EXPECT_EQ(db().Get(id, "k", &v).code(), Code::kNotFound);
    EXPECT_EQ(db().Put(id, "k", "v").code(), Code::kNotFound);
    EXPECT_EQ(db().Delete(id, "k").code(), Code::kNotFound);
    auto it = db().NewIterator(id);
    ASSERT_FALSE(it.ok());
    EXPECT_EQ(it.status().code(), Code::kNotFound);
    auto size = db().ApproximateSize(id, "", "");
    ASSERT_FALSE(size.ok());
    EXPECT_EQ(size.status().code(), Code::kNotFound);
    auto batch = db().NewBatch();
    ASSERT_TRUE(batch.ok());
    EXPECT_EQ(batch->Put(id, "k", "v").code(), Code::kNotFound);
    EXPECT_EQ(batch->Delete(id, "k").code(), Code::kNotFound);
    EXPECT_EQ(batch->DeleteRange(id, "a", "b").code(), Code::kNotFound);
    EXPECT_EQ(batch->Count(), 0u);
  }
}

TEST_P(StorageConformance, KeyspacesAreIsolated) {
  uint32_t a = Ks("a"), b = Ks("b");
  ASSERT_TRUE(db().Put(a, "k", "in-a").ok());
  ASSERT_TRUE(db().Put(b, "k", "in-b").ok());
  ASSERT_TRUE(db().Put(a, "only-a", "1").ok());
  EXPECT_EQ(Get(a, "k"), "in-a");
  EXPECT_EQ(Get(b, "k"), "in-b");
  EXPECT_EQ(Get(b, "only-a"), "<absent>");
  ASSERT_TRUE(db().Delete(a, "k").ok());
  EXPECT_EQ(Get(a, "k"), "<absent>");
  EXPECT_EQ(Get(b, "k"), "in-b");
  auto batch = db().NewBatch();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(batch->DeleteRange(b, "", "zzzz").ok());
  ASSERT_TRUE(db().Write(*batch).ok());
  EXPECT_TRUE(Scan(db(), b).empty());
  EXPECT_EQ(
      Scan(db(), a),
      (std::vector<std::pair<std::string, std::string>>{{"only-a", "1"}}));
}

TEST_P(StorageConformance, GetPutDelete) {
  uint32_t ks = Ks("kv");
  EXPECT_EQ(Get(ks, "missing"), "<absent>");
  ASSERT_TRUE(db().Put(ks, "k", "v1").ok());
  EXPECT_EQ(Get(ks, "k"), "v1");
  ASSERT_TRUE(db().Put(ks, "k", "v2", /*sync=*/true).ok());
  EXPECT_EQ(Get(ks, "k"), "v2");
  ASSERT_TRUE(db().Delete(ks, "k").ok());
  EXPECT_EQ(Get(ks, "k"), "<absent>");
  // Deleting an absent key is not an error.
  EXPECT_TRUE(db().Delete(ks, "never-there", true).ok());
  // Get clears the output first.
  std::string out = "stale";
  EXPECT_TRUE(db().Get(ks, "k", &out).IsNotFound());
  EXPECT_TRUE(out.empty());
}

TEST_P(StorageConformance, EmptyAndBinaryKeysAndValues) {
  uint32_t ks = Ks("bin");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "value-of-empty-key"},
      {"empty-value", ""},
      {Bin({0}), Bin({0, 0, 0})},
      {Bin({'a', 0, 'b'}), Bin({0xff, 0, 0xfe})},
      {Bin({0xff, 0xff}), Bin({0x80, 0x7f})},
  };
  for (const auto& [k, v] : cases) ASSERT_TRUE(db().Put(ks, k, v).ok());
  for (const auto& [k, v] : cases) {
    std::string got;
    ASSERT_TRUE(db().Get(ks, k, &got).ok());
    EXPECT_EQ(got, v);
  }
  // "" and "\0" are distinct keys; so are "a\0b" and "a".
  EXPECT_EQ(Get(ks, "a"), "<absent>");
  EXPECT_EQ(Scan(db(), ks).size(), cases.size());
}

TEST_P(StorageConformance, LargeValues) {
  uint32_t ks = Ks("large");
  std::mt19937_64 rng(7);
  const std::string big = RandomBytes(rng, 4 << 20);
  const std::string big2 = RandomBytes(rng, 3 << 20);
  ASSERT_TRUE(db().Put(ks, "big", big, true).ok());
  auto batch = db().NewBatch();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(batch->Put(ks, "big2", big2).ok());
  EXPECT_GE(batch->ApproximateBytes(), big2.size());
  ASSERT_TRUE(db().Write(*batch, true).ok());
  EXPECT_TRUE(Get(ks, "big") == big);
  EXPECT_TRUE(Get(ks, "big2") == big2);
  auto it = db().NewIterator(ks);
  ASSERT_TRUE(it.ok());
  it->Seek("big2");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value().size(), big2.size());
}

TEST_P(StorageConformance, KeysOrderByUnsignedBytes) {
  uint32_t ks = Ks("order");
  // Expected order: memcmp over unsigned bytes, shorter first on a tie.
  const std::vector<std::string> ordered = {"",
                                            Bin({0}),
                                            Bin({0, 0}),
                                            Bin({1}),
                                            "A",
                                            "a",
                                            "ab",
                                            "b",
                                            Bin({0x7f}),
                                            Bin({0x80}),
                                            Bin({0x80, 0}),
                                            Bin({0xfe}),
                                            Bin({0xff}),
                                            Bin({0xff, 0}),
                                            Bin({0xff, 0xff})};
  std::vector<std::string> shuffled = ordered;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(1));
  for (const auto& k : shuffled) ASSERT_TRUE(db().Put(ks, k, "v").ok());
  std::vector<std::string> got;
  for (const auto& [k, v] : Scan(db(), ks)) got.push_back(k);
  EXPECT_EQ(got, ordered);
}

TEST_P(StorageConformance, DeleteRangeBounds) {
  uint32_t ks = Ks("range"), other = Ks("other");
  for (const char* k : {"a", "b", "ba", "c", "d", "e"}) {
    ASSERT_TRUE(db().Put(ks, k, k).ok());
    ASSERT_TRUE(db().Put(other, k, k).ok());
  }
  auto batch = db().NewBatch();
  ASSERT_TRUE(batch.ok());
  // [b, d): b, ba, c go; d (the exclusive end) stays.
  ASSERT_TRUE(batch->DeleteRange(ks, "b", "d").ok());
  // An empty range is a no-op that still counts.
  ASSERT_TRUE(batch->DeleteRange(ks, "e", "e").ok());
  EXPECT_EQ(batch->Count(), 2u);
  // begin > end is refused and not added.
  EXPECT_EQ(batch->DeleteRange(ks, "d", "a").code(), Code::kInvalidArgument);
  EXPECT_EQ(batch->Count(), 2u);
  ASSERT_TRUE(db().Write(*batch, true).ok());
  std::vector<std::string> left;
  for (const auto& [k, v] : Scan(db(), ks)) left.push_back(k);
  EXPECT_EQ(left, (std::vector<std::string>{"a", "d", "e"}));
  EXPECT_EQ(Scan(db(), other).size(), 6u);
  // A range can be followed by a put into it in the same batch: later wins.
  batch->Clear();
  ASSERT_TRUE(batch->DeleteRange(other, "a", "z").ok());
  ASSERT_TRUE(batch->Put(other, "c", "new").ok());
  ASSERT_TRUE(db().Write(*batch).ok());
  EXPECT_EQ(Scan(db(), other),
            (std::vector<std::pair<std::string, std::string>>{{"c", "new"}}));
}

TEST_P(StorageConformance, BatchReuseClearAndCount) {
  uint32_t ks = Ks("batch");
  auto batch = db().NewBatch();
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->Count(), 0u);
  const size_t empty_bytes = batch->ApproximateBytes();
  ASSERT_TRUE(batch->Put(ks, "a", "1").ok());
  ASSERT_TRUE(batch->Put(ks, "b", "2").ok());
  ASSERT_TRUE(batch->Delete(ks, "c").ok());
  EXPECT_EQ(batch->Count(), 3u);
  EXPECT_GT(batch->ApproximateBytes(), empty_bytes);
  ASSERT_TRUE(db().Write(*batch).ok());
  // Write leaves the batch unchanged.
  EXPECT_EQ(batch->Count(), 3u);
  EXPECT_EQ(Get(ks, "a"), "1");
  batch->Clear();
  EXPECT_EQ(batch->Count(), 0u);
  ASSERT_TRUE(batch->Put(ks, "a", "3").ok());
  ASSERT_TRUE(batch->Delete(ks, "b").ok());
  ASSERT_TRUE(db().Write(*batch, true).ok());
  EXPECT_EQ(Get(ks, "a"), "3");
  EXPECT_EQ(Get(ks, "b"), "<absent>");
  // Within a batch the last operation on a key wins.
  batch->Clear();
  ASSERT_TRUE(batch->Put(ks, "x", "first").ok());
  ASSERT_TRUE(batch->Delete(ks, "x").ok());
  ASSERT_TRUE(batch->Put(ks, "x", "last").ok());
  ASSERT_TRUE(db().Write(*batch).ok());
  EXPECT_EQ(Get(ks, "x"), "last");
  // An empty batch writes fine.
  batch->Clear();
  EXPECT_TRUE(db().Write(*batch, true).ok());
}

TEST_P(StorageConformance, ObjectsOfAnotherInstanceAreRefused) {
  auto other = OpenAt(root_ / "other");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  auto ks = other->Keyspace("ks");
  ASSERT_TRUE(ks.ok());
  auto batch = other->NewBatch();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(batch->Put(*ks, "k", "v").ok());
  EXPECT_EQ(db().Write(*batch).code(), Code::kInvalidArgument);
  // A snapshot of the other instance, for a get or an iterator.
  const uint32_t mine = Ks("ks");
  auto snap = other->NewSnapshot();
  ASSERT_TRUE(snap.ok());
  std::string v;
  EXPECT_EQ(db().Get(mine, "k", &v, &*snap).code(), Code::kInvalidArgument);
  IterOptions opts;
  opts.snapshot = &*snap;
  auto it = db().NewIterator(mine, opts);
  ASSERT_FALSE(it.ok());
  EXPECT_EQ(it.status().code(), Code::kInvalidArgument);
}

TEST_P(StorageConformance, SnapshotIsAConsistentView) {
  uint32_t ks = Ks("snap");
  ASSERT_TRUE(db().Put(ks, "a", "old").ok());
  ASSERT_TRUE(db().Put(ks, "b", "old").ok());
  auto snap = db().NewSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(db().Put(ks, "a", "new").ok());
  ASSERT_TRUE(db().Delete(ks, "b").ok());
  ASSERT_TRUE(db().Put(ks, "c", "new").ok());
  std::string v;
  ASSERT_TRUE(db().Get(ks, "a", &v, &*snap).ok());
  EXPECT_EQ(v, "old");
  ASSERT_TRUE(db().Get(ks, "b", &v, &*snap).ok());
  EXPECT_EQ(v, "old");
  EXPECT_TRUE(db().Get(ks, "c", &v, &*snap).IsNotFound());
  EXPECT_EQ(Get(ks, "a"), "new");
  EXPECT_EQ(Get(ks, "b"), "<absent>");
  IterOptions opts;
  opts.snapshot = &*snap;
  EXPECT_EQ(Scan(db(), ks, opts),
            (std::vector<std::pair<std::string, std::string>>{{"a", "old"},
                                                              {"b", "old"}}));
  // Many snapshots at different points, released out of order.
  std::vector<Snapshot> snaps;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(db().Put(ks, "n", std::to_string(i)).ok());
    auto s = db().NewSnapshot();
    ASSERT_TRUE(s.ok());
    snaps.push_back(std::move(*s));
  }
  snaps.erase(snaps.begin() + 2);
  const std::vector<std::string> expect = {"0", "1", "3", "4"};
  for (size_t i = 0; i < snaps.size(); ++i) {
    ASSERT_TRUE(db().Get(ks, "n", &v, &snaps[i]).ok());
    EXPECT_EQ(v, expect[i]);
  }
}

TEST_P(StorageConformance, CheckpointOpensAsACopy) {
  uint32_t a = Ks("a"), b = Ks("b");
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(db().Put(a, "k" + std::to_string(i), std::to_string(i)).ok());
  }
  ASSERT_TRUE(db().Put(b, Bin({0, 0xff}), Bin({0xff, 0})).ok());
  const auto cp = root_ / "checkpoint";
  ASSERT_TRUE(db().Checkpoint(cp.string()).ok());
  // Later writes do not reach the copy.
  ASSERT_TRUE(db().Put(a, "after", "x").ok());
  ASSERT_TRUE(db().Delete(a, "k0").ok());
  // A second checkpoint into the same directory is refused.
  EXPECT_EQ(db().Checkpoint(cp.string()).code(), Code::kAlreadyExists);

  auto copy = OpenAt(cp);
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  auto names = copy->ListKeyspaces();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()),
            (std::set<std::string>{"a", "b"}));
  auto ca = copy->Keyspace("a");
  auto cb = copy->Keyspace("b");
  ASSERT_TRUE(ca.ok() && cb.ok());
  auto rows = Scan(*copy, *ca);
  ASSERT_EQ(rows.size(), 100u);
  std::string v;
  ASSERT_TRUE(copy->Get(*ca, "k0", &v).ok());
  EXPECT_EQ(v, "0");
  EXPECT_TRUE(copy->Get(*ca, "after", &v).IsNotFound());
  ASSERT_TRUE(copy->Get(*cb, Bin({0, 0xff}), &v).ok());
  EXPECT_EQ(v, Bin({0xff, 0}));
  // The copy is independent and writable.
  ASSERT_TRUE(copy->Put(*ca, "only-copy", "1").ok());
  EXPECT_EQ(Get(a, "only-copy"), "<absent>");
}

TEST_P(StorageConformance, ApproximateSizeGrowsWithData) {
  uint32_t ks = Ks("size");
  auto before = db().ApproximateSize(ks, "", "");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  std::mt19937_64 rng(3);
  for (int i = 0; i < 512; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05d", i);
    ASSERT_TRUE(db().Put(ks, key, RandomBytes(rng, 4096)).ok());
  }
  ASSERT_TRUE(db().Sync().ok());
  auto after = db().ApproximateSize(ks, "", "");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_GT(*after, *before);
  EXPECT_GT(*after, 0u);
  // A range outside the data is (about) empty; an empty range is zero.
  auto outside = db().ApproximateSize(ks, "z", "zz");
  ASSERT_TRUE(outside.ok());
  EXPECT_LT(*outside, *after);
  auto empty = db().ApproximateSize(ks, "k00100", "k00100");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0u);
}

TEST_P(StorageConformance, SyncMakesUnsyncedWritesDurable) {
  uint32_t ks = Ks("sync");
  ASSERT_TRUE(db().Put(ks, "k", "v", /*sync=*/false).ok());
  ASSERT_TRUE(db().Sync().ok());
  if (!durable()) return;
  Reopen();
  EXPECT_EQ(Get(Ks("sync"), "k"), "v");
}

TEST_P(StorageConformance, CloseKeepsUnsyncedWrites) {
  if (!durable()) GTEST_SKIP() << GetParam() << " is not durable";
  uint32_t ks = Ks("close");
  ASSERT_TRUE(db().Put(ks, "k", "v", /*sync=*/false).ok());
  Reopen();
  EXPECT_EQ(Get(Ks("close"), "k"), "v");
}

TEST_P(StorageConformance, UnknownConfigKeyIsNamed) {
  PluginConfigAbi bad{{"no_such_key", "1"}};
  Status s = Storage::CheckConfig(lib_, *bad.get());
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("no_such_key"), std::string::npos) << s.message();
  auto db = OpenAt(root_ / "badcfg", *bad.get());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Code::kInvalidArgument);
  EXPECT_NE(db.status().message().find("no_such_key"), std::string::npos);
  PluginConfigAbi empty;
  EXPECT_TRUE(Storage::CheckConfig(lib_, *empty.get()).ok());
}

TEST_P(StorageConformance, ObjectsMayOutliveTheStorageHandle) {
  uint32_t ks = Ks("life");
  ASSERT_TRUE(db().Put(ks, "a", "1").ok());
  auto snap = db().NewSnapshot();
  ASSERT_TRUE(snap.ok());
  IterOptions opts;
  opts.snapshot = &*snap;
  auto it = db().NewIterator(ks, opts);
  ASSERT_TRUE(it.ok());
  auto batch = db().NewBatch();
  ASSERT_TRUE(batch.ok());
  ASSERT_TRUE(batch->Put(ks, "b", "2").ok());
  // Drop the Storage, then the snapshot: the iterator keeps both alive.
  db_.reset();
  { Snapshot gone = std::move(*snap); }
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "a");
  EXPECT_EQ(batch->Count(), 1u);
  // Destroying the last of them closes the instance (for a durable plugin
  // its directory lock is free again), so reopening works.
  { Iterator drop = std::move(*it); }
  { WriteBatch drop = std::move(*batch); }
  Reopen();
  if (durable()) {
    EXPECT_EQ(Get(Ks("life"), "a"), "1");
  }
}

}  // namespace
}  // namespace sb::testing
