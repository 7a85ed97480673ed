// plugins/raft/raft.cc — elections, term rules, client requests and
// membership. Replication and snapshots are in raft_replication.cc.
#include "raft.h"

#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

namespace sbraft {
namespace {

// Largest payload accepted by Propose.
constexpr size_t kMaxProposalBytes = 64u << 20;

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool IsVoteRequest(MsgType t) {
  return t == MsgType::kPreVote || t == MsgType::kVote;
}

}  // namespace

Raft::Raft(const Options& opts, uint64_t group, uint64_t id, uint64_t seed,
           const sb_consensus_log_reader* reader, const sb_host_services* host)
    : opts_(opts),
      group_(group),
      id_(id),
      host_(host),
      rng_(seed ^ (id * 0x2545f4914f6cdd1dULL)),
      log_(reader) {}

void Raft::Logf(int32_t level, const char* fmt, ...) {
  if (host_ == nullptr || host_->log == nullptr) return;
  if (host_->log_enabled != nullptr &&
      !host_->log_enabled(host_->host_ctx, level)) {
    return;
  }
  char buf[512];
  int n = snprintf(buf, sizeof buf,
                   "group %" PRIu64 " node %" PRIu64 " term %" PRIu64 ": ",
                   group_, id_, term_);
  if (n < 0) return;
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(buf + n, sizeof buf - n, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  size_t len = std::min(sizeof buf - 1, static_cast<size_t>(n + m));
  host_->log(host_->host_ctx, level, buf, len);
}

bool Raft::Init(std::string_view hard_state, uint64_t applied,
                const std::vector<uint64_t>& bootstrap, std::string* error) {
  if (!log_.Init(error)) return false;
  if (!hard_state.empty()) {
    HardState hs;
    if (!DecodeHardState(hard_state, &hs)) {
      *error = "hard state is corrupt";
      return false;
    }
    term_ = hs.term;
    vote_ = hs.vote;
    commit_ = hs.commit;
  }
  persisted_hs_ = {term_, vote_, commit_};
  bool fresh = hard_state.empty() && log_.last_index() == 0 &&
               log_.snapshot_index() == 0;
  if (fresh && !bootstrap.empty()) {
    // Bootstrap: every founding node writes the same first entry, the
    // initial membership, at term 1 and treats it as committed (all founders
    // hold it), so a node added later learns the membership from the log.
    Membership ms;
    ms.voters = bootstrap;
    std::sort(ms.voters.begin(), ms.voters.end());
    ms.voters.erase(std::unique(ms.voters.begin(), ms.voters.end()),
                    ms.voters.end());
    if (ms.voters.front() == 0) {
      *error = "bootstrap voters contain node id 0";
      return false;
    }
    Entry e;
    e.index = 1;
    e.term = 1;
    e.type = SB_ENTRY_PROTOCOL;
    EncodeMembershipEntry(ms, &e.data);
    log_.Append(std::move(e));
    term_ = 1;
    commit_ = 1;
  }
  if (applied > log_.last_index() && applied > log_.snapshot_index()) {
    *error = "applied index is beyond the stored log";
    return false;
  }
  applied_ = std::max(applied, log_.snapshot_index());
  // The commit index is persisted lazily (not synced on its own), so it can
  // lag what the host applied and synced: entries applied were committed.
  commit_ = std::max({commit_, applied_, log_.snapshot_index()});
  if (commit_ > log_.last_index()) {
    *error = "commit index is beyond the stored log";
    return false;
  }
  active_ms_ = log_.membership();
  BecomeFollower(term_, 0);
  return true;
}

void Raft::ResetRandomizedTimeout() {
  // §5.2: randomized election timeouts in [T, 2T) make split votes rare.
  randomized_timeout_ =
      opts_.election_ticks +
      static_cast<int>(SplitMix64(&rng_) % opts_.election_ticks);
}

void Raft::ResetTerm(uint64_t term) {
  if (term_ != term) {
    term_ = term;
    vote_ = 0;
  }
  lead_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedTimeout();
  votes_.clear();
  prs_.clear();
  transferee_ = 0;
  // Pending reads die with the leadership that accepted them; the host
  // retries them against the new leader.
  reads_pending_.clear();
  reads_waiting_term_commit_.clear();
  lease_valid_ = false;
  hb_pending_ = false;
  bcast_pending_ = false;
}

void Raft::BecomeFollower(uint64_t term, uint64_t lead) {
  ResetTerm(term);
  role_ = Role::kFollower;
  lead_ = lead;
}

void Raft::BecomePreCandidate() {
  // §9.6: a pre-candidate neither increments its term nor votes: a node
  // that cannot win (e.g. partitioned) does not disrupt the cluster.
  votes_.clear();
  role_ = Role::kPreCandidate;
  lead_ = 0;
  prs_.clear();
}

void Raft::BecomeCandidate() {
  // §5.2: increment the term, vote for self.
  ResetTerm(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::BecomeLeader() {
  ResetTerm(term_);
  role_ = Role::kLeader;
  lead_ = id_;
  active_ms_ = log_.membership();
  uint64_t last = log_.last_index();
  for (uint64_t v : active_ms_.voters) prs_[v].next = last + 1;
  for (uint64_t l : active_ms_.learners) prs_[l].next = last + 1;
  Progress& self = prs_[id_];
  self.next = last + 1;
  self.match = log_.stable_last();
  self.state = Progress::State::kReplicate;
  Logf(SB_LOG_INFO, "became leader at index %" PRIu64, last);
  // §8 / dissertation §6.4: a new leader appends a no-op of its own term;
  // committing it commits every earlier entry (Figure 8) and enables
  // ReadIndex and membership changes.
  std::string noop;
  EncodeNoop(&noop);
  AppendLocal(SB_ENTRY_PROTOCOL, std::move(noop));
}

void Raft::Campaign(bool pre, bool force) {
  uint64_t campaign_term;
  MsgType type;
  if (pre) {
    BecomePreCandidate();
    campaign_term = term_ + 1;
    type = MsgType::kPreVote;
  } else {
    BecomeCandidate();
    campaign_term = term_;
    type = MsgType::kVote;
  }
  votes_[id_] = true;
  const Membership& ms = log_.membership();
  for (uint64_t v : ms.voters) {
    if (v == id_) continue;
    Message m;
    m.type = type;
    m.to = v;
    m.term = campaign_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.force = force;
    Send(std::move(m));
  }
  // A single voter wins at once.
  Message self;
  self.type = pre ? MsgType::kPreVoteResp : MsgType::kVoteResp;
  self.from = id_;
  self.term = campaign_term;
  HandleVoteResponse(self);
}

void Raft::HandleVoteRequest(const Message& m) {
  bool pre = m.type == MsgType::kPreVote;
  // §5.2 / §5.4.1: grant if we have not voted for someone else in this term
  // and the candidate's log is at least as up-to-date as ours. A pre-vote
  // for a future term is granted on the log check alone (§9.6).
  bool can_vote =
      vote_ == m.from || (vote_ == 0 && lead_ == 0) || (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MsgType::kPreVoteResp : MsgType::kVoteResp;
  resp.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    resp.term = m.term;
    if (!pre) {
      vote_ = m.from;
      election_elapsed_ = 0;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  Send(std::move(resp));
}

void Raft::HandleVoteResponse(const Message& m) {
  bool pre = m.type == MsgType::kPreVoteResp;
  if ((pre && role_ != Role::kPreCandidate) ||
      (!pre && role_ != Role::kCandidate)) {
    return;
  }
  votes_.emplace(m.from, !m.reject);
  const Membership& ms = log_.membership();
  size_t granted = 0, rejected = 0;
  for (uint64_t v : ms.voters) {
    auto it = votes_.find(v);
    if (it == votes_.end()) continue;
    (it->second ? granted : rejected)++;
  }
  if (granted >= ms.Quorum()) {
    if (pre) {
      Campaign(false, false);
    } else {
      BecomeLeader();
    }
  } else if (rejected >= ms.Quorum()) {
    BecomeFollower(term_, 0);
  }
}

void Raft::Tick() {
  ++now_;
  if (role_ == Role::kLeader) {
    TickHeartbeat();
  } else {
    TickElection();
  }
}

void Raft::TickElection() {
  ++election_elapsed_;
  if (Promotable() && election_elapsed_ >= randomized_timeout_) {
    election_elapsed_ = 0;
    Campaign(opts_.pre_vote, false);
  }
}

bool Raft::QuorumActive() {
  const Membership& ms = log_.membership();
  size_t active = 0;
  for (uint64_t v : ms.voters) {
    if (v == id_) {
      ++active;
      continue;
    }
    auto it = prs_.find(v);
    if (it != prs_.end() && it->second.recent_active) ++active;
  }
  for (auto& [id, pr] : prs_) pr.recent_active = false;
  return active >= ms.Quorum();
}

void Raft::TickHeartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= opts_.election_ticks) {
    election_elapsed_ = 0;
    // §6.2 check-quorum: a leader that has not heard from a quorum within an
    // election timeout steps down, so clients move to a live leader.
    if (opts_.check_quorum && !QuorumActive()) {
      Logf(SB_LOG_INFO, "lost contact with a quorum, stepping down");
      BecomeFollower(term_, 0);
      return;
    }
    // §3.10: a transfer that did not finish within an election timeout is
    // aborted and the leader accepts proposals again.
    if (transferee_ != 0) transferee_ = 0;
  }
  TickProgress();
  if (heartbeat_elapsed_ >= opts_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    hb_pending_ = true;
  }
}

sb_code Raft::Step(Message& m, sb_status* st) {
  if (m.group != group_) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "message for group %" PRIu64 " stepped into %" PRIu64,
                         m.group, group_);
  }
  if (m.to != id_ || m.from == id_) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "message to %" PRIu64 " from %" PRIu64
                         " stepped into node %" PRIu64,
                         m.to, m.from, id_);
  }
  if (!m.entries.empty()) {
    // Entries in an append: terms never decrease and never exceed the
    // sender's term; anything else is a corrupt or hostile message.
    uint64_t prev = m.log_term;
    for (const Entry& e : m.entries) {
      if (e.term < prev || e.term > m.term) {
        return sb_status_set(st, SB_CORRUPTION,
                             "append with inconsistent entry terms");
      }
      prev = e.term;
    }
  }

  // Figure 2, all servers: a message with a higher term makes us adopt it,
  // with two exceptions.
  if (m.term > term_) {
    if (IsVoteRequest(m.type)) {
      // §4.2.3: a server that heard from a current leader within the minimum
      // election timeout ignores vote requests (removed or partitioned
      // servers cannot disrupt a healthy leader) — except for a leadership
      // transfer, which the leader itself asked for.
      bool in_lease = opts_.check_quorum && lead_ != 0 &&
                      election_elapsed_ < opts_.election_ticks;
      if (in_lease && !m.force) return sb_status_ok(st);
    }
    if (m.type == MsgType::kPreVote ||
        (m.type == MsgType::kPreVoteResp && !m.reject)) {
      // §9.6: a pre-vote (or a grant of one) is for a hypothetical term;
      // nobody changes term for it.
    } else {
      bool from_leader = m.type == MsgType::kAppend ||
                         m.type == MsgType::kHeartbeat ||
                         m.type == MsgType::kSnapshot;
      BecomeFollower(m.term, from_leader ? m.from : 0);
    }
  } else if (m.term < term_) {
    if ((opts_.check_quorum || opts_.pre_vote) &&
        (m.type == MsgType::kAppend || m.type == MsgType::kHeartbeat)) {
      // A stale leader (e.g. healed from a partition) would never learn the
      // new term: with pre-vote nobody else raises it. Tell it.
      Message resp;
      resp.type = MsgType::kAppendResp;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MsgType::kPreVote) {
      Message resp;
      resp.type = MsgType::kPreVoteResp;
      resp.to = m.from;
      resp.reject = true;
      Send(std::move(resp));
    }
    return sb_status_ok(st);
  }

  switch (m.type) {
    case MsgType::kPreVote:
    case MsgType::kVote:
      HandleVoteRequest(m);
      break;
    case MsgType::kPreVoteResp:
    case MsgType::kVoteResp:
      HandleVoteResponse(m);
      break;
    case MsgType::kAppend:
    case MsgType::kHeartbeat:
    case MsgType::kSnapshot:
      if (role_ == Role::kLeader) {
        Logf(SB_LOG_ERROR, "second leader %" PRIu64 " in my term; ignored",
             m.from);
        break;
      }
      // §5.2: a candidate that hears from the leader of its term returns
      // to follower.
      if (role_ != Role::kFollower) BecomeFollower(term_, m.from);
      lead_ = m.from;
      election_elapsed_ = 0;
      if (m.type == MsgType::kAppend) {
        HandleAppend(m);
      } else if (m.type == MsgType::kHeartbeat) {
        HandleHeartbeat(m);
      } else {
        HandleSnapshot(m);
      }
      break;
    case MsgType::kAppendResp:
      if (role_ == Role::kLeader) HandleAppendResponse(m);
      break;
    case MsgType::kHeartbeatResp:
      if (role_ == Role::kLeader) HandleHeartbeatResponse(m);
      break;
    case MsgType::kSnapshotResp:
      if (role_ == Role::kLeader) HandleSnapshotResponse(m);
      break;
    case MsgType::kTimeoutNow:
      HandleTimeoutNow(m);
      break;
  }
  CheckMembership();
  return sb_status_ok(st);
}

void Raft::HandleTimeoutNow(const Message& m) {
  // §3.10: the leader brought us up to date and asks us to start an
  // election now, without pre-vote, bypassing the others' lease check.
  if (role_ != Role::kFollower || !Promotable()) return;
  Logf(SB_LOG_INFO, "leadership transfer from %" PRIu64, m.from);
  Campaign(false, true);
}

void Raft::CheckMembership() {
  if (log_.membership() == active_ms_) return;
  active_ms_ = log_.membership();
  OnMembershipChanged();
}

void Raft::OnMembershipChanged() {
  // §4.1: a server uses the latest membership in its log, committed or not.
  const Membership& ms = log_.membership();
  if (role_ == Role::kLeader) {
    uint64_t last = log_.last_index();
    for (auto it = prs_.begin(); it != prs_.end();) {
      if (it->first != id_ && !ms.IsMember(it->first)) {
        it = prs_.erase(it);
      } else {
        ++it;
      }
    }
    auto add = [&](uint64_t id) {
      if (prs_.count(id) == 0) prs_[id].next = last + 1;
    };
    for (uint64_t v : ms.voters) add(v);
    for (uint64_t l : ms.learners) add(l);
    if (transferee_ != 0 && !ms.IsVoter(transferee_)) transferee_ = 0;
    bcast_pending_ = true;
  } else if (role_ != Role::kFollower && !Promotable()) {
    BecomeFollower(term_, lead_);
  }
}

sb_code Raft::Propose(std::string data, uint64_t* out_index, sb_status* st) {
  if (role_ != Role::kLeader) {
    return sb_status_set(st, SB_ABORTED, "not leader (leader is %" PRIu64 ")",
                         lead_);
  }
  if (transferee_ != 0) {
    return sb_status_set(st, SB_BUSY,
                         "leadership transfer to %" PRIu64 " in progress",
                         transferee_);
  }
  if (data.size() > kMaxProposalBytes) {
    return sb_status_set(st, SB_TOO_LARGE, "proposal of %zu bytes (max %zu)",
                         data.size(), kMaxProposalBytes);
  }
  AppendLocal(SB_ENTRY_NORMAL, std::move(data));
  if (out_index != nullptr) *out_index = log_.last_index();
  return sb_status_ok(st);
}

sb_code Raft::ReadIndex(std::string context, sb_status* st) {
  if (role_ != Role::kLeader) {
    return sb_status_set(st, SB_ABORTED, "not leader (leader is %" PRIu64 ")",
                         lead_);
  }
  // §6.4 step 1: until the leader has committed an entry of its own term it
  // does not know the full commit index; the read waits for the no-op.
  if (log_.Term(commit_) != term_) {
    reads_waiting_term_commit_.push_back({std::move(context), 0, 0});
    return sb_status_ok(st);
  }
  StartRead(std::move(context));
  return sb_status_ok(st);
}

bool Raft::LeaseValid() const {
  // Followers do not vote for another leader within election_ticks of
  // hearing from us (§4.2.3), counted from when they received a heartbeat,
  // which is after we sent it. A 20% margin absorbs bounded clock drift.
  uint64_t lease = static_cast<uint64_t>(opts_.election_ticks) * 4 / 5;
  return lease_valid_ && now_ < lease_start_ + lease;
}

void Raft::StartRead(std::string context) {
  const Membership& ms = log_.membership();
  bool alone = ms.voters.size() == 1 && ms.voters[0] == id_;
  if (alone || (opts_.lease_reads && opts_.check_quorum && LeaseValid())) {
    read_states_.push_back({std::move(context), commit_});
    return;
  }
  // §6.4 steps 2-3: record the commit index, then confirm we are still
  // leader with a heartbeat round acknowledged by a quorum. Reads arriving
  // in the same cycle share one round.
  reads_pending_.push_back({std::move(context), commit_, hb_seq_ + 1});
  hb_pending_ = true;
}

sb_code Raft::ChangeMembership(uint32_t op, uint64_t node, sb_status* st) {
  if (role_ != Role::kLeader) {
    return sb_status_set(st, SB_ABORTED, "not leader (leader is %" PRIu64 ")",
                         lead_);
  }
  if (node == 0) return sb_status_set(st, SB_INVALID_ARGUMENT, "node id 0");
  if (transferee_ != 0) {
    return sb_status_set(st, SB_BUSY, "leadership transfer in progress");
  }
  // The fix to single-server changes (Ongaro, raft-dev 2015): a new leader
  // must commit an entry of its term before changing membership, or a
  // change from a previous term could be lost while ours commits.
  if (log_.Term(commit_) != term_) {
    return sb_status_set(st, SB_BUSY,
                         "leader has not committed an entry of its term yet");
  }
  // §4.1: one change at a time; the next waits until this one commits.
  if (log_.membership_index() > commit_) {
    return sb_status_set(st, SB_BUSY,
                         "a membership change is still uncommitted");
  }
  Membership ms = log_.membership();
  auto insert = [](std::vector<uint64_t>* v, uint64_t id) {
    v->insert(std::upper_bound(v->begin(), v->end(), id), id);
  };
  auto erase = [](std::vector<uint64_t>* v, uint64_t id) {
    v->erase(std::find(v->begin(), v->end(), id));
  };
  switch (op) {
    case SB_MEMBER_ADD_VOTER:
    case SB_MEMBER_ADD_LEARNER:
      if (ms.IsMember(node)) {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "node %" PRIu64 " is already a member", node);
      }
      insert(op == SB_MEMBER_ADD_VOTER ? &ms.voters : &ms.learners, node);
      break;
    case SB_MEMBER_PROMOTE:
      if (!ms.IsLearner(node)) {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "node %" PRIu64 " is not a learner", node);
      }
      erase(&ms.learners, node);
      insert(&ms.voters, node);
      break;
    case SB_MEMBER_REMOVE:
      if (ms.IsLearner(node)) {
        erase(&ms.learners, node);
      } else if (ms.IsVoter(node)) {
        if (ms.voters.size() == 1) {
          return sb_status_set(st, SB_INVALID_ARGUMENT,
                               "cannot remove the last voter");
        }
        erase(&ms.voters, node);
      } else {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "node %" PRIu64 " is not a member", node);
      }
      break;
    default:
      return sb_status_set(st, SB_INVALID_ARGUMENT,
                           "unknown membership operation %u", op);
  }
  std::string data;
  EncodeMembershipEntry(ms, &data);
  AppendLocal(SB_ENTRY_PROTOCOL, std::move(data));
  CheckMembership();
  // The leader's own vote may have just left the quorum (removing itself):
  // the entry can commit on the remaining voters alone.
  MaybeCommit();
  return sb_status_ok(st);
}

sb_code Raft::TransferLeadership(uint64_t target, sb_status* st) {
  if (role_ != Role::kLeader) {
    return sb_status_set(st, SB_ABORTED, "not leader (leader is %" PRIu64 ")",
                         lead_);
  }
  if (target == id_) return sb_status_ok(st);
  if (!log_.membership().IsVoter(target)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "node %" PRIu64 " is not a voter", target);
  }
  if (transferee_ == target) return sb_status_ok(st);
  // §3.10: stop accepting proposals, bring the target up to date, then
  // send TimeoutNow. Leases stop: the target's campaign bypasses them.
  transferee_ = target;
  election_elapsed_ = 0;
  lease_valid_ = false;
  Progress& pr = prs_[target];
  if (pr.match == log_.last_index()) {
    Message m;
    m.type = MsgType::kTimeoutNow;
    m.to = target;
    Send(std::move(m));
  } else {
    SendAppend(target, false);
  }
  return sb_status_ok(st);
}

sb_code Raft::Compact(uint64_t index, std::string* meta, sb_status* st) {
  if (index <= log_.snapshot_index()) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "log already compacted through %" PRIu64,
                         log_.snapshot_index());
  }
  if (index > applied_) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "cannot compact through %" PRIu64
                         ": applied only through %" PRIu64,
                         index, applied_);
  }
  SnapshotMeta sm;
  sm.term = *log_.Term(index);
  sm.membership = log_.MembershipAt(index);
  EncodeSnapshotMeta(sm, meta);
  log_.CompactTo(index);
  return sb_status_ok(st);
}

void Raft::Send(Message m) {
  m.from = id_;
  m.group = group_;
  if (m.term == 0) m.term = term_;
  msgs_.push_back(std::move(m));
}

bool Raft::HasReady() const {
  return bcast_pending_ || hb_pending_ || hard_state() != persisted_hs_ ||
         !log_.unstable().empty() || pending_chunk_.has_value() ||
         !msgs_.empty() || !read_states_.empty() ||
         std::min(commit_, log_.last_index()) > applied_;
}

bool Raft::NextCommitted(uint64_t max_bytes, std::vector<Entry>* out,
                         std::string* error) const {
  uint64_t hi = std::min(commit_, log_.last_index());
  if (hi <= applied_) return true;
  return log_.Slice(applied_ + 1, hi + 1, max_bytes, out, error);
}

void Raft::Advance(const HardState& hs, uint64_t stable_index,
                   uint64_t applied_index) {
  persisted_hs_ = hs;
  log_.StableTo(stable_index);
  applied_ = std::max(applied_, applied_index);
  if (role_ == Role::kLeader) {
    // The leader's own copy counts toward the quorum once durable.
    auto it = prs_.find(id_);
    if (it != prs_.end() && log_.stable_last() > it->second.match) {
      it->second.match = log_.stable_last();
      it->second.next = std::max(it->second.next, it->second.match + 1);
      MaybeCommit();
    }
  }
}

void Raft::AppendLocal(uint32_t type, std::string data) {
  Entry e;
  e.index = log_.last_index() + 1;
  e.term = term_;
  e.type = type;
  e.data = std::move(data);
  log_.Append(std::move(e));
  bcast_pending_ = true;
}

}  // namespace sbraft
