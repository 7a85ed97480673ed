// The order state machine (host/order/state_machine.h) over storage-mem:
// the semantics of every command, exactly-once sessions, expiry and bounds
// (deterministic across replicas), wrong-group no-ops, corrupt entries, and
// several entries of one batch seeing each other's writes.
#include "host/order/state_machine.h"

#include <gtest/gtest.h>

#include <random>

#include "host/order/codec.h"
#include "host/order/shard.h"
#include "tests/unit/order/order_fixture.h"

namespace sb::order {
namespace {

using testing::AllShards;
using testing::ApplyBatch;
using testing::ApplyOne;
using testing::Dump;
using testing::Encoded;
using testing::MakeReplica;

std::string GetOr(testing::Replica* r, uint16_t shard, const std::string& k,
                  const std::string& absent = "<absent>") {
  std::string v;
  Status s = r->sm->Get(shard, k, &v);
  if (s.IsNotFound()) return absent;
  EXPECT_TRUE(s.ok()) << s.ToString();
  return v;
}

TEST(OrderStateMachineTest, PutAppendDeleteSemantics) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  CommandResult p = ApplyOne(r.get(), Command::Put(3, "k", "v1"));
  EXPECT_EQ(p.code, ResultCode::kOk);
  EXPECT_EQ(p.index, 1u);
  EXPECT_EQ(GetOr(r.get(), 3, "k"), "v1");
  // The same key in another shard is another entry.
  EXPECT_EQ(GetOr(r.get(), 4, "k"), "<absent>");

  CommandResult a = ApplyOne(r.get(), Command::Append(3, "k", "+x"));
  EXPECT_EQ(a.new_size, 4u);
  EXPECT_EQ(GetOr(r.get(), 3, "k"), "v1+x");
  CommandResult a2 = ApplyOne(r.get(), Command::Append(3, "new", "abc"));
  EXPECT_EQ(a2.new_size, 3u);
  EXPECT_EQ(GetOr(r.get(), 3, "new"), "abc");
  // Over the carried limit: refused, nothing written.
  CommandResult big = ApplyOne(r.get(), Command::Append(3, "new", "defg", 6));
  EXPECT_EQ(big.code, ResultCode::kTooLarge);
  EXPECT_EQ(GetOr(r.get(), 3, "new"), "abc");

  CommandResult d = ApplyOne(r.get(), Command::Delete(3, "k"));
  EXPECT_TRUE(d.existed);
  EXPECT_EQ(GetOr(r.get(), 3, "k"), "<absent>");
  CommandResult d2 = ApplyOne(r.get(), Command::Delete(3, "k"));
  EXPECT_EQ(d2.code, ResultCode::kOk);
  EXPECT_FALSE(d2.existed);
}

TEST(OrderStateMachineTest, CompareAndSetSemantics) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  std::string v1 = "v1", v2 = "v2", wrong = "nope";
  // Expected absent on an absent key: set.
  CommandResult c1 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", nullptr, &v1));
  EXPECT_TRUE(c1.cas_succeeded);
  EXPECT_FALSE(c1.has_current);
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "v1");
  // Expected absent on a present key: mismatch, current value returned.
  CommandResult c2 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", nullptr, &v2));
  EXPECT_FALSE(c2.cas_succeeded);
  EXPECT_TRUE(c2.has_current);
  EXPECT_EQ(c2.current, "v1");
  // Wrong expected value: mismatch with current.
  CommandResult c3 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", &wrong, &v2));
  EXPECT_FALSE(c3.cas_succeeded);
  EXPECT_EQ(c3.current, "v1");
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "v1");
  // Right expected value: swapped.
  CommandResult c4 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", &v1, &v2));
  EXPECT_TRUE(c4.cas_succeeded);
  EXPECT_EQ(c4.current, "v1");
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "v2");
  // Absent new value: delete on match.
  CommandResult c5 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", &v2, nullptr));
  EXPECT_TRUE(c5.cas_succeeded);
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "<absent>");
  // Expected value on an absent key: mismatch, no current.
  CommandResult c6 =
      ApplyOne(r.get(), Command::CompareAndSet(1, "k", &v1, &v2));
  EXPECT_FALSE(c6.cas_succeeded);
  EXPECT_FALSE(c6.has_current);
}

TEST(OrderStateMachineTest, EntriesOfOneBatchSeeEachOther) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  std::string exp = "ab";
  std::string nv = "swapped";
  auto res = ApplyBatch(
      r.get(), {Encoded(Command::Append(2, "k", "a")),
                Encoded(Command::Append(2, "k", "b")),
                Encoded(Command::CompareAndSet(2, "k", &exp, &nv)),
                Encoded(Command::Delete(2, "k")),
                Encoded(Command::Append(2, "k", "c").WithSession(9, 1, 5)),
                Encoded(Command::Append(2, "k", "c").WithSession(9, 1, 6))});
  ASSERT_EQ(res.size(), 6u);
  for (auto& x : res) ASSERT_TRUE(x.ok()) << x.status().ToString();
  EXPECT_EQ(res[1]->new_size, 2u);
  EXPECT_TRUE(res[2]->cas_succeeded);
  EXPECT_TRUE(res[3]->existed);
  EXPECT_FALSE(res[4]->duplicate);
  EXPECT_TRUE(res[5]->duplicate);
  EXPECT_EQ(GetOr(r.get(), 2, "k"), "c");
}

TEST(OrderStateMachineTest, RetriedWriteAppliesOnceAndAnswersTheFirstResult) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  Command c = Command::Append(5, "k", "x").WithSession(1234, 1, 1000);
  CommandResult first = ApplyOne(r.get(), c);
  c.timestamp_ms = 2000;  // a retry proposed later by the herald
  CommandResult again = ApplyOne(r.get(), c);
  EXPECT_EQ(GetOr(r.get(), 5, "k"), "x");
  EXPECT_TRUE(again.duplicate);
  again.duplicate = false;
  EXPECT_EQ(again, first);  // same index, same size
  EXPECT_EQ(again.index, 1u);
  // The next sequence applies.
  CommandResult next = ApplyOne(
      r.get(), Command::Append(5, "k", "y").WithSession(1234, 2, 3000));
  EXPECT_FALSE(next.duplicate);
  EXPECT_EQ(GetOr(r.get(), 5, "k"), "xy");
  // A write without a session is never deduplicated.
  ApplyOne(r.get(), Command::Append(5, "k", "z"));
  ApplyOne(r.get(), Command::Append(5, "k", "z"));
  EXPECT_EQ(GetOr(r.get(), 5, "k"), "xyzz");
}

TEST(OrderStateMachineTest, StaleSequenceAndUnknownSession) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  ApplyOne(r.get(), Command::Put(1, "k", "a").WithSession(7, 1, 10));
  ApplyOne(r.get(), Command::Put(1, "k", "b").WithSession(7, 5, 20));
  CommandResult stale =
      ApplyOne(r.get(), Command::Put(1, "k", "c").WithSession(7, 3, 30));
  EXPECT_EQ(stale.code, ResultCode::kStaleSequence);
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "b");
  // Sessions are per shard, sequences per client: client 7's next write in
  // another shard opens a session there, and the same sequence in shard 1
  // is still the stored one.
  CommandResult other =
      ApplyOne(r.get(), Command::Put(2, "k", "d").WithSession(7, 6, 40));
  EXPECT_EQ(other.code, ResultCode::kOk);
  EXPECT_FALSE(other.duplicate);
  EXPECT_EQ(GetOr(r.get(), 2, "k"), "d");
  CommandResult again =
      ApplyOne(r.get(), Command::Put(1, "k", "b").WithSession(7, 5, 50));
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "b");
}

TEST(OrderStateMachineTest, SessionsExpireByHeraldTimeInTheLog) {
  OrderOptions o = AllShards();
  o.session_expiry_ms = 1600;  // index granule: 1600 / 16 = 100 ms
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  ApplyOne(r.get(), Command::Put(1, "k", "a").WithSession(7, 1, 10'000));
  // Another client's write at exactly the edge keeps 7 alive...
  ApplyOne(r.get(), Command::Put(1, "x", "1").WithSession(8, 1, 11'600));
  CommandResult alive =
      ApplyOne(r.get(), Command::Put(1, "k", "a").WithSession(7, 1, 11'600));
  EXPECT_TRUE(alive.duplicate);
  // ... until a write of the shard carries a time past last seen + window.
  ApplyOne(r.get(), Command::Put(1, "x", "2").WithSession(8, 2, 13'201));
  CommandResult retry =
      ApplyOne(r.get(), Command::Put(1, "k", "a").WithSession(7, 1, 13'202));
  // Sequence 1 opens a fresh session: applied again (documented window).
  EXPECT_FALSE(retry.duplicate);
  // Expiry is per shard: a session in shard 2 idle as long survives
  // writes of shard 1, and expires with the next write of its own shard.
  ApplyOne(r.get(), Command::Put(2, "y", "1").WithSession(9, 1, 13'500));
  ApplyOne(r.get(), Command::Put(1, "x", "3").WithSession(8, 3, 99'999));
  CommandResult kept =
      ApplyOne(r.get(), Command::Put(2, "y", "1").WithSession(9, 1, 14'000));
  EXPECT_TRUE(kept.duplicate);
  ApplyOne(r.get(), Command::Put(2, "z", "1").WithSession(10, 1, 99'999));
  CommandResult expired =
      ApplyOne(r.get(), Command::Put(2, "y", "1").WithSession(9, 1, 99'999));
  EXPECT_FALSE(expired.duplicate);
}

// The session index rounds last-seen times up to the granule: a session
// lives at least the window past its last write, at most one granule more,
// and a client writing within one granule leaves its index key alone.
TEST(OrderStateMachineTest, SessionIndexTimesAreRoundedUpToTheGranule) {
  OrderOptions o = AllShards();
  o.session_expiry_ms = 1600;  // granule 100 ms
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  ApplyOne(r.get(), Command::Put(3, "k", "a").WithSession(7, 1, 20'050));
  ApplyOne(r.get(), Command::Put(3, "k", "b").WithSession(7, 2, 20'099));
  auto lru = Dump(r.get())[2];
  ASSERT_EQ(lru.size(), 1u);
  EXPECT_EQ(GetU64(std::string_view(lru.begin()->first).substr(2)), 20'100u);
  // Past last seen + window (21'699) but not past index time + window.
  ApplyOne(r.get(), Command::Put(3, "x", "1").WithSession(8, 1, 21'700));
  CommandResult alive =
      ApplyOne(r.get(), Command::Put(3, "k", "b").WithSession(7, 2, 21'700));
  EXPECT_TRUE(alive.duplicate);
  // That retry moved 7 on to the granule ending at 21'700.
  lru = Dump(r.get())[2];
  ASSERT_EQ(lru.size(), 2u);
  for (const auto& [key, value] : lru) {
    EXPECT_EQ(GetU64(std::string_view(key).substr(2)), 21'700u);
  }
  ApplyOne(r.get(), Command::Put(3, "x", "2").WithSession(8, 2, 23'301));
  CommandResult gone =
      ApplyOne(r.get(), Command::Put(3, "k", "b").WithSession(7, 2, 23'301));
  EXPECT_FALSE(gone.duplicate);
}

TEST(OrderStateMachineTest, SessionsPerShardAreBoundedLeastRecentFirst) {
  OrderOptions o = AllShards();
  o.max_sessions_per_shard = 3;
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  for (uint64_t c = 1; c <= 5; ++c) {
    // A granule (1 s with the default window) apart: distinct index times.
    ApplyOne(r.get(), Command::Put(2, "k", "v").WithSession(c, 1, 5000 * c));
  }
  // Clients 3..5 are kept: their retries are duplicates.
  for (uint64_t c = 3; c <= 5; ++c) {
    CommandResult x =
        ApplyOne(r.get(), Command::Put(2, "k", "v").WithSession(c, 1, 30'000));
    EXPECT_TRUE(x.duplicate) << c;
  }
  // Clients 1 and 2 were the least recently seen: evicted, so a retry of
  // their write is not recognized (the documented limit of the bound).
  CommandResult x =
      ApplyOne(r.get(), Command::Put(2, "k", "v").WithSession(1, 1, 30'000));
  EXPECT_FALSE(x.duplicate);
  auto dump = Dump(r.get());
  EXPECT_EQ(dump[1].size(), 3u);  // sessions
  EXPECT_EQ(dump[2].size(), 3u);  // lru index
  // A full other shard has its own bound.
  ApplyOne(r.get(), Command::Put(3, "k", "v").WithSession(1, 1, 31'000));
  EXPECT_EQ(Dump(r.get())[1].size(), 4u);
}

TEST(OrderStateMachineTest, WrongGroupIsANoOpOnEveryReplica) {
  OrderOptions o = AllShards(8);
  o.owned = {0, 1, 2};
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->sm->Owns(2));
  EXPECT_FALSE(r->sm->Owns(3));
  EXPECT_FALSE(r->sm->Owns(100));
  CommandResult w =
      ApplyOne(r.get(), Command::Put(5, "k", "v").WithSession(3, 1, 1));
  EXPECT_EQ(w.code, ResultCode::kWrongGroup);
  auto dump = Dump(r.get());
  EXPECT_TRUE(dump[0].empty());
  EXPECT_TRUE(dump[1].empty());  // no session opened either
  EXPECT_EQ(r->sm->StoredAppliedIndex().value(), 1u);
}

TEST(OrderStateMachineTest, CorruptEntriesAreSkippedAndReported) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  std::string good = Encoded(Command::Put(1, "k", "v"));
  auto res = ApplyBatch(r.get(), {"garbage", good.substr(0, good.size() - 1),
                                  std::string(1, '\x01'), good});
  EXPECT_EQ(res[0].status().code(), Code::kCorruption);
  EXPECT_EQ(res[1].status().code(), Code::kCorruption);
  EXPECT_EQ(res[2].status().code(), Code::kCorruption);
  ASSERT_TRUE(res[3].ok());
  EXPECT_EQ(GetOr(r.get(), 1, "k"), "v");
  EXPECT_EQ(r->sm->StoredAppliedIndex().value(), 4u);
  // Protocol entries only move the applied index.
  auto batch = r->storage->NewBatch();
  EntryView e{EntryType::kProtocol, 5, {}, "opaque"};
  ASSERT_TRUE(r->sm->Apply(e, &*batch).ok());
  ASSERT_TRUE(r->sm->FinishApply(5, &*batch).ok());
  ASSERT_TRUE(r->storage->Write(*batch).ok());
  EXPECT_EQ(r->sm->StoredAppliedIndex().value(), 5u);
}

TEST(OrderStateMachineTest, OpenRefusesBadOptions) {
  auto r = MakeReplica(AllShards());
  ASSERT_TRUE(r);
  OrderOptions o = AllShards(4);
  o.owned.push_back(4);
  EXPECT_TRUE(OrderStateMachine::Open(r->storage.get(), o)
                  .status()
                  .IsInvalidArgument());
  o = AllShards(4);
  o.group_id = 0;
  EXPECT_TRUE(OrderStateMachine::Open(r->storage.get(), o)
                  .status()
                  .IsInvalidArgument());
  o = AllShards(4);
  o.shards = 0;
  EXPECT_TRUE(OrderStateMachine::Open(r->storage.get(), o)
                  .status()
                  .IsInvalidArgument());
}

// The store records its format; a store of another format, or one written
// before formats were recorded (format 1: data but no 'v'), is refused at
// open with a reason, never read with the wrong session index rules.
TEST(OrderStateMachineTest, OpenRefusesAnotherStoredFormat) {
  OrderOptions o = AllShards(4);
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  ApplyOne(r.get(), Command::Put(1, "k", "v").WithSession(3, 1, 1000));
  const uint32_t meta = r->sm->keyspaces()[3];
  std::string v;
  ASSERT_TRUE(r->storage->Get(meta, "v", &v).ok());
  EXPECT_EQ(GetU64(v), OrderStateMachine::kFormat);
  // Reopening the same format works.
  ASSERT_TRUE(OrderStateMachine::Open(r->storage.get(), o).ok());
  // Format 2 (the session table written with every batch) is a checkpoint
  // at its applied index: opened, upgraded, and its sessions still answer.
  ASSERT_TRUE(r->sm->Checkpoint().ok());
  std::string two;
  PutU64(&two, 2);
  ASSERT_TRUE(r->storage->Put(meta, "v", two).ok());
  ASSERT_TRUE(r->storage->Delete(meta, "c").ok());
  auto upgraded = OrderStateMachine::Open(r->storage.get(), o);
  ASSERT_TRUE(upgraded.ok()) << upgraded.status().ToString();
  r->sm = std::move(upgraded.value());
  EXPECT_EQ(r->sm->ReplayFrom(), 0u);
  EXPECT_EQ(r->sm->checkpoint_index(), 1u);
  ASSERT_TRUE(r->storage->Get(meta, "v", &v).ok());
  EXPECT_EQ(GetU64(v), OrderStateMachine::kFormat);
  EXPECT_TRUE(
      ApplyOne(r.get(), Command::Put(1, "k", "v").WithSession(3, 1, 1000))
          .duplicate);
  // Format 1: the same state without the format key.
  ASSERT_TRUE(r->storage->Delete(meta, "v").ok());
  auto old = OrderStateMachine::Open(r->storage.get(), o);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Code::kNotSupported);
  EXPECT_NE(old.status().ToString().find("format 1"), std::string::npos)
      << old.status().ToString();
  // A later format.
  std::string later;
  PutU64(&later, OrderStateMachine::kFormat + 1);
  ASSERT_TRUE(r->storage->Put(meta, "v", later).ok());
  auto newer = OrderStateMachine::Open(r->storage.get(), o);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().code(), Code::kNotSupported);
}

// A log of `n` writes of every kind to 20 keys of shards 0..3 by 12
// clients, mostly in sequence, with retries, stale sequences and writes
// without a session; herald time moves forward by up to 40 ms a write.
std::vector<std::string> RandomLog(std::mt19937_64& rng, int n) {
  std::vector<std::string> log;
  std::map<uint64_t, uint64_t> seq;
  uint64_t now = 1000;
  for (int i = 0; i < n; ++i) {
    std::string key = "k" + std::to_string(rng() % 20);
    uint16_t shard = ShardOf(key, 4);
    Command c;
    std::string v = std::to_string(i);
    switch (rng() % 4) {
      case 0:
        c = Command::Put(shard, key, v);
        break;
      case 1:
        c = Command::Append(shard, key, v, 64);
        break;
      case 2:
        c = Command::Delete(shard, key);
        break;
      default:
        c = Command::CompareAndSet(shard, key, &v, &v);
        break;
    }
    now += rng() % 40;
    if (rng() % 5 != 0) {
      uint64_t client = 1 + rng() % 12;
      // Mostly the next sequence; sometimes a retry or a stale one.
      uint64_t s = seq[client] + 1;
      if (rng() % 6 == 0 && seq[client] > 0) s = seq[client];
      if (rng() % 10 == 0 && seq[client] > 1) s = seq[client] - 1;
      seq[client] = std::max(seq[client], s);
      c.WithSession(client, s, now);
    } else {
      c.timestamp_ms = now;
    }
    log.push_back(Encoded(c));
  }
  return log;
}

// Options of the random-log tests: three of four shards owned, a short
// window and a small bound, so expiry and eviction happen throughout.
OrderOptions RandomLogOptions() {
  OrderOptions o = AllShards(4);
  o.session_expiry_ms = 500;
  o.max_sessions_per_shard = 6;
  o.owned = {0, 1, 2};
  return o;
}

// Checks that every answer in `ra` equals the one in `rb`; returns how many
// were answers to duplicates.
size_t ExpectSameAnswers(const std::vector<StatusOr<CommandResult>>& ra,
                         const std::vector<StatusOr<CommandResult>>& rb,
                         uint64_t seed) {
  EXPECT_EQ(ra.size(), rb.size());
  size_t duplicates = 0;
  for (size_t i = 0; i < std::min(ra.size(), rb.size()); ++i) {
    EXPECT_TRUE(ra[i].ok() && rb[i].ok()) << "seed " << seed;
    if (!ra[i].ok() || !rb[i].ok()) continue;
    EXPECT_EQ(ra[i].value(), rb[i].value())
        << "seed " << seed << " entry " << i;
    if (ra[i]->duplicate) ++duplicates;
  }
  return duplicates;
}

// The same log on two replicas, cut into batches differently, with session
// expiry and eviction happening throughout: every key of every keyspace
// must match, and so must every answer.
TEST(OrderStateMachineTest, ReplicasApplyingOneLogAgreeOnEveryKey) {
  const OrderOptions o = RandomLogOptions();
  auto a = MakeReplica(o);
  auto b = MakeReplica(o);
  ASSERT_TRUE(a && b);
  const uint64_t seed = 20261124;
  std::mt19937_64 rng(seed);
  const std::vector<std::string> log = RandomLog(rng, 600);
  std::vector<StatusOr<CommandResult>> ra, rb;
  for (const std::string& p : log) {
    auto x = ApplyBatch(a.get(), {p});
    ra.push_back(x[0]);
  }
  for (size_t i = 0; i < log.size();) {
    size_t n = 1 + rng() % 17;
    std::vector<std::string> part(log.begin() + i,
                                  log.begin() + std::min(log.size(), i + n));
    for (auto& x : ApplyBatch(b.get(), part)) rb.push_back(x);
    i += part.size();
  }
  const size_t duplicates = ExpectSameAnswers(ra, rb, seed);
  auto dump = Dump(a.get());
  EXPECT_EQ(dump, Dump(b.get())) << "seed " << seed;
  EXPECT_GT(duplicates, 0u);
  // Expiry and the bound were exercised: 12 clients wrote to 3 shards, yet
  // every shard holds at most 6 sessions.
  std::map<std::string, int> per_shard;
  for (const auto& [key, value] : dump[1]) ++per_shard[key.substr(0, 2)];
  for (const auto& [shard, n] : per_shard) EXPECT_LE(n, 6);
}

// Session checkpoints: a replica that restarts between batches (losing the
// session changes it held in memory) and replays the log from its
// checkpoint, as the driver does, must answer every later write as a
// replica that never restarted does, and hold the same keys. Checkpoints
// come often, by entries and by keys, so restarts land at every distance
// from one; the log has writes of every kind, retries among them.
TEST(OrderStateMachineTest, RestartReplaysTheLogFromTheCheckpoint) {
  OrderOptions o = RandomLogOptions();
  auto b = MakeReplica(o);  // never restarts, rarely checkpoints
  o.checkpoint_entries = 40;
  o.checkpoint_keys = 25;
  auto a = MakeReplica(o);
  ASSERT_TRUE(a && b);
  const uint64_t seed = 20261126;
  std::mt19937_64 rng(seed);
  const std::vector<std::string> log = RandomLog(rng, 800);
  std::vector<StatusOr<CommandResult>> ra, rb;
  size_t restarts = 0, replayed = 0, checkpoints = 0;
  uint64_t last_checkpoint = 0;
  for (size_t i = 0; i < log.size();) {
    const size_t n = 1 + rng() % 9;
    std::vector<std::string> part(log.begin() + i,
                                  log.begin() + std::min(log.size(), i + n));
    for (auto& x : ApplyBatch(a.get(), part)) ra.push_back(x);
    for (auto& x : ApplyBatch(b.get(), part)) rb.push_back(x);
    i += part.size();
    if (a->sm->checkpoint_index() != last_checkpoint) {
      ++checkpoints;
      last_checkpoint = a->sm->checkpoint_index();
    }
    if (rng() % 3 != 0) continue;
    auto reopened = OrderStateMachine::Open(a->storage.get(), o);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    a->sm = std::move(reopened.value());
    ++restarts;
    const uint64_t applied = a->next_index - 1;
    const uint64_t from = a->sm->ReplayFrom();
    if (from == 0) {
      EXPECT_EQ(a->sm->checkpoint_index(), applied);
      continue;
    }
    ASSERT_EQ(from, a->sm->checkpoint_index() + 1);
    ASSERT_LE(from, applied);
    for (uint64_t x = from; x <= applied; ++x) {
      Status s =
          a->sm->Replay(EntryView{EntryType::kNormal, x, {}, log[x - 1]});
      ASSERT_TRUE(s.ok()) << s.ToString();
      ++replayed;
    }
  }
  const size_t duplicates = ExpectSameAnswers(ra, rb, seed);
  EXPECT_EQ(Dump(a.get()), Dump(b.get())) << "seed " << seed;
  EXPECT_GT(duplicates, 0u);
  EXPECT_GT(restarts, 20u);
  EXPECT_GT(replayed, 100u);
  EXPECT_GT(checkpoints, 10u);
}

// The delta is bounded in bytes as well as in keys: a session holds its
// write's result, and a compare-and-set's result holds the prior value.
// With checkpoint_bytes of 4 KiB, writes whose sessions carry 1 KiB each
// are checkpointed every few writes, and the state still replays.
TEST(OrderStateMachineTest, CheckpointsBoundTheDeltaInBytes) {
  OrderOptions o = AllShards(4);
  o.checkpoint_bytes = 4096;
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  const std::string big(1024, 'x');
  ApplyOne(r.get(), Command::Put(1, "k", big));
  uint64_t checkpoints = 0, last = r->sm->checkpoint_index();
  for (uint64_t s = 1; s <= 20; ++s) {
    // Swaps the value with itself: the result carries the 1 KiB value.
    CommandResult res = ApplyOne(
        r.get(),
        Command::CompareAndSet(1, "k", &big, &big).WithSession(5, s, 1000));
    EXPECT_TRUE(res.cas_succeeded);
    if (r->sm->checkpoint_index() != last) {
      ++checkpoints;
      last = r->sm->checkpoint_index();
    }
  }
  EXPECT_GE(checkpoints, 4u);
  EXPECT_LE(r->next_index - 1 - r->sm->checkpoint_index(), 4u);
}

// A replayed write that is not a put takes its result from what applying
// it stored; with that record gone the replay stops with Corruption rather
// than give a retry a made-up answer.
TEST(OrderStateMachineTest, ReplayWithoutAStoredResultIsCorruption) {
  OrderOptions o = AllShards(4);
  auto r = MakeReplica(o);
  ASSERT_TRUE(r);
  const Command app = Command::Append(1, "k", "x").WithSession(9, 1, 1000);
  ApplyOne(r.get(), app);
  const uint32_t meta = r->sm->keyspaces()[3];
  std::string key = "r";
  PutU64(&key, 1);
  ASSERT_TRUE(r->storage->Delete(meta, key).ok());
  auto reopened = OrderStateMachine::Open(r->storage.get(), o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  ASSERT_EQ(reopened.value()->ReplayFrom(), 1u);
  const std::string data = Encoded(app);
  Status s =
      reopened.value()->Replay(EntryView{EntryType::kNormal, 1, {}, data});
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
}

// Expiry finds the least recently seen session of a shard from a remembered
// lower bound, kept in memory across applies. A state machine reopened
// before every batch starts without one and searches the whole shard: with
// sessions rewritten many times and a herald clock that sometimes steps
// back (a new herald with a slower clock), both must still give the same
// answers and leave the same keys.
TEST(OrderStateMachineTest, ExpiryFromTheRememberedBoundMatchesAFullSearch) {
  OrderOptions o = AllShards(2);
  o.session_expiry_ms = 300;
  o.max_sessions_per_shard = 5;
  auto a = MakeReplica(o);
  auto b = MakeReplica(o);
  ASSERT_TRUE(a && b);
  const uint64_t seed = 20261125;
  std::mt19937_64 rng(seed);
  std::map<uint64_t, uint64_t> seq;
  uint64_t now = 10'000;
  size_t expired_retries = 0;
  for (int round = 0; round < 150; ++round) {
    std::vector<std::string> part;
    std::vector<bool> retry;
    const size_t n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i) {
      // Mostly forward; one step in eight goes back up to twice the window.
      if (rng() % 8 == 0) {
        now -= std::min<uint64_t>(now - 1, rng() % 600);
      } else {
        now += rng() % 120;
      }
      const uint64_t client = 1 + rng() % 8;
      uint64_t s = seq[client] + 1;
      if (rng() % 4 == 0 && seq[client] > 0) s = seq[client];  // a retry
      retry.push_back(s == seq[client]);
      seq[client] = std::max(seq[client], s);
      std::string key = "k" + std::to_string(rng() % 4);
      part.push_back(Encoded(
          Command::Put(ShardOf(key, 2), key, "v").WithSession(client, s, now)));
    }
    auto reopened = OrderStateMachine::Open(b->storage.get(), o);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    b->sm = std::move(reopened.value());
    auto ra = ApplyBatch(a.get(), part);
    auto rb = ApplyBatch(b.get(), part);
    ASSERT_EQ(ra.size(), rb.size());
    for (size_t i = 0; i < ra.size(); ++i) {
      ASSERT_TRUE(ra[i].ok() && rb[i].ok()) << "seed " << seed;
      EXPECT_EQ(*ra[i], *rb[i]) << "seed " << seed << " round " << round;
    }
    ASSERT_EQ(Dump(a.get()), Dump(b.get()))
        << "seed " << seed << " round " << round;
    // A retry answered as new: its session expired or was evicted.
    for (size_t i = 0; i < ra.size(); ++i) {
      if (retry[i] && !ra[i]->duplicate) ++expired_retries;
    }
  }
  EXPECT_GT(expired_retries, 0u) << "seed " << seed;
}

}  // namespace
}  // namespace sb::order
