// tests/simulation/checker.h — safety invariants checked after every step.
//
// The checker sees every node's status after each drained ready loop and
// every entry a node applies, and records the first violation of:
//   - election safety: at most one leader per term;
//   - terms never decrease on a node (across crashes and restarts);
//   - committed entries never change: every node applies the same entry
//     (type, payload) at a given index;
//   - state machines agree: the state-machine hash after applying index i
//     (or installing a snapshot at i) is the same on every node;
//   - each node applies indexes in order, without gaps.
// Like LogCabin's RaftConsensusInvariants, it is passive: the simulation
// calls it, tests assert ok(). Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "host/consensus/consensus.h"

namespace sb::sim {

class Checker {
 public:
  void OnStatus(uint64_t node, const ConsensusStatus& st);
  // Node `node` applied `index` (after applying, the state machine has
  // `hash`); `prev_applied` is what it had applied before.
  void OnApply(uint64_t node, uint64_t prev_applied, uint64_t index,
               EntryType type, std::string_view data, uint64_t hash);
  void OnSnapshotInstalled(uint64_t node, uint64_t index, uint64_t hash);
  void Fail(const std::string& what);

  bool ok() const { return violation_.empty(); }
  const std::string& violation() const { return violation_; }
  // Data of the committed normal entry at `index`, if any node applied it.
  const std::string* CommittedData(uint64_t index) const;
  uint64_t max_committed_index() const {
    return committed_.empty() ? 0 : committed_.rbegin()->first;
  }

 private:
  struct Committed {
    EntryType type;
    std::string data;
    uint64_t hash;
    uint64_t first_node;
  };
  std::map<uint64_t, uint64_t> leaders_;  // term -> node
  std::map<uint64_t, uint64_t> terms_;    // node -> highest term seen
  std::map<uint64_t, Committed> committed_;
  std::string violation_;
};

}  // namespace sb::sim
