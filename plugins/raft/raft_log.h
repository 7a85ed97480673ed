// plugins/raft/raft_log.h — the Raft log as the plugin sees it.
//
// The log is split like etcd-io/raft's raftLog: a *stable* part the host has
// persisted (read back through the host's sb_consensus_log_reader) and an
// *unstable* tail of entries handed to the host in a ready batch but not yet
// acknowledged by advance. Below both sits the snapshot (index + term).
//
// To answer "term at index i" without calling the host, the log keeps term
// runs: (first index, term) for each run of equal terms, one pair per term
// change — tiny, rebuilt by one scan at start-up. It also keeps the history
// of membership entries still in the log, because a server uses the latest
// membership in its log whether committed or not (dissertation §4.1), and
// must fall back to the previous one when a conflicting suffix is removed.
//
// Thread safety: none; owned by one Raft instance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "codec.h"
#include "shardbearer/abi/consensus.h"

namespace sbraft {

class RaftLog {
 public:
  // `reader` is borrowed and must outlive the log.
  explicit RaftLog(const sb_consensus_log_reader* reader) : reader_(reader) {}

  // Rebuilds the in-memory indexes from the host's log. Returns false and
  // fills *error on unreadable or inconsistent data.
  bool Init(std::string* error);

  const sb_consensus_log_reader* reader() const { return reader_; }
  uint64_t snapshot_index() const { return snap_index_; }
  uint64_t snapshot_term() const { return snap_term_; }
  uint64_t first_index() const { return snap_index_ + 1; }
  uint64_t last_index() const;
  uint64_t last_term() const { return *Term(last_index()); }
  // Last index the host has persisted (acknowledged by advance).
  uint64_t stable_last() const { return stable_last_; }
  // Term of entry i, for snapshot_index() <= i <= last_index().
  std::optional<uint64_t> Term(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t term) const {
    auto t = Term(i);
    return t.has_value() && *t == term;
  }
  // Raft §5.4.1: is a log ending at (index, term) at least as up-to-date?
  bool IsUpToDate(uint64_t index, uint64_t term) const {
    return term > last_term() || (term == last_term() && index >= last_index());
  }
  // Largest index <= `index` whose term is <= `term` (etcd's
  // findConflictByTerm); never below the snapshot index.
  uint64_t FindConflictByTerm(uint64_t index, uint64_t term) const;

  // Appends entries (consecutive indexes). If the first index is <= last,
  // the log from that index on is replaced (a conflicting suffix, §5.3).
  // Entries below the snapshot or above last+1 are a caller bug.
  void Append(std::vector<Entry> entries);
  void Append(Entry e);

  // Copies entries [lo, hi) with at most max_bytes of payload (but at least
  // one) into *out. False if part of the range is compacted or unreadable.
  bool Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes,
             std::vector<Entry>* out, std::string* error) const;

  // The unstable tail (entries to hand out in the next ready).
  const std::vector<Entry>& unstable() const { return unstable_; }
  // The host persisted everything through `index` (advance).
  void StableTo(uint64_t index);

  // The host dropped entries <= index after snapshotting.
  void CompactTo(uint64_t index);
  // A snapshot at (index, term, membership) was installed: the whole log is
  // replaced by it.
  void Restore(uint64_t index, uint64_t term, const Membership& ms);

  // Membership in force: the latest membership entry in the log, else the
  // snapshot's. Index of that entry (0 if from snapshot/none).
  const Membership& membership() const { return history_.back().second; }
  uint64_t membership_index() const { return history_.back().first; }
  // Membership in force at `index` (>= snapshot index).
  const Membership& MembershipAt(uint64_t index) const;

 private:
  void NoteEntry(const Entry& e);
  void TruncateFrom(uint64_t index);

  const sb_consensus_log_reader* reader_;
  uint64_t snap_index_ = 0;
  uint64_t snap_term_ = 0;
  uint64_t stable_last_ = 0;
  std::vector<Entry> unstable_;  // indexes stable_last_+1 ...
  // (first index, term) of each run of equal terms above the snapshot.
  std::vector<std::pair<uint64_t, uint64_t>> runs_;
  // (index, membership): history_[0] is the snapshot's membership.
  std::vector<std::pair<uint64_t, Membership>> history_{{0, Membership{}}};
};

}  // namespace sbraft
