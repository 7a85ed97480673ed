#include "mem_store.h"

#include <iterator>

namespace sbmem {

bool ValidKeyspaceName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

uint32_t MemStore::Keyspace(std::string_view name) {
  {
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < keyspaces_.size(); ++i) {
      if (keyspaces_[i]->name == name) return static_cast<uint32_t>(i + 1);
    }
  }
  std::unique_lock lock(mu_);
  // Look again: another thread may have created it between the two locks.
  for (size_t i = 0; i < keyspaces_.size(); ++i) {
    if (keyspaces_[i]->name == name) return static_cast<uint32_t>(i + 1);
  }
  auto space = std::make_unique<Space>();
  space->name = std::string(name);
  keyspaces_.push_back(std::move(space));
  return static_cast<uint32_t>(keyspaces_.size());
}

std::vector<std::string> MemStore::KeyspaceNames() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> names;
  names.reserve(keyspaces_.size());
  for (const auto& ks : keyspaces_) names.push_back(ks->name);
  return names;
}

bool MemStore::HasKeyspace(uint32_t id) const {
  std::shared_lock lock(mu_);
  return Find(id) != nullptr;
}

uint64_t MemStore::Pin() {
  // The read lock keeps writers out, so no batch is half-way between taking
  // its sequence number and reading the oldest pin while we register.
  std::shared_lock lock(mu_);
  std::lock_guard pins_lock(pins_mu_);
  pins_.insert(last_seq_);
  return last_seq_;
}

void MemStore::Unpin(uint64_t seq) {
  bool oldest_moved = false;
  {
    std::lock_guard pins_lock(pins_mu_);
    // The first pin at `seq`: if another one follows at the same sequence,
    // the oldest pin does not move.
    auto it = pins_.lower_bound(seq);
    if (it == pins_.end() || *it != seq) return;
    oldest_moved = (it == pins_.begin()) &&
                   (std::next(it) == pins_.end() || *std::next(it) != seq);
    pins_.erase(it);
  }
  // Versions only the released reader could see are garbage now. Without
  // this pass they would linger until their key is written again.
  if (oldest_moved) {
    std::unique_lock lock(mu_);
    PruneAll();
  }
}

bool MemStore::OldestPin(uint64_t* seq) const {
  std::lock_guard pins_lock(pins_mu_);
  if (pins_.empty()) return false;
  *seq = *pins_.begin();
  return true;
}

MemStore::Space* MemStore::Find(uint32_t ks) const {
  if (ks == 0 || ks > keyspaces_.size()) return nullptr;
  return keyspaces_[ks - 1].get();
}

const MemStore::Version* MemStore::Visible(const Versions& versions,
                                           uint64_t seq) {
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->seq <= seq) return &*it;
  }
  return nullptr;
}

const std::string* MemStore::FindVisible(uint32_t ks, uint64_t seq,
                                         std::string_view key) const {
  const Space* space = Find(ks);
  if (space == nullptr) return nullptr;
  auto it = space->rows.find(key);
  if (it == space->rows.end()) return nullptr;
  const Version* v = Visible(it->second, seq);
  if (v == nullptr || v->deleted) return nullptr;
  return &v->value;
}

void MemStore::Apply(const std::vector<Op>& ops) {
  std::unique_lock lock(mu_);
  // One sequence number for the whole batch: a reader either started before
  // it (and sees none of it) or after it (and sees all of it).
  const uint64_t seq = ++last_seq_;
  uint64_t oldest = 0;
  const bool has_pin = OldestPin(&oldest);
  for (const Op& op : ops) {
    Space* space = Find(op.keyspace);
    if (space == nullptr) continue;  // checked when the op was added
    switch (op.type) {
      case Op::kPut:
      case Op::kDelete: {
        auto [it, inserted] = space->rows.try_emplace(op.key);
        (void)inserted;
        const bool deleted = op.type == Op::kDelete;
        Versions& versions = it->second;
        if (!versions.empty() && versions.back().seq == seq) {
          versions.back().deleted = deleted;
          versions.back().value = deleted ? std::string() : op.value;
        } else {
          versions.push_back(
              Version{seq, deleted, deleted ? std::string() : op.value});
        }
        Prune(space, it, has_pin, oldest);
        break;
      }
      case Op::kDeleteRange: {
        // A tombstone on every key live in [begin, end) at this sequence.
        auto it = space->rows.lower_bound(op.key);
        while (it != space->rows.end() && it->first < op.value) {
          auto next = std::next(it);
          Versions& versions = it->second;
          if (!versions.back().deleted) {
            if (versions.back().seq == seq) {
              versions.back().deleted = true;
              versions.back().value.clear();
            } else {
              versions.push_back(Version{seq, true, std::string()});
            }
            Prune(space, it, has_pin, oldest);
          }
          it = next;
        }
        break;
      }
    }
  }
}

void MemStore::Prune(Space* space, Rows::iterator it, bool has_pin,
                     uint64_t oldest_pin) {
  Versions& versions = it->second;
  // Keep the newest version and, while readers are pinned, every version
  // one of them may still see: the newest one at or below the oldest pin
  // and everything after it.
  size_t keep_from = versions.size() - 1;
  if (has_pin) {
    keep_from = 0;
    for (size_t i = versions.size(); i-- > 0;) {
      if (versions[i].seq <= oldest_pin) {
        keep_from = i;
        break;
      }
    }
  }
  if (keep_from > 0) {
    versions.erase(versions.begin(),
                   versions.begin() + static_cast<ptrdiff_t>(keep_from));
  }
  // A lone tombstone reads as "absent" at every sequence: drop the key.
  if (versions.size() == 1 && versions.front().deleted) {
    space->prunable.erase(it->first);
    space->rows.erase(it);
    return;
  }
  if (versions.size() > 1 || versions.back().deleted) {
    space->prunable.insert(it->first);
  } else {
    space->prunable.erase(it->first);
  }
}

void MemStore::PruneAll() {
  uint64_t oldest = 0;
  const bool has_pin = OldestPin(&oldest);
  for (auto& space : keyspaces_) {
    auto pit = space->prunable.begin();
    while (pit != space->prunable.end()) {
      // Advance first: Prune may erase this key from the set.
      auto it = space->rows.find(*pit);
      ++pit;
      if (it != space->rows.end()) {
        Prune(space.get(), it, has_pin, oldest);
      }
    }
  }
}

bool MemStore::SeekForward(uint32_t ks, uint64_t seq, std::string_view target,
                           bool inclusive, const std::string* upper,
                           Entry* out) const {
  std::shared_lock lock(mu_);
  const Space* space = Find(ks);
  if (space == nullptr) return false;
  auto it = inclusive ? space->rows.lower_bound(target)
                      : space->rows.upper_bound(target);
  for (; it != space->rows.end(); ++it) {
    if (upper != nullptr && it->first >= *upper) return false;
    const Version* v = Visible(it->second, seq);
    if (v != nullptr && !v->deleted) {
      out->key = it->first;
      out->value = v->value;
      return true;
    }
  }
  return false;
}

bool MemStore::SeekBackward(uint32_t ks, uint64_t seq,
                            const std::string* target, bool inclusive,
                            std::string_view lower, Entry* out) const {
  std::shared_lock lock(mu_);
  const Space* space = Find(ks);
  if (space == nullptr) return false;
  auto it = space->rows.end();
  if (target != nullptr) {
    it = inclusive ? space->rows.upper_bound(*target)
                   : space->rows.lower_bound(*target);
  }
  while (it != space->rows.begin()) {
    --it;
    if (it->first < lower) return false;
    const Version* v = Visible(it->second, seq);
    if (v != nullptr && !v->deleted) {
      out->key = it->first;
      out->value = v->value;
      return true;
    }
  }
  return false;
}

uint64_t MemStore::ApproximateSize(uint32_t ks, std::string_view begin,
                                   const std::string* end) const {
  std::shared_lock lock(mu_);
  const Space* space = Find(ks);
  if (space == nullptr) return 0;
  uint64_t total = 0;
  for (auto it = space->rows.lower_bound(begin); it != space->rows.end();
       ++it) {
    if (end != nullptr && it->first >= *end) break;
    const Version& v = it->second.back();
    if (!v.deleted) total += it->first.size() + v.value.size();
  }
  return total;
}

}  // namespace sbmem
