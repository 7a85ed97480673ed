// Shared setup of the order state machine tests: storage-mem instances
// through the real plugin loader, and helpers that apply encoded commands
// the way the consensus driver does (entries into one batch, then written).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/log/host_services.h"
#include "host/order/command.h"
#include "host/order/state_machine.h"
#include "host/plugin/loader.h"
#include "host/plugin/storage.h"

namespace sb::order::testing {

// One replica: its own storage-mem instance and state machine.
struct Replica {
  std::unique_ptr<PluginHostServices> hs;
  std::unique_ptr<Storage> storage;
  std::unique_ptr<OrderStateMachine> sm;
  uint64_t next_index = 1;
};

inline std::unique_ptr<Replica> MakeReplica(const OrderOptions& opts) {
  PluginLoader loader;
  auto lib = loader.Load("storage-mem", SB_KIND_STORAGE);
  EXPECT_TRUE(lib.ok()) << lib.status().ToString();
  if (!lib.ok()) return nullptr;
  auto r = std::make_unique<Replica>();
  r->hs = std::make_unique<PluginHostServices>("order-test");
  sb_config empty{sizeof(sb_config), nullptr, 0};
  auto st = Storage::Open(*lib, *r->hs->table(), "", empty);
  EXPECT_TRUE(st.ok()) << st.status().ToString();
  if (!st.ok()) return nullptr;
  r->storage = std::make_unique<Storage>(std::move(st.value()));
  auto sm = OrderStateMachine::Open(r->storage.get(), opts);
  EXPECT_TRUE(sm.ok()) << sm.status().ToString();
  if (!sm.ok()) return nullptr;
  r->sm = std::move(sm.value());
  return r;
}

inline std::string Encoded(const Command& c) {
  std::string b;
  Status s = EncodeCommand(c, &b);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return b;
}

// Applies `payloads` (raw entry data) as consecutive normal entries in ONE
// batch, writes it, publishes results. Returns the result of each entry
// (captured through ApplyResults watchers).
inline std::vector<StatusOr<CommandResult>> ApplyBatch(
    Replica* r, const std::vector<std::string>& payloads) {
  std::vector<std::future<StatusOr<CommandResult>>> futures;
  auto batch = r->storage->NewBatch();
  EXPECT_TRUE(batch.ok());
  for (const std::string& p : payloads) {
    uint64_t index = r->next_index++;
    futures.push_back(r->sm->results().Watch(index, CommandDigest(p)));
    EntryView e{EntryType::kNormal, index, {}, p};
    Status s = r->sm->Apply(e, &*batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  // As the driver does: the applied index once per batch.
  if (!payloads.empty()) {
    Status s = r->sm->FinishApply(r->next_index - 1, &*batch);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  Status w = r->storage->Write(*batch, false);
  EXPECT_TRUE(w.ok()) << w.ToString();
  // As the driver does: the batch is written (results are released).
  if (w.ok() && r->next_index > 1) r->sm->OnWritten(r->next_index - 1);
  // Everything above ran on this thread: each result must be ready now. A
  // missing one is a failure, never a wait.
  std::vector<StatusOr<CommandResult>> out;
  for (auto& f : futures) {
    if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      ADD_FAILURE() << "no result released for an applied entry";
      out.push_back(Status::Internal("no result released"));
      continue;
    }
    out.push_back(f.get());
  }
  return out;
}

inline CommandResult ApplyOne(Replica* r, const Command& c) {
  auto res = ApplyBatch(r, {Encoded(c)});
  EXPECT_TRUE(res[0].ok()) << res[0].status().ToString();
  return res[0].ok() ? res[0].value() : CommandResult{};
}

// Every key and value of every keyspace of the order, after a checkpoint
// (so the session table is all in storage).
inline std::vector<std::map<std::string, std::string>> Dump(Replica* r) {
  std::vector<std::map<std::string, std::string>> out;
  Status cp = r->sm->Checkpoint();
  EXPECT_TRUE(cp.ok()) << cp.ToString();
  for (uint32_t ks : r->sm->keyspaces()) {
    std::map<std::string, std::string> m;
    auto it = r->storage->NewIterator(ks);
    EXPECT_TRUE(it.ok());
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      m.emplace(std::string(it->key()), std::string(it->value()));
    }
    out.push_back(std::move(m));
  }
  return out;
}

inline OrderOptions AllShards(uint32_t shards = 16) {
  OrderOptions o;
  o.group_id = 7;
  o.shards = shards;
  for (uint32_t s = 0; s < shards; ++s) o.owned.push_back(s);
  return o;
}

}  // namespace sb::order::testing
