// tests/simulation/checker.cc — see checker.h.
#include "tests/simulation/checker.h"

namespace sb::sim {

void Checker::Fail(const std::string& what) {
  if (violation_.empty()) violation_ = what;
}

void Checker::OnStatus(uint64_t node, const ConsensusStatus& st) {
  uint64_t& seen = terms_[node];
  if (st.term < seen) {
    Fail("node " + std::to_string(node) + " term went back from " +
         std::to_string(seen) + " to " + std::to_string(st.term));
  }
  seen = std::max(seen, st.term);
  if (st.role == Role::kLeader) {
    auto [it, inserted] = leaders_.emplace(st.term, node);
    if (!inserted && it->second != node) {
      Fail("two leaders in term " + std::to_string(st.term) + ": nodes " +
           std::to_string(it->second) + " and " + std::to_string(node));
    }
  }
  if (st.applied > st.commit) {
    Fail("node " + std::to_string(node) + " applied " +
         std::to_string(st.applied) + " beyond commit " +
         std::to_string(st.commit));
  }
}

void Checker::OnApply(uint64_t node, uint64_t prev_applied, uint64_t index,
                      EntryType type, std::string_view data, uint64_t hash) {
  if (index != prev_applied + 1) {
    Fail("node " + std::to_string(node) + " applied index " +
         std::to_string(index) + " after " + std::to_string(prev_applied));
    return;
  }
  auto [it, inserted] =
      committed_.emplace(index, Committed{type, std::string(data), hash, node});
  if (inserted) return;
  const Committed& c = it->second;
  if (c.type != type || c.data != data) {
    Fail("committed entry " + std::to_string(index) + " differs: node " +
         std::to_string(c.first_node) + " applied '" + c.data.substr(0, 40) +
         "', node " + std::to_string(node) + " applied '" +
         std::string(data.substr(0, 40)) + "'");
  } else if (c.hash != hash) {
    Fail("state machines diverge at index " + std::to_string(index) +
         " (nodes " + std::to_string(c.first_node) + " and " +
         std::to_string(node) + ")");
  }
}

void Checker::OnSnapshotInstalled(uint64_t node, uint64_t index,
                                  uint64_t hash) {
  auto it = committed_.find(index);
  if (it == committed_.end()) {
    Fail("node " + std::to_string(node) + " installed a snapshot at " +
         std::to_string(index) + " that no node applied");
  } else if (it->second.hash != hash) {
    Fail("snapshot at " + std::to_string(index) + " installed on node " +
         std::to_string(node) + " differs from the applied state");
  }
}

const std::string* Checker::CommittedData(uint64_t index) const {
  auto it = committed_.find(index);
  if (it == committed_.end() || it->second.type != EntryType::kNormal) {
    return nullptr;
  }
  return &it->second.data;
}

}  // namespace sb::sim
