// An order end to end in one process: three radiants, each with
// storage-mem, the raft plugin under the host's ConsensusDriver and an
// OrderStateMachine; messages pass through an in-test queue that can cut a
// node off. Commands are proposed to the herald and their results come
// back through ApplyResults; a node cut off while the log is compacted
// catches up through a streamed snapshot (tiny plugin chunks) that carries
// the client sessions, and ends with exactly the same keys as the others.
#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "host/consensus/driver.h"
#include "host/log/host_services.h"
#include "host/order/herald.h"
#include "host/order/shard.h"
#include "host/order/state_machine.h"
#include "tests/unit/order/order_fixture.h"

namespace sb::order {
namespace {

constexpr uint64_t kGroup = 1;

struct Msg {
  uint64_t from, to;
  std::string data;
};

struct Radiant {
  uint64_t id = 0;
  std::unique_ptr<testing::Replica> replica;
  std::unique_ptr<ConsensusDriver> driver;
  std::unique_ptr<Herald> herald;  // only in the Herald tests
};

class OrderClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PluginLoader loader;
    auto raft = loader.Load("raft", SB_KIND_CONSENSUS);
    ASSERT_TRUE(raft.ok()) << raft.status().ToString();
    for (uint64_t id = 1; id <= 3; ++id) {
      auto r = std::make_unique<Radiant>();
      r->id = id;
      r->replica = testing::MakeReplica(testing::AllShards(8));
      ASSERT_TRUE(r->replica);
      r->driver = std::make_unique<ConsensusDriver>(
          id, r->replica->storage.get(), *raft, r->replica->hs->table(),
          [this, id](uint64_t to, uint64_t, std::string_view m) {
            net_.push_back({id, to, std::string(m)});
          });
      ASSERT_TRUE(r->driver->Init().ok());
      GroupOptions o;
      o.group_id = kGroup;
      o.seed = 40 + id;
      o.bootstrap_voters = {1, 2, 3};
      CompactionOptions c;
      c.log_entries = 8;
      SetCompaction(c, &o);
      // Small appends and snapshot chunks: a snapshot takes many chunks.
      o.config = {{"max_batch_bytes", "96", SB_CONFIG_INTEGER}};
      ASSERT_TRUE(r->driver->AddGroup(o, r->replica->sm.get()).ok());
      radiants_.push_back(std::move(r));
    }
  }

  void RunCycles(Radiant* r) {
    for (int i = 0; i < 1000; ++i) {
      auto n = r->driver->RunCycle();
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      if (r->herald) r->herald->Pump();
      if (*n == 0) return;
    }
    ADD_FAILURE() << "driver cycles never settle";
  }

  void Round() {
    for (auto& r : radiants_) {
      r->driver->Tick();
      RunCycles(r.get());
    }
    std::deque<Msg> batch;
    batch.swap(net_);
    for (Msg& m : batch) {
      if (cut_.count(m.from) || cut_.count(m.to)) continue;
      Radiant* r = radiants_[m.to - 1].get();
      ASSERT_TRUE(r->driver->Deliver(kGroup, m.data).ok());
      RunCycles(r);
    }
  }

  Radiant* Leader() {
    for (auto& r : radiants_) {
      if (cut_.count(r->id)) continue;
      if (r->driver->group(kGroup)->GetStatus().role == Role::kLeader) {
        return r.get();
      }
    }
    return nullptr;
  }

  // Proposes `c` to the herald and runs until its result is released.
  StatusOr<CommandResult> Propose(const Command& c) {
    std::string bytes = testing::Encoded(c);
    for (int attempt = 0; attempt < 2000; ++attempt) {
      Radiant* h = Leader();
      if (h == nullptr) {
        Round();
        continue;
      }
      uint64_t index = 0;
      Status s = h->driver->group(kGroup)->Propose(bytes, &index);
      if (!s.ok()) {
        Round();
        continue;
      }
      auto f = h->replica->sm->results().Watch(index, CommandDigest(bytes));
      for (int i = 0; i < 500; ++i) {
        if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
          return f.get();
        }
        Round();
      }
      return Status::OutcomeUnknown("no result within 500 rounds");
    }
    return Status::Unavailable("no herald");
  }

  void StartHeralds() {
    for (auto& r : radiants_) {
      HeraldOptions o;
      o.request_timeout_ms = 5000;
      o.max_value_bytes = 16;
      o.now_ms = [this] { return clock_ms_; };
      o.wall_ms = [this] { return 1'000'000 + clock_ms_; };
      r->herald = std::make_unique<Herald>(r->driver.get(), kGroup,
                                           r->replica->sm.get(), o);
    }
  }

  // Runs rounds until `f` is ready (bounded).
  template <typename T>
  bool RunUntil(std::future<T>& f) {
    for (int i = 0; i < 2000; ++i) {
      if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
        return true;
      }
      clock_ms_ += 1;
      Round();
    }
    return false;
  }

  Radiant* ElectedHerald() {
    for (int i = 0; i < 2000 && Leader() == nullptr; ++i) Round();
    return Leader();
  }

  uint64_t clock_ms_ = 0;
  std::vector<std::unique_ptr<Radiant>> radiants_;
  std::deque<Msg> net_;
  std::set<uint64_t> cut_;
};

TEST_F(OrderClusterTest, CutOffRadiantCatchesUpWithDataAndSessions) {
  auto put = [](const std::string& k, const std::string& v) {
    return Command::Put(ShardOf(k, 8), k, v);
  };
  auto first = Propose(put("warmup", "1").WithSession(1, 1, 1000));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Radiant* h = Leader();
  ASSERT_NE(h, nullptr);
  uint64_t lag = h->id % 3 + 1;
  cut_.insert(lag);
  for (uint64_t i = 0; i < 30; ++i) {
    std::string k = "key-" + std::to_string(i);
    auto r = Propose(put(k, std::string(10 + i, 'a' + i % 26))
                         .WithSession(100 + i % 5, 1 + i / 5, 2000 + i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->code, ResultCode::kOk);
  }
  // A retried write answers its first result, applied once.
  Command app =
      Command::Append(ShardOf("log", 8), "log", "x").WithSession(555, 1, 5000);
  auto a1 = Propose(app);
  auto a2 = Propose(app);
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_TRUE(a2->duplicate);
  EXPECT_EQ(a2->index, a1->index);

  cut_.clear();
  auto last = Propose(put("final", "1").WithSession(1, 2, 9000));
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  // Run until every radiant applied the same index.
  for (int i = 0; i < 2000; ++i) {
    uint64_t a = radiants_[0]->replica->sm->StoredAppliedIndex().value();
    bool same = true;
    for (auto& r : radiants_) {
      same = same && r->replica->sm->StoredAppliedIndex().value() == a;
    }
    if (same && a >= last->index) break;
    Round();
  }
  Radiant* lagging = radiants_[lag - 1].get();
  // It caught up through a snapshot (its log starts after index 1).
  EXPECT_GT(lagging->driver->group(kGroup)->GetStatus().first_index, 1u);
  auto want = testing::Dump(radiants_[0]->replica.get());
  for (auto& r : radiants_) {
    EXPECT_EQ(testing::Dump(r->replica.get()), want) << "radiant " << r->id;
  }
  // Sessions travelled: the cut-off radiant holds client 555's session.
  std::string v;
  EXPECT_TRUE(lagging->replica->sm->Get(ShardOf("log", 8), "log", &v).ok());
  EXPECT_EQ(v, "x");
  EXPECT_FALSE(want[1].empty());
}

// While a read_index is outstanding, reads queued meanwhile wait and go
// out together behind the next one; an unanswered read_index (its
// messages lost) holds the next back only for kReadIndexRetryMs.
TEST_F(OrderClusterTest, OneReadIndexOutstandingAtATime) {
  StartHeralds();
  Radiant* h = ElectedHerald();
  ASSERT_NE(h, nullptr);
  const uint16_t s = ShardOf("k", 8);
  auto w = h->herald->Propose(Command::Put(s, "k", "v").WithSession(9, 1, 0));
  ASSERT_TRUE(RunUntil(w));
  const uint64_t before = h->herald->read_batches();
  auto a = h->herald->LinearizableGet(s, "k");
  h->herald->Pump();  // issues a's read_index; no message delivered yet
  EXPECT_EQ(h->herald->read_batches(), before + 1);
  auto b = h->herald->LinearizableGet(s, "k");
  auto c = h->herald->LinearizableGet(s, "k");
  h->herald->Pump();  // a's is outstanding: b and c wait
  h->herald->Pump();
  EXPECT_EQ(h->herald->read_batches(), before + 1);
  ASSERT_TRUE(RunUntil(a) && RunUntil(b) && RunUntil(c));
  EXPECT_EQ(h->herald->read_batches(), before + 2);  // b and c together
  EXPECT_EQ(c.get().value(), std::optional<std::string>("v"));

  // The followers stop hearing the herald: its next read_index is never
  // answered, and after kReadIndexRetryMs the next reads go out anyway.
  for (auto& r : radiants_) {
    if (r.get() != h) cut_.insert(r->id);
  }
  auto d = h->herald->LinearizableGet(s, "k");
  h->herald->Pump();
  auto e = h->herald->LinearizableGet(s, "k");
  h->herald->Pump();
  EXPECT_EQ(h->herald->read_batches(), before + 3);
  clock_ms_ += Herald::kReadIndexRetryMs - 1;
  h->herald->Pump();
  EXPECT_EQ(h->herald->read_batches(), before + 3);
  clock_ms_ += 1;
  h->herald->Pump();
  EXPECT_EQ(h->herald->read_batches(), before + 4);
  // Heard again: a read issued now is served; d and e, whose read_index
  // messages were lost, time out (outcome unknown), never answer stale.
  cut_.clear();
  clock_ms_ += Herald::kReadIndexRetryMs;
  auto f = h->herald->LinearizableGet(s, "k");
  ASSERT_TRUE(RunUntil(f));
  EXPECT_EQ(f.get().value(), std::optional<std::string>("v"));
  clock_ms_ += 5000;
  ASSERT_TRUE(RunUntil(d) && RunUntil(e));
  for (auto* x : {&d, &e}) {
    auto v = x->get();
    if (!v.ok()) {
      EXPECT_TRUE(v.status().IsOutcomeUnknown()) << v.status().ToString();
    } else {
      EXPECT_EQ(*v, std::optional<std::string>("v"));
    }
  }
}

TEST_F(OrderClusterTest, HeraldAnswersWritesAndBatchesReads) {
  StartHeralds();
  Radiant* h = ElectedHerald();
  ASSERT_NE(h, nullptr);
  const uint16_t s = ShardOf("k", 8);
  auto w = h->herald->Propose(Command::Put(s, "k", "v1").WithSession(9, 1, 0));
  ASSERT_TRUE(RunUntil(w));
  auto wr = w.get();
  ASSERT_TRUE(wr.ok()) << wr.status().ToString();
  EXPECT_EQ(wr->code, ResultCode::kOk);
  // Three reads queued together share one read_index.
  uint64_t before = h->herald->read_batches();
  auto r1 = h->herald->LinearizableGet(s, "k");
  auto r2 = h->herald->LinearizableGet(s, "k");
  auto r3 = h->herald->LinearizableGet(ShardOf("absent", 8), "absent");
  ASSERT_TRUE(RunUntil(r3));
  ASSERT_TRUE(RunUntil(r1) && RunUntil(r2));
  EXPECT_EQ(h->herald->read_batches(), before + 1);
  auto v1 = r1.get(), v2 = r2.get(), v3 = r3.get();
  ASSERT_TRUE(v1.ok() && v2.ok() && v3.ok());
  EXPECT_EQ(*v1, std::optional<std::string>("v1"));
  EXPECT_EQ(*v2, std::optional<std::string>("v1"));
  EXPECT_FALSE(v3->has_value());
  // A retry through the herald answers the first result.
  auto again =
      h->herald->Propose(Command::Put(s, "k", "v1").WithSession(9, 1, 0));
  ASSERT_TRUE(RunUntil(again));
  auto ar = again.get();
  ASSERT_TRUE(ar.ok());
  EXPECT_TRUE(ar->duplicate);
  EXPECT_EQ(ar->index, wr->index);
  // Appends carry the configured value limit (16 bytes here).
  auto big = h->herald->Propose(Command::Append(s, "k", std::string(15, 'x')));
  ASSERT_TRUE(RunUntil(big));
  auto br = big.get();
  ASSERT_TRUE(br.ok());
  EXPECT_EQ(br->code, ResultCode::kTooLarge);
  EXPECT_EQ(br->new_size, 17u);
}

TEST_F(OrderClusterTest, FollowerRefusesAndNamesTheHerald) {
  StartHeralds();
  Radiant* h = ElectedHerald();
  ASSERT_NE(h, nullptr);
  // Let the followers learn who leads.
  auto w = h->herald->Propose(Command::Put(0, "a", "b"));
  ASSERT_TRUE(RunUntil(w));
  Radiant* f = radiants_[h->id % 3].get();
  auto fw = f->herald->Propose(Command::Put(0, "a", "c"));
  auto fr = f->herald->LinearizableGet(0, "a");
  ASSERT_TRUE(RunUntil(fw) && RunUntil(fr));
  auto fwr = fw.get();
  EXPECT_EQ(fwr.status().code(), Code::kUnavailable);
  EXPECT_NE(fwr.status().message().find("not the herald"), std::string::npos);
  EXPECT_EQ(fr.get().status().code(), Code::kUnavailable);
  EXPECT_EQ(f->herald->leader_hint(), h->id);
}

TEST_F(OrderClusterTest, WriteCutOffFromItsOrderTimesOutAsUnknown) {
  StartHeralds();
  Radiant* h = ElectedHerald();
  ASSERT_NE(h, nullptr);
  cut_.insert(h->id);  // its proposals cannot commit
  auto w = h->herald->Propose(Command::Put(0, "a", "b"));
  h->herald->Pump();  // proposed, waiting
  ASSERT_NE(w.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  clock_ms_ += 5001;
  h->herald->Pump();
  ASSERT_EQ(w.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_TRUE(w.get().status().IsOutcomeUnknown());
}

}  // namespace
}  // namespace sb::order
