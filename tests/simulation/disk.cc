// tests/simulation/disk.cc — see disk.h.
#include "tests/simulation/disk.h"

#include <cstring>

namespace sb::sim {
namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0x100000001b3ULL;
}

uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

void PutU64(std::string* out, uint64_t v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

bool GetU64(std::string_view* in, uint64_t* v) {
  if (in->size() < sizeof *v) return false;
  memcpy(v, in->data(), sizeof *v);
  in->remove_prefix(sizeof *v);
  return true;
}

void PutStr(std::string* out, std::string_view s) {
  PutU64(out, s.size());
  out->append(s);
}

bool GetStr(std::string_view* in, std::string* s) {
  uint64_t n;
  if (!GetU64(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

void SmState::Apply(uint64_t index, EntryType type, std::string_view data) {
  applied = index;
  hash = Mix(Mix(hash, index), HashBytes(data) ^ static_cast<uint64_t>(type));
  if (type != EntryType::kNormal) return;
  ++normal_applied;
  size_t eq = data.find('=');
  if (eq != std::string_view::npos) {
    kv[std::string(data.substr(0, eq))] = std::string(data.substr(eq + 1));
  }
}

std::string SmState::Serialize() const {
  std::string out;
  PutU64(&out, applied);
  PutU64(&out, hash);
  PutU64(&out, normal_applied);
  PutU64(&out, kv.size());
  for (const auto& [k, v] : kv) {
    PutStr(&out, k);
    PutStr(&out, v);
  }
  return out;
}

bool SmState::Deserialize(std::string_view in) {
  SmState s;
  uint64_t n;
  if (!GetU64(&in, &s.applied) || !GetU64(&in, &s.hash) ||
      !GetU64(&in, &s.normal_applied) || !GetU64(&in, &n)) {
    return false;
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string k, v;
    if (!GetStr(&in, &k) || !GetStr(&in, &v)) return false;
    s.kv[std::move(k)] = std::move(v);
  }
  if (!in.empty()) return false;
  *this = std::move(s);
  return true;
}

void SimDisk::Write(Op op) {
  op(&cur_);
  journal_.push_back(std::move(op));
}

void SimDisk::Sync() {
  for (Op& op : journal_) op(&durable_);
  journal_.clear();
}

void SimDisk::Crash() {
  journal_.clear();
  cur_ = durable_;
}

void SimDisk::SetHardState(std::string_view hs) {
  Write([hs = std::string(hs)](DiskState* d) { d->hard_state = hs; });
}

void SimDisk::AppendEntries(const std::vector<EntryView>& entries) {
  if (entries.empty()) return;
  std::vector<LogEntry> copy;
  copy.reserve(entries.size());
  for (const EntryView& e : entries) {
    copy.push_back({e.type, e.index, std::string(e.meta), std::string(e.data)});
  }
  Write([copy = std::move(copy)](DiskState* d) {
    uint64_t first = copy.front().index;
    while (!d->log.empty() && d->log.back().index >= first) d->log.pop_back();
    for (const LogEntry& e : copy) d->log.push_back(e);
  });
}

bool SimDisk::WriteChunk(uint64_t offset, std::string_view data) {
  if (offset != 0 && offset != cur_.incoming.size()) return false;
  Write([offset, data = std::string(data)](DiskState* d) {
    if (offset == 0) d->incoming.clear();
    d->incoming.append(data);
  });
  return true;
}

bool SimDisk::InstallSnapshot(uint64_t index, std::string_view meta) {
  SmState sm;
  if (!sm.Deserialize(cur_.incoming) || sm.applied != index) return false;
  Write([index, meta = std::string(meta)](DiskState* d) {
    d->sm.Deserialize(d->incoming);
    d->has_snapshot = true;
    d->snap_index = index;
    d->snap_meta = meta;
    d->snap_data = std::move(d->incoming);
    d->incoming.clear();
    d->log.clear();
  });
  return true;
}

void SimDisk::TakeSnapshot(uint64_t index, std::string_view meta) {
  Write([index, meta = std::string(meta)](DiskState* d) {
    while (!d->log.empty() && d->log.front().index <= index) {
      d->log.pop_front();
    }
    d->has_snapshot = true;
    d->snap_index = index;
    d->snap_meta = meta;
    d->snap_data = d->sm.Serialize();
  });
}

void SimDisk::ApplyCommitted(const std::vector<EntryView>& entries) {
  if (entries.empty()) return;
  std::vector<LogEntry> copy;
  copy.reserve(entries.size());
  for (const EntryView& e : entries) {
    copy.push_back({e.type, e.index, {}, std::string(e.data)});
  }
  Write([copy = std::move(copy)](DiskState* d) {
    for (const LogEntry& e : copy) {
      if (e.index == d->sm.applied + 1) d->sm.Apply(e.index, e.type, e.data);
    }
  });
}

Status SimDisk::Range(uint64_t* first, uint64_t* last) {
  *first = cur_.snap_index + 1;
  *last = cur_.last_index();
  return Status::OK();
}

Status SimDisk::Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                        const std::function<void(const LogEntry&)>& fn) {
  if (lo <= cur_.snap_index || hi > cur_.last_index() + 1 || lo >= hi) {
    return Status::NotFound("entries [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + ") not in the log");
  }
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const LogEntry& e = cur_.log[i - cur_.snap_index - 1];
    uint64_t size = e.meta.size() + e.data.size();
    if (i > lo && bytes + size > max_bytes) break;
    bytes += size;
    fn(e);
  }
  return Status::OK();
}

Status SimDisk::SnapshotMeta(uint64_t* index, std::string* meta) {
  if (!cur_.has_snapshot) return Status::NotFound("no snapshot");
  *index = cur_.snap_index;
  *meta = cur_.snap_meta;
  return Status::OK();
}

Status SimDisk::SnapshotRead(uint64_t index, uint64_t offset,
                             uint64_t max_bytes, std::string* data,
                             bool* done) {
  if (!cur_.has_snapshot || cur_.snap_index != index) {
    return Status::NotFound("snapshot replaced");
  }
  if (offset > cur_.snap_data.size()) {
    return Status::InvalidArgument("offset beyond the snapshot");
  }
  uint64_t n = std::min<uint64_t>(max_bytes, cur_.snap_data.size() - offset);
  data->assign(cur_.snap_data, offset, n);
  *done = offset + n == cur_.snap_data.size();
  return Status::OK();
}

}  // namespace sb::sim
