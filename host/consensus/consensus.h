// host/consensus/consensus.h — the host's C++ view of a consensus plugin.
//
// ConsensusInstance wraps one sb_consensus (one group on this node) behind
// RAII and C++ types; nothing else in the host touches the consensus ABI.
// The instance keeps the plugin library alive (shared_ptr) and adapts a C++
// ConsensusLog (the host's persisted log) to the ABI's log reader.
//
// Ready batches are views: every string_view in a ConsensusReady points into
// plugin memory and is valid until Advance() or destruction. The driving
// loop is: GetReady → persist (snapshot chunk, entries, hard state; synced
// if must_sync) → send messages → apply committed, answer reads → Advance.
//
// Thread safety: a ConsensusInstance is not thread-safe; drive it from one
// thread at a time. The ConsensusLog is only called from inside calls made
// on the instance, on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/common/status.h"
#include "host/config/plugin_section.h"
#include "host/plugin/loader.h"
#include "shardbearer/abi/consensus.h"

namespace sb {

enum class EntryType : uint32_t {
  kNormal = SB_ENTRY_NORMAL,      // application payload
  kProtocol = SB_ENTRY_PROTOCOL,  // plugin-private (no-op, membership)
};

enum class Role : uint32_t {
  kFollower = SB_ROLE_FOLLOWER,
  kPreCandidate = SB_ROLE_PRE_CANDIDATE,
  kCandidate = SB_ROLE_CANDIDATE,
  kLeader = SB_ROLE_LEADER,
  kLearner = SB_ROLE_LEARNER,
};
const char* RoleName(Role r);

enum class MemberOp : uint32_t {
  kAddVoter = SB_MEMBER_ADD_VOTER,
  kAddLearner = SB_MEMBER_ADD_LEARNER,
  kPromote = SB_MEMBER_PROMOTE,
  kRemove = SB_MEMBER_REMOVE,
};

// An entry as stored by the host (owned copy).
struct LogEntry {
  EntryType type = EntryType::kNormal;
  uint64_t index = 0;
  std::string meta;
  std::string data;
};

// Views into an outstanding ready batch (valid until Advance).
struct EntryView {
  EntryType type;
  uint64_t index;
  std::string_view meta;
  std::string_view data;
};
struct MessageView {
  uint64_t to;
  std::string_view data;
};
struct SnapshotChunkView {
  bool done;
  uint64_t index;
  uint64_t offset;
  std::string_view meta;
  std::string_view data;
};
struct ReadStateView {
  uint64_t index;
  std::string_view context;
};
struct ConsensusReady {
  std::string_view hard_state;  // empty: unchanged
  std::vector<EntryView> entries;
  bool must_sync = false;
  std::optional<SnapshotChunkView> snapshot;
  std::vector<MessageView> messages;
  // May be sent before the batch is persisted (ABI 1.1, consensus.h).
  std::vector<MessageView> early_messages;
  std::vector<EntryView> committed;
  std::vector<ReadStateView> reads;
};

struct ConsensusStatus {
  Role role = Role::kFollower;
  uint64_t term = 0;
  uint64_t leader = 0;
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 1;
  uint64_t last_index = 0;
  uint32_t voters = 0;
  uint32_t learners = 0;
};

struct Member {
  uint64_t node = 0;
  bool voter = false;
};

// The host's persisted log, as the plugin reads it back. Implementations
// return NotFound for ranges outside [first, last] and for a missing or
// replaced snapshot (see sb_consensus_log_reader).
class ConsensusLog {
 public:
  virtual ~ConsensusLog() = default;
  virtual Status Range(uint64_t* first, uint64_t* last) = 0;
  // Calls fn for entries in [lo, hi) until max_bytes of meta+data were
  // passed (always at least one).
  virtual Status Entries(uint64_t lo, uint64_t hi, uint64_t max_bytes,
                         const std::function<void(const LogEntry&)>& fn) = 0;
  virtual Status SnapshotMeta(uint64_t* index, std::string* meta) = 0;
  virtual Status SnapshotRead(uint64_t index, uint64_t offset,
                              uint64_t max_bytes, std::string* data,
                              bool* done) = 0;
};

struct ConsensusOptions {
  uint64_t group_id = 0;
  uint64_t node_id = 0;
  uint64_t seed = 0;
  std::vector<PluginConfigEntry> config;  // the plugin's section
  std::string hard_state;                 // persisted; empty for a new node
  uint64_t applied = 0;
  std::vector<uint64_t> bootstrap_voters;
};

class ConsensusInstance {
 public:
  // Loads nothing: `lib` is a consensus plugin from PluginLoader::Load.
  // `host` (may be null) and `log` must outlive the instance.
  static StatusOr<std::unique_ptr<ConsensusInstance>> Create(
      std::shared_ptr<PluginLibrary> lib, const sb_host_services* host,
      const ConsensusOptions& opts, ConsensusLog* log);
  // Validates a config section with the plugin.
  static Status CheckConfig(const PluginLibrary& lib,
                            const std::vector<PluginConfigEntry>& config);
  static Status CheckConfig(const PluginLibrary& lib, const sb_config& config);

  ~ConsensusInstance();
  ConsensusInstance(const ConsensusInstance&) = delete;
  ConsensusInstance& operator=(const ConsensusInstance&) = delete;

  const std::string& plugin_name() const { return name_; }

  void Tick();
  Status Step(std::string_view msg);
  Status Propose(std::string_view data, uint64_t* index = nullptr);
  Status ReadIndex(std::string_view context);
  Status ChangeMembership(MemberOp op, uint64_t node);
  Status TransferLeadership(uint64_t target);
  // Returns the snapshot metadata to store with the snapshot.
  StatusOr<std::string> Compact(uint64_t index);
  ConsensusStatus GetStatus() const;
  std::vector<Member> Members() const;

  bool HasReady() const;
  Status GetReady(ConsensusReady* rd);
  Status Advance();

 private:
  ConsensusInstance() = default;

  std::shared_ptr<PluginLibrary> lib_;
  const sb_consensus_vtable* vt_ = nullptr;
  sb_consensus* c_ = nullptr;
  std::string name_;
  sb_consensus_log_reader reader_{};
  ConsensusLog* log_ = nullptr;
};

}  // namespace sb
