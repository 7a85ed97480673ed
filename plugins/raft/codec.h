// plugins/raft/codec.h — wire and storage encodings of the Raft plugin.
//
// Everything the plugin hands the host as opaque bytes is encoded here:
// messages between nodes, the hard state (term, vote, commit), per-entry
// metadata (the term), snapshot metadata (term + membership) and the payload
// of protocol entries (no-op, membership). Encodings start with a format
// byte and use LEB128 varints; decoders check every length against the
// remaining input and return false on malformed bytes, never crash.
// Thread safety: pure functions and values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sbraft {

// Roles of a node in the active membership.
struct Membership {
  std::vector<uint64_t> voters;    // sorted, unique
  std::vector<uint64_t> learners;  // sorted, unique, disjoint from voters

  bool IsVoter(uint64_t id) const;
  bool IsLearner(uint64_t id) const;
  bool IsMember(uint64_t id) const { return IsVoter(id) || IsLearner(id); }
  // Majority of voters.
  size_t Quorum() const { return voters.size() / 2 + 1; }
  bool operator==(const Membership&) const = default;
};

// One entry as the plugin keeps it in memory.
struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  uint32_t type = 0;  // SB_ENTRY_*
  std::string data;
};

enum class MsgType : uint8_t {
  kPreVote = 1,
  kPreVoteResp = 2,
  kVote = 3,
  kVoteResp = 4,
  kAppend = 5,
  kAppendResp = 6,
  kHeartbeat = 7,
  kHeartbeatResp = 8,
  kSnapshot = 9,
  kSnapshotResp = 10,
  kTimeoutNow = 11,
};
const char* MsgTypeName(MsgType t);

// One Raft message. Fields unused by a type stay zero / empty.
struct Message {
  MsgType type = MsgType::kHeartbeat;
  uint64_t group = 0;
  uint64_t from = 0;
  uint64_t to = 0;
  uint64_t term = 0;
  // Append: index/log_term of the entry preceding `entries`; responses: the
  // index acknowledged (success) or rejected. Votes: the candidate's last
  // index / last term.
  uint64_t index = 0;
  uint64_t log_term = 0;
  uint64_t commit = 0;
  bool reject = false;
  // Append reject: the follower's hint (largest index whose term is <= the
  // leader's log_term; its term is in log_term). Snapshot resp: the offset
  // the follower expects next.
  uint64_t hint = 0;
  // Vote / TimeoutNow: campaign of a leadership transfer (bypasses the
  // leader-lease check of §4.2.3).
  bool force = false;
  // Heartbeats and their responses: the heartbeat round (ReadIndex, lease).
  uint64_t seq = 0;
  std::vector<Entry> entries;
  // Snapshot chunk (kSnapshot) and its acknowledgement (kSnapshotResp:
  // `offset` = bytes the follower holds, `done` = installed).
  uint64_t snap_index = 0;
  uint64_t offset = 0;
  bool done = false;
  std::string snap_meta;
  std::string snap_data;
};

void EncodeMessage(const Message& m, std::string* out);
bool DecodeMessage(std::string_view in, Message* m);

struct HardState {
  uint64_t term = 0;
  uint64_t vote = 0;
  uint64_t commit = 0;
  bool operator==(const HardState&) const = default;
};
void EncodeHardState(const HardState& hs, std::string* out);
bool DecodeHardState(std::string_view in, HardState* hs);

// Entry metadata: the term.
void EncodeEntryMeta(uint64_t term, std::string* out);
bool DecodeEntryMeta(std::string_view in, uint64_t* term);

struct SnapshotMeta {
  uint64_t term = 0;  // term of the last entry the snapshot covers
  Membership membership;
};
void EncodeSnapshotMeta(const SnapshotMeta& sm, std::string* out);
bool DecodeSnapshotMeta(std::string_view in, SnapshotMeta* sm);

// Protocol entries: a no-op (a new leader's first entry, §5.4.2 / §6.4 of
// the dissertation) or a new membership.
enum class ProtocolKind : uint8_t { kNoop = 1, kMembership = 2 };
void EncodeNoop(std::string* out);
void EncodeMembershipEntry(const Membership& ms, std::string* out);
// kind is always set on success; *ms only for kMembership.
bool DecodeProtocolEntry(std::string_view in, ProtocolKind* kind,
                         Membership* ms);

}  // namespace sbraft
