// host/order/snapshot_source.cc — streaming snapshots of an order's state.
//
// The stream is a sequence of records, each
//
//   table u8 | key (u32 length + bytes) | value (u32 length + bytes)
//
// where table 1..4 are the order's keyspaces (data, sessions, lru, meta),
// table 0 is the header (key "shardbearer.order.v2", value = the applied
// index, 8B) and table 255 the trailer (empty key, value = number of table
// records, 8B). A SnapshotSource cuts chunks between records; a restore
// accepts chunks cut anywhere (consensus plugins re-chunk by bytes). The
// header opens the stream and the trailer closes it, so a truncated or
// reordered stream fails the restore instead of installing part of a state.
#include <utility>

#include "host/order/codec.h"
#include "host/order/state_machine.h"

namespace sb::order {
namespace {

constexpr uint8_t kHeaderTable = 0;
constexpr uint8_t kTrailerTable = 255;
// v2: session index keys carry the rounded-up last-seen time (v1: exact).
constexpr std::string_view kMagic = "shardbearer.order.v2";
constexpr std::string_view kMagicPrefix = "shardbearer.order.v";
// Largest key / value a record may carry: a data key is a shard prefix and
// a user key; a session value carries a result holding a value.
constexpr size_t kMaxRecordKey = kMaxCommandKeyBytes + 64;
constexpr size_t kMaxRecordValue = kMaxCommandValueBytes + 256;

void PutRecord(std::string* out, uint8_t table, std::string_view key,
               std::string_view value) {
  PutU8(out, table);
  PutBytes(out, key);
  PutBytes(out, value);
}

size_t RecordSize(std::string_view key, std::string_view value) {
  return 1 + 4 + key.size() + 4 + value.size();
}

std::string U64Bytes(uint64_t v) {
  std::string s;
  PutU64(&s, v);
  return s;
}

}  // namespace

SnapshotSource::~SnapshotSource() {
  it_.reset();  // iterators before the snapshot they read
}

StatusOr<std::string> SnapshotSource::Next(size_t max_bytes, bool* done) {
  if (finished_) return Status::InvalidArgument("snapshot stream finished");
  std::string out;
  auto fits = [&](size_t n) {
    return out.empty() || out.size() + n <= max_bytes;
  };
  if (!header_sent_) {
    PutRecord(&out, kHeaderTable, kMagic, U64Bytes(index_));
    header_sent_ = true;
  }
  while (table_ < keyspaces_.size()) {
    if (!it_.has_value()) {
      IterOptions io;
      io.snapshot = &*snap_;
      auto it = snap_storage_->NewIterator(keyspaces_[table_], io);
      if (!it.ok()) return it.status();
      it_.emplace(std::move(it.value()));
      it_->SeekToFirst();
    }
    for (; it_->Valid(); it_->Next()) {
      size_t n = RecordSize(it_->key(), it_->value());
      if (!fits(n)) {
        *done = false;
        return out;
      }
      PutRecord(&out, static_cast<uint8_t>(table_ + 1), it_->key(),
                it_->value());
      ++records_;
    }
    SB_RETURN_IF_ERROR(it_->status());
    it_.reset();
    ++table_;
  }
  const size_t trailer = RecordSize("", U64Bytes(records_));
  if (!fits(trailer)) {
    *done = false;
    return out;
  }
  PutRecord(&out, kTrailerTable, "", U64Bytes(records_));
  finished_ = true;
  *done = true;
  return out;
}

StatusOr<std::unique_ptr<SnapshotSource>>
OrderStateMachine::NewSnapshotSource() {
  // The session table's changes held in memory go to storage first: the
  // snapshot is complete at its index, and the log before it may go.
  SB_RETURN_IF_ERROR(Checkpoint());
  auto snap = storage_->NewSnapshot();
  if (!snap.ok()) return snap.status();
  std::unique_ptr<SnapshotSource> src(new SnapshotSource());
  src->snap_storage_ = storage_;
  src->snap_.emplace(std::move(snap.value()));
  // The index the snapshot covers, read through the snapshot itself.
  std::string v;
  Status s = storage_->Get(ks_[kMeta], "a", &v, &*src->snap_);
  if (s.ok() && v.size() == 8) {
    src->index_ = GetU64(v);
  } else if (s.ok()) {
    return Status::Corruption("stored applied index not 8 bytes");
  } else if (!s.IsNotFound()) {
    return s;
  }
  src->keyspaces_ = keyspaces();
  return src;
}

StatusOr<std::unique_ptr<StateReader>> OrderStateMachine::OpenSnapshot() {
  auto src = NewSnapshotSource();
  if (!src.ok()) return src.status();
  return std::unique_ptr<StateReader>(std::move(src.value()));
}

StatusOr<std::string> OrderStateMachine::Snapshot() {
  auto src = NewSnapshotSource();
  if (!src.ok()) return src.status();
  std::string all;
  bool done = false;
  while (!done) {
    auto chunk = (*src)->Next(1 << 20, &done);
    if (!chunk.ok()) return chunk.status();
    all.append(*chunk);
  }
  return all;
}

Status OrderStateMachine::Restore(uint64_t index, std::string_view data,
                                  WriteBatch* batch) {
  return RestoreChunk(index, /*first=*/true, /*last=*/true, data, batch);
}

namespace {

// Parses one record from `r`. Returns false with `*incomplete` set when the
// input ends inside the record (the caller keeps the rest for the next
// chunk), false without it when a length is over its cap.
bool ReadRecord(ByteReader* r, uint8_t* table, std::string_view* key,
                std::string_view* value, bool* incomplete) {
  ByteReader p = *r;
  *incomplete = true;
  if (!p.ReadU8(table)) return false;
  // Each length is checked against its cap first: over the cap is
  // corruption, while a length past the end of the chunk is only a record
  // the next chunk completes.
  for (auto [field, cap] :
       {std::pair{key, kMaxRecordKey}, std::pair{value, kMaxRecordValue}}) {
    ByteReader q = p;
    uint32_t len = 0;
    if (!q.ReadU32(&len)) return false;
    if (len > cap) {
      *incomplete = false;
      return false;
    }
    if (!p.ReadBytes(cap, field)) return false;
  }
  *r = p;
  *incomplete = false;
  return true;
}

}  // namespace

Status OrderStateMachine::RestoreChunk(uint64_t index, bool first, bool last,
                                       std::string_view chunk,
                                       WriteBatch* batch) {
  if (first) {
    // The installed state replaces everything: results waiting for entries
    // this node will now never apply are dropped, the overlay is void, and
    // every keyspace of the order is emptied in this same batch.
    results_.DropUnreleased();
    for (auto& o : overlay_) o.clear();
    for (auto& d : delta_) d.clear();
    delta_bytes_ = 0;
    overlay_index_ = 0;
    checkpoint_pending_ = 0;
    ForgetLruFloors();
    session_cache_.clear();
    session_cache_bytes_ = 0;
    restore_records_ = 0;
    restore_carry_.clear();
    restore_header_ = false;
    restore_trailer_ = false;
    for (uint32_t ks : keyspaces()) {
      auto it = storage_->NewIterator(ks);
      if (!it.ok()) return it.status();
      it->SeekToLast();
      if (!it->Valid()) {
        SB_RETURN_IF_ERROR(it->status());
        continue;
      }
      std::string end(it->key());
      end.push_back('\0');  // just past the last key
      SB_RETURN_IF_ERROR(batch->DeleteRange(ks, "", end));
    }
  }
  // Chunks may be cut anywhere (a consensus plugin cuts by bytes): a record
  // split across chunks waits in restore_carry_ (at most one record).
  std::string joined;
  std::string_view data = chunk;
  if (!restore_carry_.empty()) {
    joined = std::move(restore_carry_);
    joined.append(chunk);
    data = joined;
  }
  restore_carry_.clear();
  ByteReader r(data);
  while (!r.empty()) {
    if (restore_trailer_) {
      return Status::Corruption("records after snapshot trailer");
    }
    uint8_t table = 0;
    std::string_view key, value;
    bool incomplete = false;
    if (!ReadRecord(&r, &table, &key, &value, &incomplete)) {
      if (!incomplete) {
        return Status::Corruption("order snapshot record over size caps");
      }
      restore_carry_.assign(data.substr(data.size() - r.remaining()));
      break;
    }
    if (!restore_header_) {
      // Rule: the stream opens with the header naming the index consensus
      // is installing; anything else is not this snapshot.
      if (table == kHeaderTable && key != kMagic &&
          key.starts_with(kMagicPrefix)) {
        return Status::Corruption("order snapshot format '" + std::string(key) +
                                  "', this build reads '" +
                                  std::string(kMagic) +
                                  "' (radiants of one order must run builds "
                                  "with the same order state format)");
      }
      if (table != kHeaderTable || key != kMagic || value.size() != 8) {
        return Status::Corruption("order snapshot does not start with header");
      }
      if (GetU64(value) != index) {
        return Status::Corruption("order snapshot is of index " +
                                  std::to_string(GetU64(value)) + ", not " +
                                  std::to_string(index));
      }
      restore_header_ = true;
      continue;
    }
    if (table == kTrailerTable) {
      if (value.size() != 8 || GetU64(value) != restore_records_) {
        return Status::Corruption("order snapshot record count mismatch");
      }
      restore_trailer_ = true;
      continue;
    }
    if (table < 1 || table > kTables) {
      return Status::Corruption("order snapshot record of unknown table " +
                                std::to_string(table));
    }
    SB_RETURN_IF_ERROR(batch->Put(ks_[table - 1], key, value));
    ++restore_records_;
  }
  if (last && !restore_trailer_) {
    return Status::Corruption("order snapshot ends without trailer");
  }
  if (!last && restore_trailer_) {
    return Status::Corruption("order snapshot trailer before the end");
  }
  if (last) {
    // The source's applied index came with the meta records; the installed
    // index is the one consensus names (checked equal in the header).
    SB_RETURN_IF_ERROR(batch->Put(ks_[kMeta], "a", U64Bytes(index)));
    // The session table came whole with the snapshot: a checkpoint.
    SB_RETURN_IF_ERROR(batch->Put(ks_[kMeta], "c", U64Bytes(index)));
    checkpoint_index_ = index;
    stored_applied_ = index;
  }
  return Status::OK();
}

}  // namespace sb::order
