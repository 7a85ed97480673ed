// plugins/raft/raft_log.cc — see raft_log.h.
#include "raft_log.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace sbraft {
namespace {

// Budget of one read while scanning the log at start-up.
constexpr uint64_t kScanBytes = 4u << 20;

std::string_view View(sb_bytes b) {
  return {reinterpret_cast<const char*>(b.data), b.len};
}

struct SliceCtx {
  std::vector<Entry>* out;
  uint64_t next_index;
  bool bad = false;
  uint64_t bytes = 0;
};

void SliceSink(void* ctx, const sb_consensus_entry* e) {
  auto* s = static_cast<SliceCtx*>(ctx);
  if (s->bad) return;
  Entry entry;
  if (e == nullptr || e->index != s->next_index ||
      !DecodeEntryMeta(View(e->meta), &entry.term) ||
      e->type > SB_ENTRY_PROTOCOL) {
    s->bad = true;
    return;
  }
  entry.index = e->index;
  entry.type = e->type;
  entry.data.assign(reinterpret_cast<const char*>(e->data.data), e->data.len);
  s->bytes += entry.data.size();
  s->next_index++;
  s->out->push_back(std::move(entry));
}

void StringSink(void* ctx, const uint8_t* data, size_t len) {
  static_cast<std::string*>(ctx)->assign(reinterpret_cast<const char*>(data),
                                         len);
}

}  // namespace

bool RaftLog::Init(std::string* error) {
  sb_status st{};
  uint64_t first = 0, last = 0;
  if (reader_->range(reader_->ctx, &first, &last, &st) != SB_OK) {
    *error = std::string("log reader range failed: ") + st.message;
    return false;
  }
  std::string meta;
  uint64_t sidx = 0;
  sb_code code =
      reader_->snapshot_meta(reader_->ctx, &sidx, StringSink, &meta, &st);
  if (code == SB_OK) {
    SnapshotMeta sm;
    if (!DecodeSnapshotMeta(meta, &sm)) {
      *error = "snapshot metadata is corrupt";
      return false;
    }
    snap_index_ = sidx;
    snap_term_ = sm.term;
    history_ = {{sidx, sm.membership}};
  } else if (code != SB_NOT_FOUND) {
    *error = std::string("log reader snapshot_meta failed: ") + st.message;
    return false;
  }
  if (first != snap_index_ + 1 || last + 1 < first) {
    char buf[160];
    snprintf(buf, sizeof buf,
             "log range [%" PRIu64 ", %" PRIu64
             "] does not follow the snapshot at %" PRIu64,
             first, last, snap_index_);
    *error = buf;
    return false;
  }
  stable_last_ = snap_index_;
  // Scan the stored entries once to rebuild term runs and the membership
  // history (bounded reads; nothing is kept but the indexes).
  uint64_t next = first;
  std::vector<Entry> chunk;
  while (next <= last) {
    chunk.clear();
    SliceCtx ctx{&chunk, next};
    if (reader_->entries(reader_->ctx, next, last + 1, kScanBytes, SliceSink,
                         &ctx, &st) != SB_OK ||
        ctx.bad || chunk.empty()) {
      *error = "cannot read back the stored log: ";
      *error += ctx.bad ? "bad entry" : st.message;
      return false;
    }
    for (Entry& e : chunk) {
      if (e.term < (runs_.empty() ? snap_term_ : runs_.back().second)) {
        *error = "stored log has decreasing terms";
        return false;
      }
      NoteEntry(e);
    }
    next = chunk.back().index + 1;
    stable_last_ = chunk.back().index;
  }
  return true;
}

uint64_t RaftLog::last_index() const {
  return unstable_.empty() ? stable_last_ : unstable_.back().index;
}

std::optional<uint64_t> RaftLog::Term(uint64_t i) const {
  if (i == snap_index_) return snap_term_;
  if (i < snap_index_ || i > last_index()) return std::nullopt;
  auto it =
      std::upper_bound(runs_.begin(), runs_.end(), i,
                       [](uint64_t v, const std::pair<uint64_t, uint64_t>& r) {
                         return v < r.first;
                       });
  // runs_ covers (snap_index_, last_index()], so `it` is never begin().
  return std::prev(it)->second;
}

uint64_t RaftLog::FindConflictByTerm(uint64_t index, uint64_t term) const {
  index = std::min(index, last_index());
  if (index <= snap_index_) return snap_index_;
  // Walk the runs backwards: the answer is either `index` itself or the
  // last index of an earlier run with a term <= `term`.
  for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
    if (it->first > index) continue;
    if (it->second <= term) return index;
    index = it->first - 1;  // skip this whole run
  }
  return snap_index_;
}

void RaftLog::NoteEntry(const Entry& e) {
  if (runs_.empty() || runs_.back().second != e.term) {
    runs_.emplace_back(e.index, e.term);
  }
  if (e.type == SB_ENTRY_PROTOCOL) {
    ProtocolKind kind;
    Membership ms;
    if (DecodeProtocolEntry(e.data, &kind, &ms) &&
        kind == ProtocolKind::kMembership) {
      history_.emplace_back(e.index, std::move(ms));
    }
  }
}

void RaftLog::TruncateFrom(uint64_t index) {
  if (index <= stable_last_) {
    unstable_.clear();
    stable_last_ = index - 1;
  } else {
    unstable_.erase(unstable_.begin() + (index - stable_last_ - 1),
                    unstable_.end());
  }
  while (!runs_.empty() && runs_.back().first >= index) runs_.pop_back();
  while (history_.size() > 1 && history_.back().first >= index) {
    history_.pop_back();
  }
}

void RaftLog::Append(Entry e) {
  if (e.index <= last_index()) TruncateFrom(e.index);
  NoteEntry(e);
  unstable_.push_back(std::move(e));
}

void RaftLog::Append(std::vector<Entry> entries) {
  for (Entry& e : entries) Append(std::move(e));
}

bool RaftLog::Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                    std::vector<Entry>* out, std::string* error) const {
  if (lo <= snap_index_ || hi > last_index() + 1 || lo >= hi) {
    *error = "requested range is outside the log";
    return false;
  }
  uint64_t bytes = 0;
  if (lo <= stable_last_) {
    uint64_t shi = std::min(hi, stable_last_ + 1);
    SliceCtx ctx{out, lo};
    sb_status st{};
    if (reader_->entries(reader_->ctx, lo, shi, max_bytes, SliceSink, &ctx,
                         &st) != SB_OK ||
        ctx.bad || ctx.next_index == lo) {
      *error = "log reader failed: ";
      *error += ctx.bad ? "bad entry" : st.message;
      return false;
    }
    bytes = ctx.bytes;
    if (ctx.next_index < shi || bytes >= max_bytes) return true;
    lo = shi;
  }
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = unstable_[i - stable_last_ - 1];
    if (!out->empty() && bytes + e.data.size() > max_bytes) break;
    bytes += e.data.size();
    out->push_back(e);
  }
  return true;
}

void RaftLog::StableTo(uint64_t index) {
  if (index <= stable_last_) return;
  size_t n = std::min<uint64_t>(index - stable_last_, unstable_.size());
  unstable_.erase(unstable_.begin(), unstable_.begin() + n);
  stable_last_ += n;
}

void RaftLog::CompactTo(uint64_t index) {
  if (index <= snap_index_ || index > stable_last_) return;
  snap_term_ = *Term(index);
  Membership ms = MembershipAt(index);
  // Keep the run that covers index + 1 (if any), starting there.
  size_t keep = 0;
  while (keep + 1 < runs_.size() && runs_[keep + 1].first <= index + 1) ++keep;
  runs_.erase(runs_.begin(), runs_.begin() + keep);
  if (!runs_.empty()) {
    if (index + 1 > last_index()) {
      runs_.clear();
    } else {
      runs_.front().first = std::max(runs_.front().first, index + 1);
    }
  }
  std::vector<std::pair<uint64_t, Membership>> history{{index, std::move(ms)}};
  for (auto& h : history_) {
    if (h.first > index) history.push_back(std::move(h));
  }
  history_ = std::move(history);
  snap_index_ = index;
}

void RaftLog::Restore(uint64_t index, uint64_t term, const Membership& ms) {
  snap_index_ = index;
  snap_term_ = term;
  stable_last_ = index;
  unstable_.clear();
  runs_.clear();
  history_ = {{index, ms}};
}

const Membership& RaftLog::MembershipAt(uint64_t index) const {
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (it->first <= index) return it->second;
  }
  return history_.front().second;
}

}  // namespace sbraft
