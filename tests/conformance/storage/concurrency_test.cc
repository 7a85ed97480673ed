// Storage conformance: atomicity and consistency under concurrency. Every
// loop here is bounded in iterations; none asserts on timing.
#include <atomic>
#include <thread>

#include "storage_fixture.h"

namespace sb::testing {
namespace {

// A writer applies batches that set the same counter in two keyspaces (and
// a per-batch marker key); readers check, through snapshots, that they
// never see one keyspace ahead of the other.
TEST_P(StorageConformance, BatchAcrossKeyspacesIsAllOrNothing) {
  const uint32_t a = Ks("atomic_a"), b = Ks("atomic_b");
  // At least kMinBatches, and on until the readers made enough checks
  // (bounded by kMaxBatches), so writes and reads really overlap.
  constexpr int kMinBatches = 400, kMaxBatches = 20000, kWantChecks = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, checks{0}, written{0};
  std::thread writer([&] {
    auto batch = db().NewBatch();
    ASSERT_TRUE(batch.ok());
    for (int i = 1; i <= kMaxBatches; ++i) {
      if (i > kMinBatches && checks >= kWantChecks) break;
      batch->Clear();
      const std::string n = std::to_string(i);
      ASSERT_TRUE(batch->Put(a, "counter", n).ok());
      ASSERT_TRUE(batch->Put(b, "counter", n).ok());
      ASSERT_TRUE(batch->Put(b, "marker" + n, n).ok());
      ASSERT_TRUE(db().Write(*batch).ok());
      written = i;
    }
    done = true;
  });
  auto reader = [&] {
    // Bounded: stops when the writer is done, or after a fixed count.
    for (int round = 0; round < 200000 && !done; ++round) {
      auto snap = db().NewSnapshot();
      ASSERT_TRUE(snap.ok());
      std::string va, vb, marker;
      Status sa = db().Get(a, "counter", &va, &*snap);
      Status sb = db().Get(b, "counter", &vb, &*snap);
      if (sa.IsNotFound() && sb.IsNotFound()) continue;
      ASSERT_TRUE(sa.ok() && sb.ok()) << sa.ToString() << sb.ToString();
      if (va != vb || !db().Get(b, "marker" + va, &marker, &*snap).ok()) {
        ++torn;
      }
      ++checks;
    }
  };
  std::thread r1(reader), r2(reader);
  writer.join();
  r1.join();
  r2.join();
  EXPECT_EQ(torn.load(), 0) << "of " << checks.load() << " checks";
  std::string v;
  ASSERT_TRUE(db().Get(a, "counter", &v).ok());
  EXPECT_EQ(v, std::to_string(written.load()));
}

// A snapshot taken while writers run stays fixed: reading it twice, with
// writes in between, gives the same rows.
TEST_P(StorageConformance, SnapshotStaysFixedWhileWritesContinue) {
  const uint32_t ks = Ks("fixed");
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(db().Put(ks, "k" + std::to_string(i), "0").ok());
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int round = 1; round <= 2000 && !stop; ++round) {
      auto batch = db().NewBatch();
      ASSERT_TRUE(batch.ok());
      const int i = round % 200;
      ASSERT_TRUE(
          batch->Put(ks, "k" + std::to_string(i), std::to_string(round)).ok());
      ASSERT_TRUE(batch->Delete(ks, "k" + std::to_string((i + 7) % 200)).ok());
      ASSERT_TRUE(batch->Put(ks, "new" + std::to_string(round), "x").ok());
      ASSERT_TRUE(db().Write(*batch).ok());
    }
  });
  for (int n = 0; n < 5; ++n) {
    auto snap = db().NewSnapshot();
    ASSERT_TRUE(snap.ok());
    IterOptions o;
    o.snapshot = &*snap;
    auto first = Scan(db(), ks, o);
    std::this_thread::yield();
    auto second = Scan(db(), ks, o);
    EXPECT_EQ(first, second);
    for (const auto& [k, v] : first) {
      std::string got;
      ASSERT_TRUE(db().Get(ks, k, &got, &*snap).ok());
      EXPECT_EQ(got, v);
    }
  }
  stop = true;
  writer.join();
}

// Several writers on disjoint key ranges and readers iterating at the same
// time; afterwards every write is there.
TEST_P(StorageConformance, ConcurrentWritersAndReaders) {
  const uint32_t ks = Ks("concurrent");
  constexpr int kWriters = 4, kKeysPerWriter = 300;
  std::atomic<int> writers_left{kWriters};
  std::atomic<int> bad_values{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kKeysPerWriter; ++i) {
        const std::string key =
            "w" + std::to_string(w) + "/" + std::to_string(1000 + i);
        if (i % 3 == 0) {
          auto batch = db().NewBatch();
          ASSERT_TRUE(batch.ok());
          ASSERT_TRUE(batch->Put(ks, key, key).ok());
          ASSERT_TRUE(db().Write(*batch).ok());
        } else {
          ASSERT_TRUE(db().Put(ks, key, key).ok());
        }
      }
      --writers_left;
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      for (int round = 0; round < 10000 && writers_left > 0; ++round) {
        auto it = db().NewIterator(ks);
        ASSERT_TRUE(it.ok());
        std::string prev;
        bool first = true;
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
          // Values equal keys, and keys come in strictly increasing order.
          if (it->value() != it->key() || (!first && !(prev < it->key()))) {
            ++bad_values;
          }
          prev = std::string(it->key());
          first = false;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad_values.load(), 0);
  EXPECT_EQ(Scan(db(), ks).size(),
            static_cast<size_t>(kWriters * kKeysPerWriter));
}

// A key that always exists is always found by a live read, while a writer
// keeps overwriting it (no read falls between an old and a new version).
TEST_P(StorageConformance, LiveGetNeverMissesAnOverwrittenKey) {
  const uint32_t ks = Ks("overwrite");
  ASSERT_TRUE(db().Put(ks, "k", "0").ok());
  std::atomic<bool> done{false};
  std::atomic<int> misses{0};
  std::thread writer([&] {
    for (int i = 1; i <= 5000; ++i) {
      ASSERT_TRUE(db().Put(ks, "k", std::to_string(i)).ok());
    }
    done = true;
  });
  std::thread reader([&] {
    std::string v;
    for (int round = 0; round < 200000 && !done; ++round) {
      if (!db().Get(ks, "k", &v).ok()) ++misses;
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ(misses.load(), 0);
}

// Keyspace creation races with itself: every thread gets the same id.
TEST_P(StorageConformance, ConcurrentKeyspaceCreation) {
  std::vector<uint32_t> ids(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto id = db().Keyspace("raced");
      ASSERT_TRUE(id.ok());
      ids[t] = *id;
    });
  }
  for (auto& t : threads) t.join();
  for (uint32_t id : ids) EXPECT_EQ(id, ids[0]);
  auto names = db().ListKeyspaces();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
}

}  // namespace
}  // namespace sb::testing
