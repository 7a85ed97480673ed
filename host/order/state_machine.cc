// host/order/state_machine.cc — see state_machine.h. Snapshot streaming is
// in snapshot_source.cc.
#include "host/order/state_machine.h"

#include <algorithm>

#include "host/order/codec.h"

namespace sb::order {

struct OrderStateMachine::Session {
  uint64_t sequence = 0;
  uint64_t last_seen_ms = 0;
  CommandResult result;
};

namespace {

std::string ShardPrefix(uint16_t shard) {
  std::string k;
  PutU16(&k, shard);
  return k;
}

std::string DataKey(uint16_t shard, std::string_view key) {
  std::string k = ShardPrefix(shard);
  k.append(key);
  return k;
}

std::string SessionKey(uint16_t shard, uint64_t client) {
  std::string k = ShardPrefix(shard);
  PutU64(&k, client);
  return k;
}

std::string LruKey(uint16_t shard, uint64_t last_seen, uint64_t client) {
  std::string k = ShardPrefix(shard);
  PutU64(&k, last_seen);
  PutU64(&k, client);
  return k;
}

const std::string kAppliedKey = "a";
const std::string kCheckpointKey = "c";
const std::string kFormatKey = "v";

std::string CountKey(uint16_t shard) { return "n" + ShardPrefix(shard); }

std::string ResultKey(uint64_t index) {
  std::string k = "r";
  PutU64(&k, index);
  return k;
}

std::string U64Value(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

Status ParseU64(std::string_view v, uint64_t* out) {
  if (v.size() != 8) return Status::Corruption("stored counter not 8 bytes");
  *out = GetU64(v);
  return Status::OK();
}

}  // namespace

OrderOptions OrderOptionsFor(const ClusterOptions& cluster, uint64_t group_id,
                             std::vector<uint16_t> owned) {
  OrderOptions o;
  o.group_id = group_id;
  o.shards = cluster.shards;
  o.owned = std::move(owned);
  o.session_expiry_ms = cluster.session_expiry_ms;
  o.max_sessions_per_shard = cluster.max_sessions_per_shard;
  return o;
}

void SetCompaction(const CompactionOptions& compaction, GroupOptions* group) {
  group->snapshot_every = compaction.log_entries;
  group->snapshot_bytes = compaction.log_bytes;
}

OrderStateMachine::OrderStateMachine(Storage* storage, OrderOptions options)
    : storage_(storage), opts_(std::move(options)) {}

StatusOr<std::unique_ptr<OrderStateMachine>> OrderStateMachine::Open(
    Storage* storage, const OrderOptions& options) {
  if (storage == nullptr || options.group_id == 0) {
    return Status::InvalidArgument("order needs storage and a group id > 0");
  }
  if (options.shards == 0 || options.shards > 65536) {
    return Status::InvalidArgument("shards must be 1..65536");
  }
  if (options.session_expiry_ms == 0 || options.max_sessions_per_shard == 0 ||
      options.max_expirations_per_apply == 0) {
    return Status::InvalidArgument(
        "session expiry, max sessions and expirations per apply must be > 0");
  }
  std::unique_ptr<OrderStateMachine> sm(
      new OrderStateMachine(storage, options));
  sm->owned_.assign(options.shards, false);
  sm->lru_floor_.assign(options.shards, std::string());
  for (uint16_t s : options.owned) {
    if (s >= options.shards) {
      return Status::InvalidArgument("owned shard " + std::to_string(s) +
                                     " is not below shards");
    }
    sm->owned_[s] = true;
  }
  sm->index_granule_ms_ =
      std::clamp<uint64_t>(options.session_expiry_ms / 16, 1, 1000);
  const std::string base = "order." + std::to_string(options.group_id) + ".";
  const char* names[kTables] = {"data", "sessions", "lru", "meta"};
  for (size_t t = 0; t < kTables; ++t) {
    auto id = storage->Keyspace(base + names[t]);
    if (!id.ok()) return id.status().Annotate("opening order keyspaces");
    sm->ks_[t] = *id;
  }
  SB_RETURN_IF_ERROR(
      sm->CheckFormat().Annotate("order " + std::to_string(options.group_id)));
  auto applied = sm->StoredAppliedIndex();
  if (!applied.ok()) return applied.status();
  sm->stored_applied_ = *applied;
  std::string v;
  Status cs = storage->Get(sm->ks_[kMeta], kCheckpointKey, &v);
  if (cs.IsNotFound()) {
    return Status::Corruption("order " + std::to_string(options.group_id) +
                              " has no checkpoint index");
  }
  SB_RETURN_IF_ERROR(cs);
  SB_RETURN_IF_ERROR(ParseU64(v, &sm->checkpoint_index_));
  if (sm->checkpoint_index_ > sm->stored_applied_) {
    return Status::Corruption(
        "order " + std::to_string(options.group_id) + " checkpoint at " +
        std::to_string(sm->checkpoint_index_) + " is past its applied index " +
        std::to_string(sm->stored_applied_));
  }
  return sm;
}

Status OrderStateMachine::CheckFormat() {
  std::string v;
  Status s = storage_->Get(ks_[kMeta], kFormatKey, &v);
  if (s.ok()) {
    uint64_t format = 0;
    SB_RETURN_IF_ERROR(ParseU64(v, &format));
    if (format == kFormat) return Status::OK();
    if (format == 2) {
      // Format 2 wrote the session table with every batch: it is complete
      // at the applied index, a checkpoint there.
      auto applied = StoredAppliedIndex();
      if (!applied.ok()) return applied.status();
      auto b = storage_->NewBatch();
      if (!b.ok()) return b.status();
      SB_RETURN_IF_ERROR(
          b->Put(ks_[kMeta], kCheckpointKey, U64Value(*applied)));
      SB_RETURN_IF_ERROR(b->Put(ks_[kMeta], kFormatKey, U64Value(kFormat)));
      return storage_->Write(*b, true);
    }
    return Status::NotSupported(
        "stored order state has format " + std::to_string(format) +
        ", this build reads formats 2 and " + std::to_string(kFormat));
  }
  if (!s.IsNotFound()) return s;
  // No format key: a new store, or one written before formats were
  // recorded (format 1, exact session-index times).
  for (uint32_t ks : ks_) {
    auto it = storage_->NewIterator(ks);
    if (!it.ok()) return it.status();
    it->SeekToFirst();
    SB_RETURN_IF_ERROR(it->status());
    if (it->Valid()) {
      return Status::NotSupported(
          "stored order state has format 1 (session index by exact time), "
          "this build reads format " +
          std::to_string(kFormat) +
          ": there is no migration between formats; run the build that "
          "wrote it, or empty the data dir and load the data again");
    }
  }
  auto b = storage_->NewBatch();
  if (!b.ok()) return b.status();
  SB_RETURN_IF_ERROR(b->Put(ks_[kMeta], kCheckpointKey, U64Value(0)));
  SB_RETURN_IF_ERROR(b->Put(ks_[kMeta], kFormatKey, U64Value(kFormat)));
  return storage_->Write(*b, true);
}

uint64_t OrderStateMachine::IndexTime(uint64_t seen_ms) const {
  const uint64_t g = index_granule_ms_;
  const uint64_t up = seen_ms % g == 0 ? 0 : g - seen_ms % g;
  return seen_ms > UINT64_MAX - up ? UINT64_MAX : seen_ms + up;
}

std::vector<uint32_t> OrderStateMachine::keyspaces() const {
  return {ks_[0], ks_[1], ks_[2], ks_[3]};
}

bool OrderStateMachine::Owns(uint16_t shard) const {
  return shard < owned_.size() && owned_[shard];
}

// ---- Storage through the overlay ------------------------------------------

bool OrderStateMachine::Deferred(Table t, std::string_view key) {
  return t == kSessions || t == kLru ||
         (t == kMeta && key.size() == 3 && key[0] == 'n');
}

const std::optional<std::string>* OrderStateMachine::Pending(
    Table t, const std::string& key) const {
  auto o = overlay_[t].find(key);
  if (o != overlay_[t].end()) return &o->second;
  auto d = delta_[t].find(key);
  if (d != delta_[t].end()) return &d->second;
  return nullptr;
}

Status OrderStateMachine::Read(Table t, std::string_view key,
                               std::string* value) const {
  std::string k(key);
  if (const std::optional<std::string>* p = Pending(t, k)) {
    if (!p->has_value()) return Status::NotFound("deleted");
    *value = **p;
    return Status::OK();
  }
  if (t == kSessions) {
    auto c = session_cache_.find(k);
    if (c != session_cache_.end()) {
      *value = c->second;
      return Status::OK();
    }
  }
  return storage_->Get(ks_[t], key, value);
}

Status OrderStateMachine::Write(Table t, std::string_view key,
                                std::string_view value, WriteBatch* batch) {
  if (!Deferred(t, key)) {
    if (batch == nullptr) return Status::Internal("data write while replaying");
    SB_RETURN_IF_ERROR(batch->Put(ks_[t], key, value));
  }
  overlay_[t].insert_or_assign(std::string(key), std::string(value));
  if (t == kLru && key.size() >= 2) {
    const uint16_t shard = GetU16(key);
    if (shard < lru_floor_.size()) {
      std::string& floor = lru_floor_[shard];
      if (!floor.empty() && key < floor) floor.assign(key);
    }
  }
  return Status::OK();
}

Status OrderStateMachine::Erase(Table t, std::string_view key,
                                WriteBatch* batch) {
  if (!Deferred(t, key)) {
    if (batch == nullptr) return Status::Internal("data write while replaying");
    SB_RETURN_IF_ERROR(batch->Delete(ks_[t], key));
  }
  overlay_[t].insert_or_assign(std::string(key), std::nullopt);
  return Status::OK();
}

Status OrderStateMachine::First(Table t, std::string_view prefix,
                                std::string* key,
                                const std::string* after) const {
  // The smallest key to consider: the prefix, or just past `after`.
  std::string from(prefix);
  if (after != nullptr) {
    from = *after;
    from.push_back('\0');
  }
  // The session index of one shard: no live key sorts below its floor.
  std::string* floor = nullptr;
  if (t == kLru && prefix.size() == 2) {
    const uint16_t shard = GetU16(prefix);
    if (shard < lru_floor_.size()) floor = &lru_floor_[shard];
  }
  const std::string& seek = (floor != nullptr && *floor > from) ? *floor : from;
  // Candidate from storage: the first stored key not deleted in the overlay
  // or the delta.
  std::optional<std::string> stored;
  auto it = storage_->NewPrefixIterator(ks_[t], prefix);
  if (!it.ok()) return it.status();
  for (it->Seek(seek); it->Valid(); it->Next()) {
    std::string k(it->key());
    const std::optional<std::string>* p = Pending(t, k);
    if (p == nullptr || p->has_value()) {
      stored = std::move(k);
      break;
    }
  }
  SB_RETURN_IF_ERROR(it->status());
  // Candidates from the overlay and from the delta: the first key written
  // (not deleted), in the delta only if the overlay does not delete it.
  std::optional<std::string> pending;
  for (auto o = overlay_[t].lower_bound(seek);
       o != overlay_[t].end() && o->first.starts_with(prefix); ++o) {
    if (o->second.has_value()) {
      pending = o->first;
      break;
    }
  }
  for (auto d = delta_[t].lower_bound(seek);
       d != delta_[t].end() && d->first.starts_with(prefix) &&
       (!pending || d->first < *pending);
       ++d) {
    if (d->second.has_value() && Pending(t, d->first)->has_value()) {
      pending = d->first;
      break;
    }
  }
  if (!stored && !pending) {
    // Nothing live from the prefix on: any key written later lowers the
    // floor, so it may sit past every key of the prefix.
    if (floor != nullptr && after == nullptr) {
      floor->assign(prefix);
      floor->append(17, '\xff');
    }
    return Status::NotFound("no key with prefix");
  }
  if (stored && pending) {
    *key = std::min(*stored, *pending);
  } else {
    *key = stored ? *stored : *pending;
  }
  // Session index keys are 18 bytes; anything else is left for the caller
  // to report as corruption, and does not become the floor.
  if (floor != nullptr && after == nullptr && key->size() == 18) {
    floor->assign(*key);
  }
  return Status::OK();
}

void OrderStateMachine::ForgetLruFloors() {
  for (std::string& f : lru_floor_) f.clear();
}

StatusOr<uint64_t> OrderStateMachine::StoredAppliedIndex() const {
  std::string v;
  Status s = storage_->Get(ks_[kMeta], kAppliedKey, &v);
  if (s.IsNotFound()) return uint64_t{0};
  SB_RETURN_IF_ERROR(s);
  uint64_t index = 0;
  SB_RETURN_IF_ERROR(ParseU64(v, &index));
  return index;
}

void OrderStateMachine::ForgetOverlayIfReapplied(uint64_t index) {
  // An index applied again: the batch holding the overlay was never
  // written, so storage (and the cache, which follows written batches
  // only) is the truth again. Floors may rest on keys only the overlay
  // held, or above stored keys only the overlay deleted.
  if (overlay_index_ == 0 || index > overlay_index_) return;
  ForgetLruFloors();
  for (auto& o : overlay_) o.clear();
  overlay_index_ = 0;
  checkpoint_pending_ = 0;
}

void OrderStateMachine::OnWritten(uint64_t applied) {
  // What a client hears is now what a read sees.
  results_.ReleaseThrough(applied);
  if (overlay_index_ != 0 && applied >= overlay_index_) KeepOverlay();
  if (checkpoint_pending_ != 0 && applied >= checkpoint_pending_) {
    NoteCheckpoint(checkpoint_pending_);
  }
}

void OrderStateMachine::KeepOverlay() {
  for (Table t : {kSessions, kLru, kMeta}) {
    for (auto& [key, value] : overlay_[t]) {
      if (!Deferred(t, key)) continue;
      // Counted again when a key is rewritten: an upper bound.
      delta_bytes_ += key.size() + (value ? value->size() : 0);
      delta_[t].insert_or_assign(key, std::move(value));
    }
  }
  for (auto& o : overlay_) o.clear();
  overlay_index_ = 0;
}

void OrderStateMachine::NoteCheckpoint(uint64_t index) {
  if (session_cache_.size() + delta_[kSessions].size() > kMaxCachedSessions ||
      session_cache_bytes_ + delta_bytes_ > kMaxCachedSessionBytes) {
    session_cache_.clear();
    session_cache_bytes_ = 0;
  }
  for (auto& [key, value] : delta_[kSessions]) {
    auto old = session_cache_.find(key);
    if (old != session_cache_.end()) {
      session_cache_bytes_ -= old->first.size() + old->second.size();
      session_cache_.erase(old);
    }
    if (value.has_value()) {
      session_cache_bytes_ += key.size() + value->size();
      session_cache_.emplace(key, std::move(*value));
    }
  }
  for (auto& d : delta_) d.clear();
  delta_bytes_ = 0;
  checkpoint_index_ = index;
  checkpoint_pending_ = 0;
}

Status OrderStateMachine::AddCheckpoint(uint64_t applied, WriteBatch* batch) {
  for (Table t : {kSessions, kLru, kMeta}) {
    auto put = [&](const std::string& key,
                   const std::optional<std::string>& value) {
      return value.has_value() ? batch->Put(ks_[t], key, *value)
                               : batch->Delete(ks_[t], key);
    };
    for (const auto& [key, value] : delta_[t]) {
      if (overlay_[t].count(key) == 0) SB_RETURN_IF_ERROR(put(key, value));
    }
    for (const auto& [key, value] : overlay_[t]) {
      if (Deferred(t, key)) SB_RETURN_IF_ERROR(put(key, value));
    }
  }
  // Results are kept for replaying after this checkpoint only.
  SB_RETURN_IF_ERROR(
      batch->DeleteRange(ks_[kMeta], ResultKey(0), ResultKey(applied + 1)));
  return batch->Put(ks_[kMeta], kCheckpointKey, U64Value(applied));
}

Status OrderStateMachine::FinishApply(uint64_t applied, WriteBatch* batch) {
  SB_RETURN_IF_ERROR(batch->Put(ks_[kMeta], kAppliedKey, U64Value(applied)));
  size_t keys = 0;
  uint64_t bytes = delta_bytes_;
  for (Table t : {kSessions, kLru, kMeta}) {
    keys += delta_[t].size() + overlay_[t].size();
    for (const auto& [key, value] : overlay_[t]) {
      bytes += key.size() + (value ? value->size() : 0);
    }
  }
  if (applied - checkpoint_index_ < opts_.checkpoint_entries &&
      keys < opts_.checkpoint_keys && bytes < opts_.checkpoint_bytes) {
    return Status::OK();
  }
  SB_RETURN_IF_ERROR(AddCheckpoint(applied, batch));
  checkpoint_pending_ = applied;
  return Status::OK();
}

Status OrderStateMachine::Checkpoint() {
  if (overlay_index_ != 0) {
    return Status::Busy(
        "applied entries wait for their batch: checkpoint between batches");
  }
  auto applied = StoredAppliedIndex();
  if (!applied.ok()) return applied.status();
  if (*applied == checkpoint_index_ && delta_[kSessions].empty() &&
      delta_[kLru].empty() && delta_[kMeta].empty()) {
    return Status::OK();
  }
  auto batch = storage_->NewBatch();
  if (!batch.ok()) return batch.status();
  SB_RETURN_IF_ERROR(AddCheckpoint(*applied, &*batch));
  SB_RETURN_IF_ERROR(storage_->Write(*batch, false));
  NoteCheckpoint(*applied);
  return Status::OK();
}

uint64_t OrderStateMachine::ReplayFrom() const {
  return stored_applied_ > checkpoint_index_ ? checkpoint_index_ + 1 : 0;
}

Status OrderStateMachine::Replay(const EntryView& entry) {
  overlay_index_ = entry.index;
  if (entry.type == EntryType::kNormal) {
    // An entry that did not decode was skipped when applied: again now.
    auto cmd = DecodeCommand(entry.data);
    if (cmd.ok()) {
      auto r = Execute(*cmd, entry.index, nullptr);
      if (!r.ok()) {
        return r.status().Annotate("replaying index " +
                                   std::to_string(entry.index));
      }
    }
  }
  KeepOverlay();
  return Status::OK();
}

StatusOr<CommandResult> OrderStateMachine::StoredResult(uint64_t index) const {
  std::string v;
  Status s = storage_->Get(ks_[kMeta], ResultKey(index), &v);
  if (s.IsNotFound()) {
    return Status::Corruption("no stored result for the write at index " +
                              std::to_string(index));
  }
  SB_RETURN_IF_ERROR(s);
  return DecodeResult(v);
}

// ---- Apply ----------------------------------------------------------------

Status OrderStateMachine::Apply(const EntryView& entry, WriteBatch* batch) {
  ForgetOverlayIfReapplied(entry.index);
  overlay_index_ = entry.index;
  if (entry.type != EntryType::kNormal) return Status::OK();
  auto cmd = DecodeCommand(entry.data);
  if (!cmd.ok()) {
    // Every replica holds the same bytes, so every replica skips the entry
    // the same way; the proposer hears why. Never stop applying on it.
    results_.Record(entry.index, entry.data, cmd.status());
    return Status::OK();
  }
  auto result = Execute(*cmd, entry.index, batch);
  if (!result.ok()) return result.status();  // storage failed: stop here
  results_.Record(entry.index, entry.data, *result);
  return Status::OK();
}

StatusOr<CommandResult> OrderStateMachine::Execute(const Command& c,
                                                   uint64_t index,
                                                   WriteBatch* batch) {
  CommandResult r;
  r.index = index;
  // A shard this order does not own: a no-op every replica agrees on.
  if (!Owns(c.shard)) {
    r.code = ResultCode::kWrongGroup;
    return r;
  }
  // Sessions of this shard whose window passed (by the herald's clock as
  // carried in the log) go first, so the session check below sees the same
  // table on every replica.
  SB_RETURN_IF_ERROR(ExpireSessions(c.shard, c.timestamp_ms, batch));

  std::optional<Session> session;
  if (c.client_id != 0) {
    std::string v;
    Status s = Read(kSessions, SessionKey(c.shard, c.client_id), &v);
    if (s.ok()) {
      ByteReader rd(v);
      Session sess;
      if (!rd.ReadU64(&sess.sequence) || !rd.ReadU64(&sess.last_seen_ms)) {
        return Status::Corruption("stored session truncated");
      }
      auto stored = DecodeResult(v.substr(16));
      if (!stored.ok()) return stored.status();
      sess.result = std::move(stored.value());
      session = std::move(sess);
    } else if (!s.IsNotFound()) {
      return s;
    }
    if (session && c.sequence == session->sequence) {
      // A retry: answer the first outcome; the session is active again.
      CommandResult dup = session->result;
      SB_RETURN_IF_ERROR(StoreSession(c, &*session, dup, batch));
      dup.duplicate = true;
      return dup;
    }
    if (session && c.sequence < session->sequence) {
      r.code = ResultCode::kStaleSequence;
      return r;
    }
    // No session in this shard: the client's first write here (sequences
    // are numbered per client, across shards), or its session expired. It
    // applies and opens a session: a retry is safe only within the window.
  }

  if (batch == nullptr) {
    // Replaying: the data already holds this write; its session gets the
    // result the write had.
    if (c.client_id == 0) return r;
    if (c.kind != CommandKind::kPut) {
      auto stored = StoredResult(index);
      if (!stored.ok()) return stored.status();
      r = std::move(stored.value());
    }
    SB_RETURN_IF_ERROR(
        StoreSession(c, session ? &*session : nullptr, r, batch));
    return r;
  }

  const std::string dkey = DataKey(c.shard, c.key);
  std::string current;
  bool exists = false;
  // A put's result does not depend on the current value: no read.
  if (c.kind != CommandKind::kPut) {
    Status s = Read(kData, dkey, &current);
    if (!s.ok() && !s.IsNotFound()) return s;
    exists = s.ok();
  }
  switch (c.kind) {
    case CommandKind::kPut:
      SB_RETURN_IF_ERROR(Write(kData, dkey, c.value, batch));
      break;
    case CommandKind::kAppend: {
      uint64_t size = (exists ? current.size() : 0) + c.value.size();
      if ((c.value_limit != 0 && size > c.value_limit) ||
          size > kMaxCommandValueBytes) {
        r.code = ResultCode::kTooLarge;
        r.new_size = size;
        break;
      }
      current.append(c.value);
      SB_RETURN_IF_ERROR(Write(kData, dkey, current, batch));
      r.new_size = size;
      break;
    }
    case CommandKind::kDelete:
      r.existed = exists;
      if (exists) SB_RETURN_IF_ERROR(Erase(kData, dkey, batch));
      break;
    case CommandKind::kCompareAndSet: {
      r.has_current = exists;
      if (exists) r.current = current;
      bool match = c.has_expected ? (exists && current == c.expected) : !exists;
      r.cas_succeeded = match;
      r.existed = exists;
      if (match) {
        if (c.has_value) {
          SB_RETURN_IF_ERROR(Write(kData, dkey, c.value, batch));
        } else if (exists) {
          SB_RETURN_IF_ERROR(Erase(kData, dkey, batch));
        }
      }
      break;
    }
    default:
      return Status::Internal("unexpected command kind");
  }
  if (c.client_id != 0) {
    // A put's result is its index; any other result is kept for a replay
    // until the next checkpoint (see the header).
    if (c.kind != CommandKind::kPut) {
      std::string v;
      EncodeResult(r, &v);
      SB_RETURN_IF_ERROR(batch->Put(ks_[kMeta], ResultKey(index), v));
    }
    SB_RETURN_IF_ERROR(
        StoreSession(c, session ? &*session : nullptr, r, batch));
  }
  return r;
}

// ---- Sessions -------------------------------------------------------------

Status OrderStateMachine::RemoveSession(uint16_t shard, uint64_t client,
                                        uint64_t index_time,
                                        WriteBatch* batch) {
  SB_RETURN_IF_ERROR(Erase(kSessions, SessionKey(shard, client), batch));
  SB_RETURN_IF_ERROR(Erase(kLru, LruKey(shard, index_time, client), batch));
  uint64_t count = 0;
  return AddToSessionCount(shard, -1, &count, batch);
}

Status OrderStateMachine::AddToSessionCount(uint16_t shard, int64_t delta,
                                            uint64_t* count,
                                            WriteBatch* batch) {
  std::string v;
  uint64_t n = 0;
  Status s = Read(kMeta, CountKey(shard), &v);
  if (s.ok()) {
    SB_RETURN_IF_ERROR(ParseU64(v, &n));
  } else if (!s.IsNotFound()) {
    return s;
  }
  if (delta < 0 && n < static_cast<uint64_t>(-delta)) {
    return Status::Corruption("session count of shard " +
                              std::to_string(shard) + " below zero");
  }
  n += delta;
  *count = n;
  if (n == 0) return Erase(kMeta, CountKey(shard), batch);
  return Write(kMeta, CountKey(shard), U64Value(n), batch);
}

Status OrderStateMachine::ExpireSessions(uint16_t shard, uint64_t now_ms,
                                         WriteBatch* batch) {
  // The floor sorts at or below every live session of the shard: when even
  // its time is within the window, no session can have expired, and the
  // answer is the same as the search's without opening an iterator.
  if (shard < lru_floor_.size()) {
    const std::string& floor = lru_floor_[shard];
    if (floor.size() == 19) return Status::OK();  // the shard has no session
    if (floor.size() == 18) {
      const uint64_t oldest = GetU64(std::string_view(floor).substr(2));
      if (now_ms <= oldest || now_ms - oldest <= opts_.session_expiry_ms) {
        return Status::OK();
      }
    }
  }
  const std::string prefix = ShardPrefix(shard);
  for (uint32_t i = 0; i < opts_.max_expirations_per_apply; ++i) {
    std::string key;
    Status s = First(kLru, prefix, &key);
    if (s.IsNotFound()) return Status::OK();
    SB_RETURN_IF_ERROR(s);
    if (key.size() != 18) return Status::Corruption("bad session index key");
    uint64_t time = GetU64(std::string_view(key).substr(2));
    uint64_t client = GetU64(std::string_view(key).substr(10));
    // Expired once the herald's clock is past index time + window.
    if (now_ms <= time || now_ms - time <= opts_.session_expiry_ms) {
      return Status::OK();
    }
    SB_RETURN_IF_ERROR(RemoveSession(shard, client, time, batch));
  }
  return Status::OK();
}

Status OrderStateMachine::StoreSession(const Command& c, const Session* old,
                                       const CommandResult& r,
                                       WriteBatch* batch) {
  // Herald clocks may step back across a leadership change; last-seen
  // never does.
  uint64_t seen = c.timestamp_ms;
  if (old != nullptr) seen = std::max(seen, old->last_seen_ms);
  std::string v;
  PutU64(&v, c.sequence);
  PutU64(&v, seen);
  CommandResult stored = r;
  stored.duplicate = false;
  EncodeResult(stored, &v);
  SB_RETURN_IF_ERROR(
      Write(kSessions, SessionKey(c.shard, c.client_id), v, batch));
  // The index key moves only when the rounded time does.
  const uint64_t time = IndexTime(seen);
  if (old != nullptr) {
    const uint64_t old_time = IndexTime(old->last_seen_ms);
    if (old_time == time) return Status::OK();
    SB_RETURN_IF_ERROR(
        Erase(kLru, LruKey(c.shard, old_time, c.client_id), batch));
  }
  SB_RETURN_IF_ERROR(
      Write(kLru, LruKey(c.shard, time, c.client_id), "", batch));
  if (old != nullptr) return Status::OK();
  uint64_t count = 0;
  SB_RETURN_IF_ERROR(AddToSessionCount(c.shard, 1, &count, batch));
  // Bound the table: evict the least recently seen sessions of the shard
  // (never the one just written).
  const std::string prefix = ShardPrefix(c.shard);
  while (count > opts_.max_sessions_per_shard) {
    std::string key;
    SB_RETURN_IF_ERROR(First(kLru, prefix, &key));
    if (key.size() != 18) return Status::Corruption("bad session index key");
    uint64_t client = GetU64(std::string_view(key).substr(10));
    if (client == c.client_id) {
      // The new session sorts first (same time, smaller client id, or a
      // herald clock that stepped back): it stays; evict the next one.
      std::string self = key;
      SB_RETURN_IF_ERROR(First(kLru, prefix, &key, &self));
      if (key.size() != 18) return Status::Corruption("bad session index key");
      client = GetU64(std::string_view(key).substr(10));
    }
    uint64_t time = GetU64(std::string_view(key).substr(2));
    SB_RETURN_IF_ERROR(RemoveSession(c.shard, client, time, batch));
    --count;
  }
  return Status::OK();
}

// ---- Reads ------------------------------------------------------------------

Status OrderStateMachine::Get(uint16_t shard, std::string_view key,
                              std::string* value) const {
  return storage_->Get(ks_[kData], DataKey(shard, key), value);
}

}  // namespace sb::order
