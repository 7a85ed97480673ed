// Storage conformance: iterators (positioning, direction changes, bounds,
// prefixes, snapshots, stability under concurrent writes).
#include "storage_fixture.h"

namespace sb::testing {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

TEST_P(StorageConformance, IteratorOnEmptyKeyspace) {
  uint32_t ks = Ks("empty");
  auto it = db().NewIterator(ks);
  ASSERT_TRUE(it.ok());
  EXPECT_FALSE(it->Valid());  // unpositioned
  it->SeekToFirst();
  EXPECT_FALSE(it->Valid());
  it->SeekToLast();
  EXPECT_FALSE(it->Valid());
  it->Seek("a");
  EXPECT_FALSE(it->Valid());
  // Moving an invalid iterator is a no-op, and its key is empty.
  it->Next();
  it->Prev();
  EXPECT_FALSE(it->Valid());
  EXPECT_TRUE(it->key().empty());
  EXPECT_TRUE(it->status().ok());
}

TEST_P(StorageConformance, IteratorSeekAndStep) {
  uint32_t ks = Ks("iter");
  for (const char* k : {"b", "d", "f", "h"}) {
    ASSERT_TRUE(db().Put(ks, k, std::string("v") + k).ok());
  }
  auto made = db().NewIterator(ks);
  ASSERT_TRUE(made.ok());
  Iterator& it = *made;
  auto at = [&] { return it.Valid() ? std::string(it.key()) : "<invalid>"; };
  it.SeekToFirst();
  EXPECT_EQ(at(), "b");
  EXPECT_EQ(it.value(), "vb");
  it.SeekToLast();
  EXPECT_EQ(at(), "h");
  it.Seek("d");  // exact
  EXPECT_EQ(at(), "d");
  it.Seek("e");  // between
  EXPECT_EQ(at(), "f");
  it.Seek("");  // before all
  EXPECT_EQ(at(), "b");
  it.Seek("i");  // after all
  EXPECT_EQ(at(), "<invalid>");
  it.SeekForPrev("d");  // exact
  EXPECT_EQ(at(), "d");
  it.SeekForPrev("e");  // between
  EXPECT_EQ(at(), "d");
  it.SeekForPrev("z");  // after all
  EXPECT_EQ(at(), "h");
  it.SeekForPrev("a");  // before all
  EXPECT_EQ(at(), "<invalid>");
  // Direction changes.
  it.Seek("d");
  it.Next();
  EXPECT_EQ(at(), "f");
  it.Prev();
  EXPECT_EQ(at(), "d");
  it.Prev();
  EXPECT_EQ(at(), "b");
  it.Prev();
  EXPECT_EQ(at(), "<invalid>");
  // Full walks both ways.
  std::string fwd, back;
  for (it.SeekToFirst(); it.Valid(); it.Next()) fwd += it.key();
  for (it.SeekToLast(); it.Valid(); it.Prev()) back += it.key();
  EXPECT_EQ(fwd, "bdfh");
  EXPECT_EQ(back, "hfdb");
  EXPECT_TRUE(it.status().ok());
}

TEST_P(StorageConformance, IteratorBounds) {
  uint32_t ks = Ks("bounds");
  for (const char* k : {"a", "b", "c", "d", "e", "f"}) {
    ASSERT_TRUE(db().Put(ks, k, k).ok());
  }
  IterOptions o;
  o.lower_bound = "b";
  o.upper_bound = "e";  // exclusive
  auto made = db().NewIterator(ks, o);
  ASSERT_TRUE(made.ok());
  Iterator& it = *made;
  auto at = [&] { return it.Valid() ? std::string(it.key()) : "<invalid>"; };
  it.SeekToFirst();
  EXPECT_EQ(at(), "b");
  it.SeekToLast();
  EXPECT_EQ(at(), "d");
  it.Seek("a");  // below the lower bound: clamped
  EXPECT_EQ(at(), "b");
  it.Seek("e");  // at the upper bound: nothing
  EXPECT_EQ(at(), "<invalid>");
  it.SeekForPrev("z");  // above the upper bound: the last key inside
  EXPECT_EQ(at(), "d");
  it.SeekForPrev("e");
  EXPECT_EQ(at(), "d");
  it.SeekForPrev("a");  // below the lower bound: nothing
  EXPECT_EQ(at(), "<invalid>");
  it.SeekToLast();
  it.Next();
  EXPECT_EQ(at(), "<invalid>");
  it.SeekToFirst();
  it.Prev();
  EXPECT_EQ(at(), "<invalid>");
  std::string seen;
  for (it.SeekToFirst(); it.Valid(); it.Next()) seen += it.key();
  EXPECT_EQ(seen, "bcd");
  // Only one bound at a time.
  IterOptions lower_only;
  lower_only.lower_bound = "e";
  EXPECT_EQ(Scan(db(), ks, lower_only).size(), 2u);
  IterOptions upper_only;
  upper_only.upper_bound = "b";
  EXPECT_EQ(Scan(db(), ks, upper_only).size(), 1u);
}

TEST_P(StorageConformance, PrefixIteration) {
  uint32_t ks = Ks("prefix");
  const std::string ff = "\xff";
  for (const std::string& k :
       {std::string("o"), std::string("p"), std::string("p\x01"), "p" + ff,
        "p" + ff + ff, std::string("q"), ff, ff + ff, ff + "a"}) {
    ASSERT_TRUE(db().Put(ks, k, "v").ok());
  }
  auto keys = [&](std::string_view prefix) {
    std::vector<std::string> out;
    auto it = db().NewPrefixIterator(ks, prefix);
    EXPECT_TRUE(it.ok());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.emplace_back(it->key());
    }
    return out;
  };
  EXPECT_EQ(keys("p"),
            (std::vector<std::string>{"p", "p\x01", "p" + ff, "p" + ff + ff}));
  EXPECT_EQ(keys("p" + ff),
            (std::vector<std::string>{"p" + ff, "p" + ff + ff}));
  // An all-0xff prefix has no successor: the upper bound is open.
  EXPECT_EQ(keys(ff), (std::vector<std::string>{ff, ff + "a", ff + ff}));
  EXPECT_EQ(keys("zz"), std::vector<std::string>{});
  EXPECT_EQ(keys("").size(), 9u);
}

TEST(PrefixSuccessorTest, DropsTrailingFfAndIncrements) {
  EXPECT_EQ(PrefixSuccessor("abc"), "abd");
  EXPECT_EQ(PrefixSuccessor("a\xff\xff"), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("a\x7f", 2)), "a\x80");
  EXPECT_EQ(PrefixSuccessor("\xff\xff"), "");
  EXPECT_EQ(PrefixSuccessor(""), "");
  EXPECT_EQ(PrefixSuccessor(std::string("\0", 1)), std::string("\x01", 1));
}

TEST_P(StorageConformance, IteratorOverSnapshot) {
  uint32_t ks = Ks("itsnap");
  ASSERT_TRUE(db().Put(ks, "a", "1").ok());
  ASSERT_TRUE(db().Put(ks, "b", "1").ok());
  auto snap = db().NewSnapshot();
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(db().Put(ks, "a", "2").ok());
  ASSERT_TRUE(db().Delete(ks, "b").ok());
  ASSERT_TRUE(db().Put(ks, "c", "2").ok());
  IterOptions o;
  o.snapshot = &*snap;
  EXPECT_EQ(Scan(db(), ks, o), (Rows{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(Scan(db(), ks), (Rows{{"a", "2"}, {"c", "2"}}));
  // Bounds and a snapshot together.
  o.lower_bound = "b";
  EXPECT_EQ(Scan(db(), ks, o), (Rows{{"b", "1"}}));
}

TEST_P(StorageConformance, LiveIteratorIsStableWhileWritesHappen) {
  uint32_t ks = Ks("stable");
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db().Put(ks, "k" + std::to_string(100 + i), "old").ok());
  }
  auto made = db().NewIterator(ks);
  ASSERT_TRUE(made.ok());
  Iterator& it = *made;
  it.SeekToFirst();
  int seen = 0;
  // Interleave writes with the walk: overwrite, delete, insert before and
  // after the cursor. The iterator keeps the view of its creation.
  for (; it.Valid(); it.Next(), ++seen) {
    ASSERT_EQ(it.value(), "old") << it.key();
    const std::string k(it.key());
    ASSERT_TRUE(db().Put(ks, k, "new").ok());
    ASSERT_TRUE(db().Put(ks, k + "x", "inserted").ok());
    ASSERT_TRUE(db().Put(ks, "a" + std::to_string(seen), "inserted").ok());
    if (seen + 1 < 50) {
      ASSERT_TRUE(db().Delete(ks, "k" + std::to_string(101 + seen)).ok());
    }
  }
  EXPECT_EQ(seen, 50);
  EXPECT_TRUE(it.status().ok());
  // The walk backwards from the end still sees the original set.
  int back = 0;
  for (it.SeekToLast(); it.Valid(); it.Prev()) ++back;
  EXPECT_EQ(back, 50);
  // The live state moved on: every k1xx was written again after its
  // delete, plus 50 "k1xxx" and 50 "aN" keys.
  EXPECT_EQ(Scan(db(), ks).size(), 150u);
  std::string v;
  ASSERT_TRUE(db().Get(ks, "k149", &v).ok());
  EXPECT_EQ(v, "new");
}

}  // namespace
}  // namespace sb::testing
