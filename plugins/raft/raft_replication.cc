// plugins/raft/raft_replication.cc — log replication (§5.3), commitment
// (§5.4.2), snapshots (§5 of the dissertation) and ReadIndex confirmation.
#include <algorithm>
#include <cinttypes>

#include "raft.h"

namespace sbraft {
namespace {

constexpr size_t kMaxSeqHistory = 256;

// A follower acknowledged `n`: raise match/next. True if match moved.
bool MaybeUpdate(Progress* pr, uint64_t n, uint64_t now) {
  bool updated = false;
  if (pr->match < n) {
    pr->progress_at = now;
    pr->match = n;
    pr->probe_sent = false;
    updated = true;
  }
  pr->next = std::max(pr->next, n + 1);
  return updated;
}

// A follower rejected an append at `rejected`; `probe_hint` is the index we
// believe it matches next. False for a stale rejection.
bool MaybeDecrTo(Progress* pr, uint64_t rejected, uint64_t probe_hint) {
  if (pr->state == Progress::State::kSnapshot) return false;
  if (pr->state == Progress::State::kReplicate) {
    // Pipelined appends after a rejected one fail too: restart from match.
    if (rejected <= pr->match) return false;
    pr->next = pr->match + 1;
    return true;
  }
  // Probe: only the answer to the outstanding probe counts.
  if (pr->next - 1 != rejected) return false;
  pr->next = std::max(std::min(rejected, probe_hint + 1), pr->match + 1);
  pr->probe_sent = false;
  return true;
}

void BecomeProbe(Progress* pr) {
  pr->state = Progress::State::kProbe;
  pr->probe_sent = false;
  pr->inflight.clear();
  pr->next = std::max(pr->next, pr->match + 1);
}

void BecomeReplicate(Progress* pr, uint64_t now) {
  pr->state = Progress::State::kReplicate;
  pr->progress_at = now;
  pr->inflight.clear();
  pr->next = pr->match + 1;
}

}  // namespace

// ---- Leader side ---------------------------------------------------------

bool Raft::SendAppend(uint64_t to, bool send_if_empty) {
  auto it = prs_.find(to);
  if (it == prs_.end() || to == id_) return false;
  Progress& pr = it->second;
  switch (pr.state) {
    case Progress::State::kSnapshot:
      return false;
    case Progress::State::kProbe:
      if (pr.probe_sent) return false;
      break;
    case Progress::State::kReplicate:
      if (pr.inflight.size() >= opts_.max_inflight) return false;
      break;
  }
  uint64_t prev = pr.next - 1;
  std::optional<uint64_t> prev_term = log_.Term(prev);
  Message m;
  m.type = MsgType::kAppend;
  m.to = to;
  m.index = prev;
  if (prev_term.has_value() && pr.next <= log_.last_index()) {
    std::string error;
    if (!log_.Slice(pr.next, log_.last_index() + 1, opts_.max_batch_bytes,
                    &m.entries, &error)) {
      Logf(SB_LOG_WARN, "cannot read entries for %" PRIu64 ": %s", to,
           error.c_str());
      prev_term.reset();  // treat as compacted: fall back to a snapshot
      m.entries.clear();
    }
  }
  if (!prev_term.has_value()) {
    // The entries the follower needs are compacted away: InstallSnapshot.
    pr.state = Progress::State::kSnapshot;
    pr.inflight.clear();
    pr.probe_sent = false;
    pr.snap_index = 0;
    pr.snap_offset = 0;
    SendSnapshotChunk(to, &pr);
    return false;
  }
  if (m.entries.empty() && !send_if_empty) return false;
  m.log_term = *prev_term;
  m.commit = commit_;
  pr.commit_sent = commit_;
  if (!m.entries.empty()) {
    uint64_t last_sent = m.entries.back().index;
    if (pr.state == Progress::State::kReplicate) {
      // Pipelining: optimistically assume success and keep sending. The
      // acknowledgement clock starts with the first append in flight.
      if (pr.inflight.empty()) pr.progress_at = now_;
      pr.next = last_sent + 1;
      pr.inflight.push_back(last_sent);
    } else {
      pr.probe_sent = true;
    }
  } else if (pr.state == Progress::State::kProbe) {
    pr.probe_sent = true;
  }
  Send(std::move(m));
  return true;
}

void Raft::SendSnapshotChunk(uint64_t to, Progress* pr) {
  const sb_consensus_log_reader* r = log_.reader();
  sb_status st{};
  std::string meta;
  auto sink = [](void* ctx, const uint8_t* data, size_t len) {
    static_cast<std::string*>(ctx)->assign(reinterpret_cast<const char*>(data),
                                           len);
  };
  // Two attempts: the host may replace its snapshot between chunks, in
  // which case the transfer restarts from offset 0 with the new one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t index = 0;
    if (r->snapshot_meta(r->ctx, &index, sink, &meta, &st) != SB_OK) {
      Logf(SB_LOG_ERROR,
           "follower %" PRIu64 " needs a snapshot but none is available: %s",
           to, st.message);
      return;
    }
    if (index != pr->snap_index) {
      pr->snap_index = index;
      pr->snap_offset = 0;
    }
    std::string data;
    int32_t done = 0;
    sb_code code =
        r->snapshot_read(r->ctx, index, pr->snap_offset, opts_.max_batch_bytes,
                         sink, &data, &done, &st);
    if (code == SB_NOT_FOUND) {
      pr->snap_index = 0;
      continue;
    }
    if (code != SB_OK) {
      Logf(SB_LOG_ERROR, "cannot read snapshot: %s", st.message);
      return;
    }
    Message m;
    m.type = MsgType::kSnapshot;
    m.to = to;
    m.snap_index = index;
    m.offset = pr->snap_offset;
    m.done = done != 0;
    m.snap_meta = std::move(meta);
    m.snap_data = std::move(data);
    pr->snap_idle = 0;
    Send(std::move(m));
    return;
  }
}

void Raft::TickProgress() {
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    if (pr.state == Progress::State::kSnapshot) {
      // A chunk or its acknowledgement may be lost: resend the
      // unacknowledged chunk after a few heartbeat intervals of silence.
      if (++pr.snap_idle >= 3 * opts_.heartbeat_ticks + 1) {
        SendSnapshotChunk(id, &pr);
      }
    } else if (pr.state == Progress::State::kReplicate &&
               !pr.inflight.empty() &&
               now_ - pr.progress_at >=
                   static_cast<uint64_t>(opts_.election_ticks)) {
      // Pipelined appends unacknowledged for an election timeout were lost
      // (the network may drop messages silently): fall back to probing
      // from the last acknowledged index, which resends them.
      BecomeProbe(&pr);
      pr.next = pr.match + 1;
      SendAppend(id, true);
    }
  }
}

void Raft::BroadcastAppend() {
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    bool carry_commit = pr.commit_sent < commit_;
    while (SendAppend(id, carry_commit)) carry_commit = false;
  }
}

void Raft::BroadcastHeartbeat() {
  ++hb_seq_;
  seq_sent_at_.emplace_back(hb_seq_, now_);
  if (seq_sent_at_.size() > kMaxSeqHistory) seq_sent_at_.pop_front();
  for (auto& [id, pr] : prs_) {
    if (id == id_) continue;
    Message m;
    m.type = MsgType::kHeartbeat;
    m.to = id;
    // Only indexes the follower is known to hold may be committed there.
    m.commit = std::min(pr.match, commit_);
    m.seq = hb_seq_;
    Send(std::move(m));
  }
  ReleaseReads();
}

void Raft::FlushBroadcast() {
  if (role_ != Role::kLeader) {
    bcast_pending_ = hb_pending_ = false;
    return;
  }
  if (bcast_pending_) {
    bcast_pending_ = false;
    BroadcastAppend();
  }
  if (hb_pending_) {
    hb_pending_ = false;
    BroadcastHeartbeat();
  }
}

void Raft::HandleAppendResponse(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (m.reject) {
    // Fast backtracking: the follower named the largest index whose term is
    // <= the term we sent; skip our entries of any term it cannot have.
    uint64_t probe = m.hint;
    if (m.log_term > 0) probe = log_.FindConflictByTerm(m.hint, m.log_term);
    if (MaybeDecrTo(&pr, m.index, probe)) {
      if (pr.state == Progress::State::kReplicate) BecomeProbe(&pr);
      SendAppend(m.from, true);
    }
    return;
  }
  if (!MaybeUpdate(&pr, m.index, now_)) return;
  if (pr.state == Progress::State::kProbe) {
    BecomeReplicate(&pr, now_);
  } else if (pr.state == Progress::State::kSnapshot &&
             pr.match >= pr.snap_index) {
    BecomeProbe(&pr);
  } else {
    while (!pr.inflight.empty() && pr.inflight.front() <= m.index) {
      pr.inflight.pop_front();
    }
  }
  MaybeCommit();
  // Committing may have ended our leadership (removed leader stepping
  // down), which drops every progress: `pr` is gone then.
  if (role_ != Role::kLeader) return;
  while (SendAppend(m.from, false)) {
  }
  if (m.from == transferee_ && pr.match == log_.last_index()) {
    Message t;
    t.type = MsgType::kTimeoutNow;
    t.to = m.from;
    Send(std::move(t));
  }
}

void Raft::HandleHeartbeatResponse(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  if (m.seq > pr.acked_seq && m.seq <= hb_seq_) pr.acked_seq = m.seq;
  ReleaseReads();
  if (pr.state != Progress::State::kSnapshot && pr.match < log_.last_index()) {
    SendAppend(m.from, false);
  }
}

void Raft::HandleSnapshotResponse(const Message& m) {
  auto it = prs_.find(m.from);
  if (it == prs_.end()) return;
  Progress& pr = it->second;
  pr.recent_active = true;
  if (pr.state != Progress::State::kSnapshot || m.snap_index != pr.snap_index) {
    return;
  }
  if (m.reject) {
    // The follower lost track (restart, lost chunk): resume where it is.
    pr.snap_offset = m.offset;
    SendSnapshotChunk(m.from, &pr);
    return;
  }
  if (m.done) {
    // Installed: continue with the entries after the snapshot.
    pr.match = std::max(pr.match, pr.snap_index);
    pr.next = pr.snap_index + 1;
    BecomeProbe(&pr);
    MaybeCommit();
    SendAppend(m.from, true);  // no-op if leadership just ended
    return;
  }
  if (m.offset <= pr.snap_offset) return;  // duplicate acknowledgement
  pr.snap_offset = m.offset;
  SendSnapshotChunk(m.from, &pr);
}

uint64_t Raft::QuorumMatch() const {
  const Membership& ms = log_.membership();
  if (ms.voters.empty()) return commit_;
  std::vector<uint64_t> matches;
  matches.reserve(ms.voters.size());
  for (uint64_t v : ms.voters) {
    auto it = prs_.find(v);
    matches.push_back(it == prs_.end() ? 0 : it->second.match);
  }
  std::sort(matches.begin(), matches.end(), std::greater<uint64_t>());
  return matches[ms.Quorum() - 1];
}

bool Raft::MaybeCommit() {
  // §5.4.2: only an entry of the current term is committed by counting
  // replicas; earlier entries commit with it (Figure 8).
  uint64_t n = QuorumMatch();
  if (n <= commit_ || log_.Term(n) != term_) return false;
  CommitTo(n);
  OnCommitAdvanced();
  return true;
}

void Raft::CommitTo(uint64_t index) {
  index = std::min(index, log_.last_index());
  if (index > commit_) commit_ = index;
}

void Raft::OnCommitAdvanced() {
  bcast_pending_ = true;
  if (log_.Term(commit_) == term_ && !reads_waiting_term_commit_.empty()) {
    std::vector<ReadRequest> waiting;
    waiting.swap(reads_waiting_term_commit_);
    for (ReadRequest& r : waiting) StartRead(std::move(r.context));
  }
  const Membership& ms = log_.membership();
  if (!ms.IsVoter(id_) && commit_ >= log_.membership_index()) {
    // §4.2.2: a leader removed from the membership steps down once the
    // change is committed. Hand over to the most up-to-date voter so the
    // group does not wait for an election timeout.
    uint64_t best = 0, best_match = 0;
    for (uint64_t v : ms.voters) {
      auto it = prs_.find(v);
      if (it != prs_.end() && it->second.match >= best_match) {
        best = v;
        best_match = it->second.match;
      }
    }
    FlushBroadcast();  // the followers learn the commit first
    if (best != 0 && best_match == log_.last_index()) {
      Message t;
      t.type = MsgType::kTimeoutNow;
      t.to = best;
      Send(std::move(t));
    }
    Logf(SB_LOG_INFO, "removed from the group; stepping down");
    BecomeFollower(term_, 0);
  }
}

void Raft::ReleaseReads() {
  const Membership& ms = log_.membership();
  if (ms.voters.empty()) return;
  std::vector<uint64_t> acked;
  for (uint64_t v : ms.voters) {
    if (v == id_) {
      acked.push_back(hb_seq_);
      continue;
    }
    auto it = prs_.find(v);
    acked.push_back(it == prs_.end() ? 0 : it->second.acked_seq);
  }
  std::sort(acked.begin(), acked.end(), std::greater<uint64_t>());
  uint64_t q = acked[ms.Quorum() - 1];
  if (q == 0) return;
  // §6.4 step 3: a quorum acknowledged round q, so we were still leader
  // when it was sent; every read registered before it is confirmed.
  while (!reads_pending_.empty() && reads_pending_.front().seq <= q) {
    ReadRequest& r = reads_pending_.front();
    read_states_.push_back({std::move(r.context), r.index});
    reads_pending_.pop_front();
  }
  for (auto& [seq, tick] : seq_sent_at_) {
    if (seq == q) {
      if (!lease_valid_ || tick > lease_start_) lease_start_ = tick;
      lease_valid_ = transferee_ == 0;
      break;
    }
  }
}

// ---- Follower side -------------------------------------------------------

void Raft::HandleAppend(Message& m) {
  Message resp;
  resp.type = MsgType::kAppendResp;
  resp.to = m.from;
  if (m.index < commit_) {
    // Everything up to our commit index is already known to match.
    resp.index = commit_;
    Send(std::move(resp));
    return;
  }
  if (log_.MatchTerm(m.index, m.log_term)) {
    // §5.3 (Figure 2, AppendEntries 3-5): skip entries we already hold,
    // delete a conflicting suffix, append the rest, then advance commit to
    // min(leaderCommit, index of last new entry).
    uint64_t last_new = m.index + m.entries.size();
    size_t i = 0;
    while (i < m.entries.size() &&
           log_.MatchTerm(m.entries[i].index, m.entries[i].term)) {
      ++i;
    }
    if (i < m.entries.size()) {
      if (m.entries[i].index <= commit_) {
        Logf(SB_LOG_CRITICAL,
             "leader %" PRIu64 " would overwrite committed index %" PRIu64
             "; ignored",
             m.from, m.entries[i].index);
        return;
      }
      std::vector<Entry> fresh(std::make_move_iterator(m.entries.begin() + i),
                               std::make_move_iterator(m.entries.end()));
      log_.Append(std::move(fresh));
    }
    CommitTo(std::min(m.commit, last_new));
    resp.index = last_new;
    Send(std::move(resp));
    return;
  }
  // Reject with a hint: the largest index <= the probed one whose term is
  // <= the leader's term there, so the leader skips a whole term per round
  // trip instead of one entry (fast backtracking).
  uint64_t hint = std::min(m.index, log_.last_index());
  hint = log_.FindConflictByTerm(hint, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.hint = hint;
  resp.log_term = log_.Term(hint).value_or(0);
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  CommitTo(m.commit);
  Message resp;
  resp.type = MsgType::kHeartbeatResp;
  resp.to = m.from;
  resp.seq = m.seq;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  // One chunk per ready batch: while one waits to be persisted, drop the
  // next (the leader resends unacknowledged chunks).
  if (pending_chunk_.has_value()) return;
  Message resp;
  resp.to = m.from;
  if (m.snap_index <= commit_) {
    // Already have it all: answer as to an append, so the leader leaves
    // snapshot state.
    resp.type = MsgType::kAppendResp;
    resp.index = commit_;
    Send(std::move(resp));
    return;
  }
  SnapshotMeta sm;
  if (!DecodeSnapshotMeta(m.snap_meta, &sm)) {
    Logf(SB_LOG_WARN, "corrupt snapshot metadata from %" PRIu64, m.from);
    return;
  }
  if (log_.MatchTerm(m.snap_index, sm.term)) {
    // §5 InstallSnapshot step 6: our log already holds the snapshot's last
    // entry, so it matches up to there; keep it and just commit.
    CommitTo(m.snap_index);
    resp.type = MsgType::kAppendResp;
    resp.index = m.snap_index;
    Send(std::move(resp));
    return;
  }
  resp.type = MsgType::kSnapshotResp;
  resp.snap_index = m.snap_index;
  if (m.offset == 0) {
    incoming_snap_index_ = m.snap_index;
    incoming_offset_ = 0;
  }
  if (m.snap_index != incoming_snap_index_ || m.offset != incoming_offset_) {
    resp.reject = true;
    resp.offset = m.snap_index == incoming_snap_index_ ? incoming_offset_ : 0;
    Send(std::move(resp));
    return;
  }
  PendingChunk chunk;
  chunk.index = m.snap_index;
  chunk.offset = m.offset;
  chunk.done = m.done;
  chunk.meta = m.snap_meta;
  chunk.data = m.snap_data;
  incoming_offset_ += m.snap_data.size();
  pending_chunk_ = std::move(chunk);
  resp.offset = incoming_offset_;
  if (m.done) {
    // §5 InstallSnapshot steps 7-8: discard the whole log and reset to the
    // snapshot; the host replaces its state machine when persisting.
    log_.Restore(m.snap_index, sm.term, sm.membership);
    commit_ = m.snap_index;
    applied_ = m.snap_index;
    incoming_snap_index_ = 0;
    incoming_offset_ = 0;
    resp.done = true;
    Logf(SB_LOG_INFO, "installed snapshot at %" PRIu64, m.snap_index);
  }
  Send(std::move(resp));
}

}  // namespace sbraft
