// host/consensus/storage_log.cc — see storage_log.h.
#include "host/consensus/storage_log.h"

#include <cstring>

namespace sb {
namespace {

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

std::string StorageLog::PieceKey(uint64_t index, uint64_t offset) const {
  std::string k = SnapKey('s', index);
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
  s = storage_->Get(ks_.state, StateKey('r'), &v);
  install_index_ = 0;
  install_meta_.clear();
  if (s.ok()) {
    if (v.size() < 8) return Status::Corruption("bad install marker");
    install_index_ = GetBE(v);
    install_meta_.assign(v.substr(8));
  } else if (!s.IsNotFound()) {
    return s;
  }
  // Size of the current snapshot: offset of its last piece + its length.
  {
    auto it =
        storage_->NewPrefixIterator(ks_.snapshot, SnapKey('s', snap_index_));
    if (!it.ok()) return it.status();
    it->SeekToLast();
    snap_size_ = 0;
    if (it->Valid()) {
      if (it->key().size() != 25) return Status::Corruption("bad piece key");
      snap_size_ = GetBE(it->key().substr(17)) + it->value().size();
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
  auto size = storage_->ApproximateSize(ks_.log, LogKey(snap_index_ + 1),
                                        LogKey(last_ + 1));
  log_bytes_ = size.ok() ? *size : 0;
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

Status StorageLog::ForEachIncoming(
    const std::function<Status(uint64_t, std::string_view, bool)>& fn) {
  std::string prefix;
  PutBE(&prefix, group_);
  prefix.push_back('i');
  auto it = storage_->NewPrefixIterator(ks_.snapshot, prefix);
  if (!it.ok()) return it.status();
  // One chunk is held back so that the last one can be named as such.
  uint64_t expect = 0;
  bool have = false;
  uint64_t held_off = 0;
  std::string held;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 17) return Status::Corruption("bad chunk key");
    uint64_t off = GetBE(it->key().substr(9));
    if (off != expect) {
      return Status::Corruption("incoming snapshot has a gap at " +
                                std::to_string(expect));
    }
    if (have) SB_RETURN_IF_ERROR(fn(held_off, held, false));
    held_off = off;
    held.assign(it->value());
    have = true;
    expect = off + held.size();
  }
  SB_RETURN_IF_ERROR(it->status());
  if (!have) return Status::Corruption("no incoming snapshot stored");
  return fn(held_off, held, true);
}

Status StorageLog::AddInstallMarker(uint64_t index, std::string_view meta,
                                    WriteBatch* b) {
  if (index == 0) return b->Delete(ks_.state, StateKey('r'));
  std::string rec;
  PutBE(&rec, index);
  rec.append(meta);
  return b->Put(ks_.state, StateKey('r'), rec);
}

Status StorageLog::AddSnapshotPiece(uint64_t index, uint64_t offset,
                                    std::string_view data, WriteBatch* b) {
  return b->Put(ks_.snapshot, PieceKey(index, offset), data);
}

Status StorageLog::AddSnapshotCommit(uint64_t index, std::string_view meta,
                                     uint64_t size, uint64_t log_through,
                                     WriteBatch* b) {
  // Every other snapshot's pieces: those of the previous snapshot and any
  // left by a compaction or install that a crash interrupted.
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.snapshot, SnapKey('s', 0), SnapKey('s', index)));
  SB_RETURN_IF_ERROR(b->DeleteRange(ks_.snapshot, SnapKey('s', index + 1),
                                    SnapKey('s', UINT64_MAX)));
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.snapshot, SnapKey('i', 0), SnapKey('i', UINT64_MAX)));
  SB_RETURN_IF_ERROR(b->Delete(ks_.state, StateKey('r')));
  std::string rec;
  PutBE(&rec, index);
  rec.append(meta);
  SB_RETURN_IF_ERROR(b->Put(ks_.state, StateKey('m'), rec));
  SB_RETURN_IF_ERROR(
      b->DeleteRange(ks_.log, LogKey(0), LogKey(log_through + 1)));
  snap_size_pending_ = size;
  return Status::OK();
}

void StorageLog::NoteEntries(const std::vector<EntryView>& entries) {
  if (entries.empty()) return;
  last_ = entries.back().index;
  for (const EntryView& e : entries)
    log_bytes_ += e.meta.size() + e.data.size();
}

void StorageLog::NoteSnapshot(uint64_t index, uint64_t log_through) {
  snap_index_ = index;
  snap_size_ = snap_size_pending_;
  install_index_ = 0;
  install_meta_.clear();
  if (last_ <= log_through) last_ = index;
  // The byte count starts over: what remains after `log_through` (the
  // entries appended while a compaction copied its pieces) is not counted,
  // so the next byte threshold is reached that much later.
  log_bytes_ = 0;
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
  // Pieces have any size: start from the last piece beginning at or before
  // `offset` and copy forward.
  IterOptions o;
  o.lower_bound = PieceKey(index, 0);
  o.upper_bound = SnapKey('s', index + 1);
  auto it = storage_->NewIterator(ks_.snapshot, o);
  if (!it.ok()) return it.status();
  it->SeekForPrev(PieceKey(index, offset));
  if (!it->Valid() && offset < end) it->SeekToFirst();
  uint64_t pos = offset;
  for (; it->Valid() && pos < end; it->Next()) {
    if (it->key().size() != 25) return Status::Corruption("bad piece key");
    uint64_t piece = GetBE(it->key().substr(17));
    std::string_view v = it->value();
    if (piece > pos) return Status::Corruption("snapshot has a gap");
    if (piece + v.size() <= pos) continue;
    uint64_t from = pos - piece;
    uint64_t to = std::min<uint64_t>(end - piece, v.size());
    data->append(v.substr(from, to - from));
    pos = piece + to;
  }
  SB_RETURN_IF_ERROR(it->status());
  if (pos < end) return Status::Corruption("snapshot piece missing");
  *done = offset + data->size() >= snap_size_;
  return Status::OK();
}

}  // namespace sb
