// The host consensus driver (host/consensus/driver.h) end to end: real
// consensus plugins, the storage-mem plugin through sb::Storage, several
// groups per node, restarts, and snapshot install through storage.
// Parameterized over the consensus plugins (raft with three nodes, solo
// with one).
#include "host/consensus/driver.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "host/log/host_services.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb {
namespace {

// A key-value state machine kept in storage keyspace "sm.<group>":
// entries "key=value" set a key. Its applied index is kept in
// "smmeta.<group>", written in the same batch. Snapshots are "key=value\n"
// lines, streamed from a storage snapshot and restored from chunks cut
// anywhere.
class KvMachine : public GroupStateMachine {
 public:
  KvMachine(Storage* storage, uint64_t group)
      : storage_(storage), group_(group) {
    auto log = storage->Keyspace("consensus.log");
    EXPECT_TRUE(log.ok());
    log_ = log.ok() ? *log : 0;
    auto ks = storage->Keyspace("sm." + std::to_string(group));
    EXPECT_TRUE(ks.ok());
    ks_ = ks.ok() ? *ks : 0;
    auto meta = storage->Keyspace("smmeta." + std::to_string(group));
    EXPECT_TRUE(meta.ok());
    meta_ = meta.ok() ? *meta : 0;
  }
  Status Apply(const EntryView& e, WriteBatch* batch) override {
    // The driver applies an entry only once this node stored it, and the
    // stored copy is the committed one (an early apply must not run ahead
    // of the write that replaces a stale suffix): the log keyspace holds
    // this entry at this index (group | index, 8 bytes each, big endian ->
    // type | meta length (4, host order) | meta | payload), the same payload
    // for a normal entry.
    std::string key;
    for (uint64_t v : {group_, e.index}) {
      for (int shift = 56; shift >= 0; shift -= 8) {
        key.push_back(static_cast<char>(v >> shift));
      }
    }
    std::string stored;
    Status got = storage_->Get(log_, key, &stored);
    if (!got.ok()) {
      return Status::Internal("applying index " + std::to_string(e.index) +
                              " not in the stored log: " + got.ToString());
    }
    if (stored.size() < 5) return Status::Internal("stored entry too short");
    uint32_t meta_len = 0;  // host byte order (storage_log.cc)
    memcpy(&meta_len, stored.data() + 1, sizeof meta_len);
    if (stored.size() < 5 + meta_len ||
        (e.type == EntryType::kNormal &&
         std::string_view(stored).substr(5 + meta_len) != e.data)) {
      return Status::Internal("applying index " + std::to_string(e.index) +
                              ": the stored entry differs");
    }
    SB_RETURN_IF_ERROR(batch->Put(meta_, "applied", std::to_string(e.index)));
    if (e.type != EntryType::kNormal) return Status::OK();
    size_t eq = e.data.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument("not key=value");
    }
    return batch->Put(ks_, e.data.substr(0, eq), e.data.substr(eq + 1));
  }

  class Reader : public StateReader {
   public:
    Reader(uint64_t index, sb::Snapshot snap, Iterator it)
        : index_(index), snap_(std::move(snap)), it_(std::move(it)) {
      it_.SeekToFirst();
    }
    uint64_t index() const override { return index_; }
    StatusOr<std::string> Next(size_t max_bytes, bool* done) override {
      std::string out;
      for (; it_.Valid(); it_.Next()) {
        size_t n = it_.key().size() + it_.value().size() + 2;
        if (!out.empty() && out.size() + n > max_bytes) break;
        out.append(it_.key()).push_back('=');
        out.append(it_.value()).push_back('\n');
      }
      SB_RETURN_IF_ERROR(it_.status());
      *done = !it_.Valid();
      return out;
    }

   private:
    uint64_t index_;
    sb::Snapshot snap_;
    Iterator it_;
  };

  StatusOr<std::unique_ptr<StateReader>> OpenSnapshot() override {
    auto snap = storage_->NewSnapshot();
    if (!snap.ok()) return snap.status();
    std::string v;
    Status s = storage_->Get(meta_, "applied", &v, &*snap);
    if (!s.ok() && !s.IsNotFound()) return s;
    uint64_t index = s.ok() ? std::stoull(v) : 0;
    IterOptions io;
    io.snapshot = &*snap;
    auto it = storage_->NewIterator(ks_, io);
    if (!it.ok()) return it.status();
    return std::unique_ptr<StateReader>(
        new Reader(index, std::move(snap.value()), std::move(it.value())));
  }

  Status RestoreChunk(uint64_t index, bool first, bool last,
                      std::string_view chunk, WriteBatch* b) override {
    ++restore_chunks_;
    if (first) {
      carry_.clear();
      SB_RETURN_IF_ERROR(
          b->DeleteRange(ks_, std::string(1, '\0'), std::string(64, '\xff')));
    }
    std::string data = carry_ + std::string(chunk);
    std::string_view rest = data;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) break;  // cut inside a line
      std::string_view line = rest.substr(0, nl);
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) {
        return Status::Corruption("bad snapshot line");
      }
      SB_RETURN_IF_ERROR(b->Put(ks_, line.substr(0, eq), line.substr(eq + 1)));
      rest.remove_prefix(nl + 1);
    }
    carry_.assign(rest);
    if (last) {
      if (!carry_.empty()) return Status::Corruption("snapshot ends mid-line");
      SB_RETURN_IF_ERROR(b->Put(meta_, "applied", std::to_string(index)));
    }
    return Status::OK();
  }
  // Replay: the test names where it starts; entries are recorded.
  uint64_t ReplayFrom() const override { return replay_from_; }
  Status Replay(const EntryView& e) override {
    replayed_.push_back({e.index, std::string(e.data)});
    return Status::OK();
  }
  void set_replay_from(uint64_t index) { replay_from_ = index; }
  const std::vector<std::pair<uint64_t, std::string>>& replayed() const {
    return replayed_;
  }
  uint64_t StoredApplied() const {
    std::string v;
    return storage_->Get(meta_, "applied", &v).ok() ? std::stoull(v) : 0;
  }
  int restore_chunks() const { return restore_chunks_; }
  std::string Get(const std::string& key) const {
    std::string v;
    return storage_->Get(ks_, key, &v).ok() ? v : std::string();
  }

 private:
  Storage* storage_;
  uint64_t group_ = 0;
  uint32_t log_ = 0;
  uint32_t ks_ = 0;
  uint32_t meta_ = 0;
  std::string carry_;
  int restore_chunks_ = 0;
  uint64_t replay_from_ = 0;
  std::vector<std::pair<uint64_t, std::string>> replayed_;
};

struct Msg {
  uint64_t from, to, group;
  std::string data;
};

// One node: its storage outlives restarts of its driver.
struct Node {
  uint64_t id;
  std::unique_ptr<PluginHostServices> hs;
  std::unique_ptr<Storage> storage;
  std::map<uint64_t, std::unique_ptr<KvMachine>> sms;
  std::unique_ptr<ConsensusDriver> driver;
};

class DriverTest
    : public ::testing::TestWithParam<std::tuple<std::string, int>> {
 protected:
  std::string plugin() const { return std::get<0>(GetParam()); }
  int nodes() const { return std::get<1>(GetParam()); }

  void SetUp() override {
    PluginLoader loader;
    auto storage_lib = loader.Load("storage-mem", SB_KIND_STORAGE);
    ASSERT_TRUE(storage_lib.ok()) << storage_lib.status().ToString();
    auto cons = loader.Load(plugin(), SB_KIND_CONSENSUS);
    ASSERT_TRUE(cons.ok()) << cons.status().ToString();
    consensus_ = *cons;
    sb_config empty{sizeof(sb_config), nullptr, 0};
    for (int i = 1; i <= nodes(); ++i) {
      auto n = std::make_unique<Node>();
      n->id = i;
      n->hs = std::make_unique<PluginHostServices>("node" + std::to_string(i));
      auto st = Storage::Open(*storage_lib, *n->hs->table(), "", empty);
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      n->storage = std::make_unique<Storage>(std::move(st.value()));
      for (uint64_t g : kGroups) {
        n->sms[g] = std::make_unique<KvMachine>(n->storage.get(), g);
      }
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) StartDriver(n.get());
  }

  void StartDriver(Node* n) {
    uint64_t id = n->id;
    n->driver = std::make_unique<ConsensusDriver>(
        id, n->storage.get(), consensus_, n->hs->table(),
        [this, id](uint64_t to, uint64_t group, std::string_view m) {
          net_.push_back({id, to, group, std::string(m)});
        });
    ASSERT_TRUE(n->driver->Init().ok());
    std::vector<uint64_t> voters;
    for (int i = 1; i <= nodes(); ++i) voters.push_back(i);
    for (uint64_t g : kGroups) {
      GroupOptions o;
      o.group_id = g;
      o.seed = g * 100 + id + restarts_;
      o.bootstrap_voters = voters;
      o.snapshot_every = snapshot_every_;
      o.snapshot_bytes = snapshot_bytes_;
      o.snapshot_piece_bytes = snapshot_piece_bytes_;
      o.config = {{"max_batch_bytes", "64", SB_CONFIG_INTEGER}};
      if (plugin() == "solo") o.config.clear();
      Status s = n->driver->AddGroup(o, n->sms[g].get());
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  void Restart(int i) {
    Node* n = nodes_[i - 1].get();
    n->driver.reset();
    ++restarts_;
    StartDriver(n);
  }

  // One round: tick every driver, run cycles, deliver messages.
  void Round() {
    for (auto& n : nodes_) {
      if (n->driver == nullptr) continue;
      n->driver->Tick();
      RunCycles(n.get());
    }
    std::deque<Msg> batch;
    batch.swap(net_);
    for (Msg& m : batch) {
      if (cut_.count(m.from) || cut_.count(m.to)) continue;
      Node* n = nodes_[m.to - 1].get();
      Status s = n->driver->Deliver(m.group, m.data);
      EXPECT_TRUE(s.ok()) << s.ToString();
      RunCycles(n);
    }
  }

  void RunCycles(Node* n) {
    for (int i = 0; i < 1000; ++i) {
      auto r = n->driver->RunCycle();
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (*r == 0) return;
    }
    ADD_FAILURE() << "driver cycles never settle";
  }

  uint64_t Leader(uint64_t group) {
    for (auto& n : nodes_) {
      if (cut_.count(n->id)) continue;
      if (n->driver->group(group)->GetStatus().role == Role::kLeader) {
        return n->id;
      }
    }
    return 0;
  }

  // Proposes key=value in `group` and runs until `expected` nodes hold it.
  bool Put(uint64_t group, const std::string& key, const std::string& value,
           int expected) {
    bool proposed = false;
    for (int r = 0; r < 2000; ++r) {
      uint64_t l = Leader(group);
      if (!proposed && l != 0) {
        proposed = nodes_[l - 1]
                       ->driver->group(group)
                       ->Propose(key + "=" + value)
                       .ok();
      }
      int have = 0;
      for (auto& n : nodes_) have += n->sms[group]->Get(key) == value;
      if (have >= expected) return true;
      Round();
    }
    return false;
  }

  static constexpr uint64_t kGroups[] = {10, 20};
  std::shared_ptr<PluginLibrary> consensus_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::deque<Msg> net_;
  std::set<uint64_t> cut_;
  int restarts_ = 0;
  uint64_t snapshot_every_ = 5;
  uint64_t snapshot_bytes_ = 0;
  uint64_t snapshot_piece_bytes_ = 1 << 20;
};

TEST_P(DriverTest, ReplicatesSeveralGroups) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Put(10, "a", std::to_string(i), nodes()));
    ASSERT_TRUE(Put(20, "b", std::to_string(i), nodes()));
  }
  for (auto& n : nodes_) {
    EXPECT_EQ(n->sms[10]->Get("a"), "9");
    EXPECT_EQ(n->sms[20]->Get("b"), "9");
    EXPECT_EQ(n->sms[10]->Get("b"), "");  // groups do not mix
  }
}

TEST_P(DriverTest, StateSurvivesDriverRestart) {
  ASSERT_TRUE(Put(10, "k", "before", nodes()));
  for (int i = 1; i <= nodes(); ++i) Restart(i);
  ASSERT_TRUE(Put(10, "k", "after", nodes()));
  ASSERT_TRUE(Put(20, "j", "x", nodes()));
  for (auto& n : nodes_) {
    EXPECT_EQ(n->sms[10]->Get("k"), "after");
    ConsensusStatus st = n->driver->group(10)->GetStatus();
    EXPECT_EQ(st.applied, st.commit);
  }
}

TEST_P(DriverTest, LaggingNodeCatchesUpThroughStoredSnapshot) {
  if (nodes() < 3) GTEST_SKIP() << "needs followers";
  ASSERT_TRUE(Put(10, "k0", "v", nodes()));
  uint64_t lag = Leader(10) % 3 + 1;
  cut_.insert(lag);
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(Put(10, "k" + std::to_string(i % 4), std::to_string(i), 2));
  }
  cut_.clear();
  ASSERT_TRUE(Put(10, "final", "1", 3));
  Node* n = nodes_[lag - 1].get();
  EXPECT_EQ(n->sms[10]->Get("k1"), "29");
  EXPECT_EQ(n->sms[10]->Get("k0"), "28");
  EXPECT_TRUE(n->driver->group(10)->GetStatus().first_index > 1);
  // And it restarts cleanly from the installed snapshot.
  Restart(static_cast<int>(lag));
  ASSERT_TRUE(Put(10, "final", "2", 3));
}

// A state larger than the plugin's chunk size (max_batch_bytes = 64) is
// installed chunk by chunk, each restored into its own batch.
TEST_P(DriverTest, LaggingNodeInstallsAManyChunkSnapshot) {
  if (nodes() < 3) GTEST_SKIP() << "needs followers";
  ASSERT_TRUE(Put(10, "k0", "v", nodes()));
  uint64_t lag = Leader(10) % 3 + 1;
  cut_.insert(lag);
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(
        Put(10, "key" + std::to_string(i), std::string(20, 'a' + i % 26), 2));
  }
  cut_.clear();
  ASSERT_TRUE(Put(10, "final", "1", 3));
  Node* n = nodes_[lag - 1].get();
  EXPECT_GT(n->sms[10]->restore_chunks(), 5);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(n->sms[10]->Get("key" + std::to_string(i)),
              std::string(20, 'a' + i % 26));
  }
}

// A crash in the middle of an install (chunks stored, install marker set,
// the state machine half restored) is resumed when the group is added
// again: the state is the snapshot's, the marker is gone, and the node
// rejoins.
TEST_P(DriverTest, InterruptedInstallResumesOnRestart) {
  if (nodes() < 3) GTEST_SKIP() << "needs followers";
  ASSERT_TRUE(Put(10, "k0", "v", nodes()));
  uint64_t lead = Leader(10);
  uint64_t lag = lead % 3 + 1;
  cut_.insert(lag);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Put(10, "k" + std::to_string(i), std::to_string(i), 2));
  }
  // The leader's current snapshot, as the plugin would have sent it.
  auto ks = ConsensusKeyspaces::Open(nodes_[lead - 1]->storage.get());
  ASSERT_TRUE(ks.ok());
  StorageLog src(nodes_[lead - 1]->storage.get(), *ks, 10);
  ASSERT_TRUE(src.Load().ok());
  uint64_t index = 0;
  std::string meta, data;
  ASSERT_TRUE(src.SnapshotMeta(&index, &meta).ok());
  bool done = false;
  ASSERT_TRUE(src.SnapshotRead(index, 0, 1 << 20, &data, &done).ok());
  ASSERT_TRUE(done);
  ASSERT_FALSE(data.empty());

  // The lagging node "crashes" after storing every chunk (7 bytes each, so
  // lines are cut), the marker, and a first restored chunk.
  Node* n = nodes_[lag - 1].get();
  n->driver.reset();
  StorageLog dst(n->storage.get(), *ks, 10);
  ASSERT_TRUE(dst.Load().ok());
  auto b = n->storage->NewBatch();
  ASSERT_TRUE(b.ok());
  for (size_t off = 0; off < data.size(); off += 7) {
    std::string_view piece = std::string_view(data).substr(off, 7);
    SnapshotChunkView c{off + 7 >= data.size(), index, off, meta, piece};
    ASSERT_TRUE(dst.AddChunk(c, &*b).ok());
  }
  ASSERT_TRUE(dst.AddInstallMarker(index, meta, &*b).ok());
  ASSERT_TRUE(n->sms[10]
                  ->RestoreChunk(index, true, false, data.substr(0, 7), &*b)
                  .ok());
  ASSERT_TRUE(n->storage->Write(*b).ok());

  StartDriver(n);
  // Resumed before the group ran: the state is exactly the snapshot's.
  for (std::string_view rest = data; !rest.empty();) {
    size_t nl = rest.find('\n');
    ASSERT_NE(nl, std::string_view::npos);
    std::string_view line = rest.substr(0, nl);
    size_t eq = line.find('=');
    EXPECT_EQ(n->sms[10]->Get(std::string(line.substr(0, eq))),
              line.substr(eq + 1));
    rest.remove_prefix(nl + 1);
  }
  StorageLog check(n->storage.get(), *ks, 10);
  ASSERT_TRUE(check.Load().ok());
  EXPECT_EQ(check.install_index(), 0u);
  EXPECT_EQ(check.snapshot_index(), index);
  EXPECT_EQ(check.applied(), index);
  cut_.clear();
  ASSERT_TRUE(Put(10, "final", "1", 3));
  EXPECT_EQ(n->sms[10]->Get("k19"), "19");
}

// A state machine that names an entry to replay from (ReplayFrom) gets
// the stored entries from there through the applied index, in order,
// before the group runs; one that names an entry the log no longer holds
// keeps the group from starting.
TEST_P(DriverTest, RestartReplaysWhatTheStateMachineAsksFor) {
  snapshot_every_ = 0;
  for (int i = 1; i <= nodes(); ++i) Restart(i);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(Put(10, "r" + std::to_string(i), std::to_string(i), nodes()));
  }
  Node* n = nodes_[0].get();
  KvMachine* sm = n->sms[10].get();
  const uint64_t applied = sm->StoredApplied();
  ASSERT_GE(applied, 6u);
  sm->set_replay_from(applied - 3);
  Restart(1);
  ASSERT_EQ(sm->replayed().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(sm->replayed()[i].first, applied - 3 + i);
  }
  EXPECT_EQ(sm->replayed().back().second, "r5=5");
  sm->set_replay_from(0);
  ASSERT_TRUE(Put(10, "after", "1", nodes()));

  // The log compacted past the entry asked for: AddGroup fails, saying so.
  snapshot_every_ = 1;
  Restart(1);
  ASSERT_TRUE(Put(10, "compact", "1", nodes()));
  ASSERT_GT(n->driver->group(10)->GetStatus().first_index, 2u);
  n->driver.reset();
  n->driver = std::make_unique<ConsensusDriver>(
      n->id, n->storage.get(), consensus_, n->hs->table(),
      [](uint64_t, uint64_t, std::string_view) {});
  ASSERT_TRUE(n->driver->Init().ok());
  sm->set_replay_from(1);
  GroupOptions o;
  o.group_id = 10;
  Status s = n->driver->AddGroup(o, sm);
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.ToString().find("replaying [1,"), std::string::npos)
      << s.ToString();
  sm->set_replay_from(0);
  n->driver.reset();
  StartDriver(n);
  ASSERT_TRUE(Put(10, "final", "1", nodes()));
}

// A compaction copies one piece of the state per driver cycle: with pieces
// of 8 bytes it spans many cycles, writes commit meanwhile, and the
// snapshot it stores (at the index where it started) brings a lagging node
// to the same state as the others.
TEST_P(DriverTest, CompactionCopiesOnePiecePerCycleWhileWritesGoOn) {
  if (nodes() < 3) GTEST_SKIP() << "needs followers";
  snapshot_every_ = 12;
  snapshot_piece_bytes_ = 8;
  for (int i = 1; i <= nodes(); ++i) Restart(i);
  ASSERT_TRUE(Put(10, "k0", "v", nodes()));
  const uint64_t lag = Leader(10) % 3 + 1;
  cut_.insert(lag);
  int during = 0;
  for (int i = 0; i < 60; ++i) {
    bool compacting = false;
    for (auto& n : nodes_) {
      if (n->id != lag) compacting |= n->driver->compacting(10);
    }
    ASSERT_TRUE(Put(10, "k" + std::to_string(i % 9), std::to_string(i), 2));
    during += compacting;
  }
  EXPECT_GT(during, 0) << "no write committed during a compaction";
  // Every compaction finishes (bounded).
  for (int r = 0; r < 500; ++r) {
    bool any = false;
    for (auto& n : nodes_) any |= n->driver->compacting(10);
    if (!any) break;
    Round();
  }
  for (auto& n : nodes_) {
    if (n->id == lag) continue;
    EXPECT_FALSE(n->driver->compacting(10));
    EXPECT_GT(n->driver->group(10)->GetStatus().first_index, 12u);
  }
  cut_.clear();
  ASSERT_TRUE(Put(10, "final", "1", 3));
  Node* n = nodes_[lag - 1].get();
  EXPECT_GT(n->sms[10]->restore_chunks(), 0);
  for (int k = 0; k < 9; ++k) {
    const std::string key = "k" + std::to_string(k);
    EXPECT_EQ(n->sms[10]->Get(key), nodes_[Leader(10) - 1]->sms[10]->Get(key))
        << key;
  }
  EXPECT_EQ(n->sms[10]->Get("k5"), "59");
}

// [compaction] log_bytes: with no entry threshold, the log is compacted
// once it holds that many bytes of entries, and not before.
TEST_P(DriverTest, CompactsByLogBytes) {
  snapshot_every_ = 0;
  snapshot_bytes_ = 400;
  for (int i = 1; i <= nodes(); ++i) Restart(i);
  ASSERT_TRUE(Put(10, "a", "1", nodes()));
  for (auto& n : nodes_) {
    EXPECT_EQ(n->driver->group(10)->GetStatus().first_index, 1u);
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        Put(10, "k" + std::to_string(i), std::string(40, 'x'), nodes()));
  }
  for (auto& n : nodes_) {
    EXPECT_GT(n->driver->group(10)->GetStatus().first_index, 1u);
  }
  // Group 20 got nothing past its bootstrap entries: never compacted.
  for (auto& n : nodes_) {
    EXPECT_EQ(n->driver->group(20)->GetStatus().first_index, 1u);
  }
}

TEST_P(DriverTest, UnknownGroupIsRefused) {
  EXPECT_TRUE(nodes_[0]->driver->Deliver(999, "x").IsNotFound());
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, DriverTest,
    ::testing::Values(std::make_tuple(std::string("raft"), 3),
                      std::make_tuple(std::string("solo"), 1)),
    [](const auto& info) { return std::get<0>(info.param); });

}  // namespace
}  // namespace sb
