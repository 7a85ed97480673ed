// host/consensus/storage_log.cc — see storage_log.h.
#include "host/consensus/storage_log.h"

#include <cstring>

namespace sb {
namespace {

// Snapshot data is stored in pieces of this size.
constexpr uint64_t kPiece = 1u << 20;

void PutBE(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetBE(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

StatusOr<ConsensusKeyspaces> ConsensusKeyspaces::Open(Storage* storage) {
  ConsensusKeyspaces ks;
  auto log = storage->Keyspace("consensus.log");
  if (!log.ok()) return log.status();
  auto state = storage->Keyspace("consensus.state");
  if (!state.ok()) return state.status();
  auto snap = storage->Keyspace("consensus.snapshot");
  if (!snap.ok()) return snap.status();
  ks.log = *log;
  ks.state = *state;
  ks.snapshot = *snap;
  return ks;
}

StorageLog::StorageLog(Storage* storage, ConsensusKeyspaces ks, uint64_t group)
    : storage_(storage), ks_(ks), group_(group) {}

std::string StorageLog::LogKey(uint64_t index) const {
  std::string k;
  PutBE(&k, group_);
  PutBE(&k, index);
  return k;
}

std::string StorageLog::StateKey(char tag) const {
  std::string k;
  PutBE(&k, group_);
  k.push_back(tag);
  return k;
}

std::string StorageLog::SnapKey(char kind, uint64_t offset) const {
  std::string k;
  PutBE(&k, group_);
  k.push_back(kind);
  PutBE(&k, offset);
  return k;
}

Status StorageLog::Load() {
  std::string v;
  Status s = storage_->Get(ks_.state, StateKey('h'), &hard_state_);
  if (!s.ok() && !s.IsNotFound()) return s;
  if (s.IsNotFound()) hard_state_.clear();
  s = storage_->Get(ks_.state, StateKey('a'), &v);
  if (s.ok()) {
    if (v.size() != 8) return Status::Corruption("bad applied index record");
    applied_ = GetBE(v);
  } else if (!s.IsNotFound()) {
    return s;
  }
  s = storage_->Get(ks_.state, StateKey('m'), &v);
  if (s.ok()) {
    if (v.size() < 8) return Status::Corruption("bad snapshot record");
    snap_index_ = GetBE(v);
  } else if (!s.IsNotFound()) {
    return s;
  }
  // Size of the current snapshot: offset of the last piece + its length.
  {
    std::string prefix;
    PutBE(&prefix, group_);
    prefix.push_back('s');
    auto it = storage_->NewPrefixIterator(ks_.snapshot, prefix);
    if (!it.ok()) return it.status();
    it->SeekToLast();
    snap_size_ = 0;
    if (it->Valid()) {
      snap_size_ = GetBE(it->key().substr(9)) + it->value().size();
    }
    SB_RETURN_IF_ERROR(it->status());
  }
  // Last stored index: the last key of the group's log range.
  std::string prefix;
  PutBE(&prefix, group_);
  auto it = storage_->NewPrefixIterator(ks_.log, prefix);
  if (!it.ok()) return it.status();
  it->SeekToLast();
  last_ = it->Valid() ? GetBE(it->key().substr(8)) : snap_index_;
  SB_RETURN_IF_ERROR(it->status());
  if (last_ < snap_index_)
    return Status::Corruption("log ends before snapshot");
  return Status::OK();
}

Status StorageLog::AddEntries(const std::vector<EntryView>& entries,
                              WriteBatch* b) {
  if (entries.empty()) return Status::OK();
  uint64_t first = entries.front().index;
  if (first <= last_) {
    // The protocol replaces a conflicting suffix.
    SB_RETURN_IF_ERROR(
        b->DeleteRange(ks_.log, LogKey(first), LogKey(last_ + 1)));
  }
  std::string value;
  for (const EntryView& e : entries) {
    value.clear();
    value.push_back(static_cast<char>(e.type));
    uint32_t n = static_cast<uint32_t>(e.meta.size());
    value.append(reinterpret_cast<const char*>(&n), sizeof n);
    value.append(e.meta);
    value.append(e.data);
    SB_RETURN_IF_ERROR(b->Put(ks_.log, LogKey(e.index), value));
  }
  return Status::OK();
}

Status StorageLog::AddHardState(std::string_view hs, WriteBatch* b) {
  return b->Put(ks_.state, StateKey('h'), hs);
}

Status StorageLog::AddApplied(uint64_t index, WriteBatch* b) {
  std::string v;
  PutBE(&v, index);
  return b->Put(ks_.state, StateKey('a'), v);
}

Status StorageLog::AddChunk(const SnapshotChunkView& c, WriteBatch* b) {
  if (c.offset == 0) {
    SB_RETURN_IF_ERROR(b->DeleteRange(ks_.snapshot, SnapKey('i', 0),
                                      SnapKey('i', UINT64_MAX)));
  }
  return b->Put(ks_.snapshot, SnapKey('i', c.offset), c.data);
}

StatusOr<std::string> StorageLog::AssembleIncoming(
    const SnapshotChunkView& last) {
  std::string data;
  if (last.offset > 0) {
    std::string prefix;
    PutBE(&prefix, group_);
    prefix.push_back('i');
    auto it = storage_->NewPrefixIterator(ks_.snapshot, prefix);
    if (!it.ok()) return it.status();
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      uint64_t off = GetBE(it->key().substr(9));
      if (off >= last.offset) break;
      if (off != data.size()) {
        return Status::Corruption("incoming snapshot has a gap at " +
                                  std::to_string(data.size()));
      }
      data.append(it->value());
    }
    SB_RETURN_IF_ERROR(it->status());
    if (data.size() != last.offset) {
      return Status::Corruption("incoming snapshot is incomplete");
    }
  }
  data.append(last.data);
  return data;
}

Status StorageLog::AddSnapshot(uint64_t index, std::string_view meta,
                               std::string_view data, uint64_t log_through,
                               WriteBatch* b) {
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.snapshot, SnapKey('s', 0), SnapKey('s', UINT64_MAX)));
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.snapshot, SnapKey('i', 0), SnapKey('i', UINT64_MAX)));
  for (uint64_t off = 0; off < data.size(); off += kPiece) {
    SB_RETURN_IF_ERROR(
        b->Put(ks_.snapshot, SnapKey('s', off), data.substr(off, kPiece)));
  }
  std::string rec;
  PutBE(&rec, index);
  rec.append(meta);
  SB_RETURN_IF_ERROR(b->Put(ks_.state, StateKey('m'), rec));
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.log, LogKey(0), LogKey(log_through + 1)));
  snap_size_pending_ = data.size();
  return Status::OK();
}

void StorageLog::NoteEntries(const std::vector<EntryView>& entries) {
  if (!entries.empty()) last_ = entries.back().index;
}

void StorageLog::NoteSnapshot(uint64_t index, uint64_t log_through) {
  snap_index_ = index;
  snap_size_ = snap_size_pending_;
  if (last_ <= log_through) last_ = index;
}

Status StorageLog::Range(uint64_t* first, uint64_t* last) {
  *first = snap_index_ + 1;
  *last = last_;
  return Status::OK();
}

Status StorageLog::Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                           const std::function<void(const LogEntry&)>& fn) {
  if (lo <= snap_index_ || hi > last_ + 1 || lo >= hi) {
    return Status::NotFound("entries [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + ") not in the log of group " +
                            std::to_string(group_));
  }
  IterOptions o;
  o.lower_bound = LogKey(lo);
  o.upper_bound = LogKey(hi);
  auto it = storage_->NewIterator(ks_.log, o);
  if (!it.ok()) return it.status();
  uint64_t bytes = 0, expect = lo;
  LogEntry e;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view v = it->value();
    if (it->key().size() != 16 || v.size() < 5) {
      return Status::Corruption("bad log record in group " +
                                std::to_string(group_));
    }
    uint32_t n;
    memcpy(&n, v.data() + 1, sizeof n);
    if (v.size() < 5 + static_cast<size_t>(n)) {
      return Status::Corruption("bad log record meta length");
    }
    e.index = GetBE(it->key().substr(8));
    if (e.index != expect) {
      return Status::Corruption("log of group " + std::to_string(group_) +
                                " has a hole at " + std::to_string(expect));
    }
    e.type = static_cast<EntryType>(static_cast<uint8_t>(v[0]));
    e.meta.assign(v.substr(5, n));
    e.data.assign(v.substr(5 + n));
    uint64_t size = e.meta.size() + e.data.size();
    if (expect > lo && bytes + size > max_bytes) break;
    bytes += size;
    fn(e);
    ++expect;
  }
  SB_RETURN_IF_ERROR(it->status());
  if (expect == lo) return Status::Corruption("log entries missing");
  return Status::OK();
}

Status StorageLog::SnapshotMeta(uint64_t* index, std::string* meta) {
  std::string v;
  Status s = storage_->Get(ks_.state, StateKey('m'), &v);
  if (!s.ok()) return s;
  if (v.size() < 8) return Status::Corruption("bad snapshot record");
  *index = GetBE(v);
  meta->assign(v.substr(8));
  return Status::OK();
}

Status StorageLog::SnapshotRead(uint64_t index, uint64_t offset,
                                uint64_t max_bytes, std::string* data,
                                bool* done) {
  if (index != snap_index_ || snap_index_ == 0) {
    return Status::NotFound("snapshot at " + std::to_string(index) +
                            " was replaced");
  }
  if (offset > snap_size_) {
    return Status::InvalidArgument("offset beyond the snapshot");
  }
  data->clear();
  uint64_t end = std::min(snap_size_, offset + max_bytes);
  for (uint64_t piece = offset / kPiece * kPiece; piece < end;
       piece += kPiece) {
    std::string v;
    SB_RETURN_IF_ERROR(storage_->Get(ks_.snapshot, SnapKey('s', piece), &v));
    uint64_t from = std::max(offset, piece) - piece;
    uint64_t to = std::min<uint64_t>(end - piece, v.size());
    if (from > to) return Status::Corruption("snapshot piece too short");
    data->append(v, from, to - from);
  }
  *done = offset + data->size() >= snap_size_;
  return Status::OK();
}

}  // namespace sb
