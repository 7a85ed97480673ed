// plugins/raft/raft.h — the Raft state machine behind the consensus ABI.
//
// One Raft instance is one member of one group. It implements the Raft
// paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm") and the extensions of Ongaro's dissertation ("Consensus:
// Bridging Theory and Practice"): pre-vote (§9.6), check-quorum and the
// leader lease on votes (§6.2, §4.2.3), single-server membership changes
// (§4.1-§4.3) with learners, leadership transfer (§3.10), ReadIndex and
// lease reads (§6.4), log compaction with chunked InstallSnapshot (§5).
// Replication follows etcd-io/raft's progress tracking: probe / replicate /
// snapshot states, pipelining under an in-flight limit, and fast log
// backtracking by conflict term.
//
// The class is pure: input arrives through Tick / Step / Propose / ...,
// output accumulates (messages, unstable entries, committed range, read
// states) and is drained by the plugin glue (plugin.cc) into ready batches.
// Thread safety: none; the host serializes calls.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "codec.h"
#include "raft_log.h"
#include "shardbearer/abi/consensus.h"

namespace sbraft {

struct Options {
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  size_t max_inflight = 64;            // append messages per follower
  uint64_t max_batch_bytes = 1 << 20;  // payload bytes per append / chunk
  bool pre_vote = true;
  bool check_quorum = true;
  bool lease_reads = false;
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };

// A leader's view of one follower (etcd's Progress).
struct Progress {
  enum class State { kProbe, kReplicate, kSnapshot };
  uint64_t match = 0;
  uint64_t next = 1;
  State state = State::kProbe;
  bool probe_sent = false;        // probe: one append in flight
  std::deque<uint64_t> inflight;  // replicate: last index of each append
  uint64_t progress_at = 0;       // tick of the last acknowledged progress
  bool recent_active = false;     // heard from since the last quorum check
  uint64_t acked_seq = 0;         // highest heartbeat round acknowledged
  uint64_t commit_sent = 0;       // highest commit index sent
  // Snapshot transfer (state kSnapshot).
  uint64_t snap_index = 0;
  uint64_t snap_offset = 0;  // bytes acknowledged
  int snap_idle = 0;         // ticks since the last chunk was sent / acked
};

struct ReadRequest {
  std::string context;
  uint64_t index = 0;
  uint64_t seq = 0;  // heartbeat round that must reach a quorum
};

struct ReadState {
  std::string context;
  uint64_t index = 0;
};

// A chunk of an incoming snapshot waiting to be handed to the host.
struct PendingChunk {
  uint64_t index = 0;
  uint64_t offset = 0;
  bool done = false;
  std::string meta;
  std::string data;
};

class Raft {
 public:
  Raft(const Options& opts, uint64_t group, uint64_t id, uint64_t seed,
       const sb_consensus_log_reader* reader, const sb_host_services* host);

  // Restores from persisted state (or bootstraps a new group). False with
  // *error on inconsistent input.
  bool Init(std::string_view hard_state, uint64_t applied,
            const std::vector<uint64_t>& bootstrap, std::string* error);

  void Tick();
  // Consumes m.entries (moved into the log).
  sb_code Step(Message& m, sb_status* st);
  sb_code Propose(std::string data, uint64_t* out_index, sb_status* st);
  sb_code ReadIndex(std::string context, sb_status* st);
  sb_code ChangeMembership(uint32_t op, uint64_t node, sb_status* st);
  sb_code TransferLeadership(uint64_t target, sb_status* st);
  sb_code Compact(uint64_t index, std::string* meta, sb_status* st);

  // --- Output, drained by the plugin glue. ---
  void FlushBroadcast();  // sends appends deferred for batching
  bool HasReady() const;
  HardState hard_state() const { return {term_, vote_, commit_}; }
  const HardState& persisted_hard_state() const { return persisted_hs_; }
  // Committed entries not yet applied, up to max_bytes (at least one).
  bool NextCommitted(uint64_t max_bytes, std::vector<Entry>* out,
                     std::string* error) const;
  std::vector<Message>& messages() { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  std::optional<PendingChunk>& pending_chunk() { return pending_chunk_; }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  // The host persisted everything handed out through `stable_index` (and
  // the hard state `hs`), and applied through `applied_index`.
  void Advance(const HardState& hs, uint64_t stable_index,
               uint64_t applied_index);

  // --- Status. ---
  Role role() const { return role_; }
  uint64_t term() const { return term_; }
  uint64_t leader() const { return lead_; }
  uint64_t commit() const { return commit_; }
  uint64_t applied() const { return applied_; }
  uint64_t id() const { return id_; }
  const Membership& membership() const { return log_.membership(); }

 private:
  // Elections (raft.cc).
  void BecomeFollower(uint64_t term, uint64_t lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Campaign(bool pre, bool force);
  void ResetTerm(uint64_t term);
  void ResetRandomizedTimeout();
  bool Promotable() const { return log_.membership().IsVoter(id_); }
  void HandleVoteRequest(const Message& m);
  void HandleVoteResponse(const Message& m);
  void TickElection();
  void TickHeartbeat();
  bool QuorumActive();
  void OnMembershipChanged();
  void CheckMembership();
  void StartRead(std::string context);
  bool LeaseValid() const;
  void TickProgress();
  void Send(Message m);

  // Replication (raft_replication.cc).
  void HandleAppend(Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleAppendResponse(const Message& m);
  void HandleHeartbeatResponse(const Message& m);
  void HandleSnapshotResponse(const Message& m);
  void HandleTimeoutNow(const Message& m);
  // Sends the next append (or snapshot chunk) to `to` if flow control
  // allows; `send_if_empty`: also an empty append to carry the commit.
  bool SendAppend(uint64_t to, bool send_if_empty);
  void SendSnapshotChunk(uint64_t to, Progress* pr);
  void BroadcastAppend();
  void BroadcastHeartbeat();
  bool MaybeCommit();
  void OnCommitAdvanced();
  void ReleaseReads();
  void AppendLocal(uint32_t type, std::string data);
  uint64_t QuorumMatch() const;
  void CommitTo(uint64_t index);

  void Logf(int32_t level, const char* fmt, ...)
      __attribute__((format(printf, 3, 4)));

  const Options opts_;
  const uint64_t group_;
  const uint64_t id_;
  const sb_host_services* host_;
  uint64_t rng_;
  RaftLog log_;

  // Persistent state (Figure 2) and its last persisted copy.
  uint64_t term_ = 0;
  uint64_t vote_ = 0;
  uint64_t commit_ = 0;
  HardState persisted_hs_;
  uint64_t applied_ = 0;

  Role role_ = Role::kFollower;
  uint64_t lead_ = 0;
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;
  uint64_t now_ = 0;  // ticks since creation (lease bookkeeping)
  std::map<uint64_t, bool> votes_;
  std::map<uint64_t, Progress> prs_;  // leader: every member incl. self
  bool bcast_pending_ = false;
  bool hb_pending_ = false;
  Membership active_ms_;  // membership the progress map reflects

  // Leadership transfer (§3.10).
  uint64_t transferee_ = 0;
  int transfer_elapsed_ = 0;

  // ReadIndex (§6.4): heartbeat rounds and pending requests.
  uint64_t hb_seq_ = 0;
  std::deque<std::pair<uint64_t, uint64_t>> seq_sent_at_;  // (seq, tick)
  std::vector<ReadRequest> reads_waiting_term_commit_;
  std::deque<ReadRequest> reads_pending_;
  uint64_t lease_start_ = 0;  // tick a quorum-acked round was sent
  bool lease_valid_ = false;

  // Incoming snapshot (follower).
  uint64_t incoming_snap_index_ = 0;
  uint64_t incoming_offset_ = 0;
  std::optional<PendingChunk> pending_chunk_;

  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
};

}  // namespace sbraft
