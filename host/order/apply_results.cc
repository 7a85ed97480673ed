// host/order/apply_results.cc — see apply_results.h.
#include "host/order/apply_results.h"

#include <memory>
#include <utility>

#include "host/order/shard.h"

namespace sb::order {

uint64_t CommandDigest(std::string_view proposed_bytes) {
  return Fnv1a64(proposed_bytes);
}

void ApplyResults::Watch(uint64_t index, uint64_t digest, Callback cb) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (index > released_) {
      watchers_.emplace(index, Watcher{digest, std::move(cb)});
      return;
    }
  }
  cb(Status::Aborted("index " + std::to_string(index) +
                     " was applied before the watch; its result is gone"));
}

std::future<ApplyResults::Result> ApplyResults::Watch(uint64_t index,
                                                      uint64_t digest) {
  auto p = std::make_shared<std::promise<Result>>();
  std::future<Result> f = p->get_future();
  Watch(index, digest, [p](const Result& r) { p->set_value(r); });
  return f;
}

void ApplyResults::Record(uint64_t index, std::string_view entry_bytes,
                          Result result) {
  std::lock_guard<std::mutex> l(mu_);
  if (index <= released_) return;  // re-applied after release: nobody waits
  if (watchers_.find(index) == watchers_.end()) return;  // nobody will
  recorded_.insert_or_assign(
      index, Recorded{CommandDigest(entry_bytes), std::move(result)});
}

void ApplyResults::ReleaseThrough(uint64_t index) {
  std::vector<std::pair<Callback, Result>> fire;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (index <= released_) return;
    released_ = index;
    auto end = watchers_.upper_bound(index);
    for (auto it = watchers_.begin(); it != end; ++it) {
      auto rec = recorded_.find(it->first);
      if (rec == recorded_.end()) {
        fire.emplace_back(std::move(it->second.cb),
                          Status::Aborted("entry " + std::to_string(it->first) +
                                          " is not a command"));
      } else if (rec->second.digest != it->second.digest) {
        fire.emplace_back(
            std::move(it->second.cb),
            Status::Aborted("entry " + std::to_string(it->first) +
                            " holds another proposal (leadership changed)"));
      } else {
        fire.emplace_back(std::move(it->second.cb), rec->second.result);
      }
    }
    watchers_.erase(watchers_.begin(), end);
    recorded_.erase(recorded_.begin(), recorded_.upper_bound(index));
  }
  for (auto& [cb, r] : fire) cb(r);
}

void ApplyResults::DropUnreleased() {
  std::lock_guard<std::mutex> l(mu_);
  recorded_.clear();
}

void ApplyResults::FailAll(const Status& status) {
  std::multimap<uint64_t, Watcher> w;
  {
    std::lock_guard<std::mutex> l(mu_);
    w.swap(watchers_);
  }
  for (auto& [index, watcher] : w) watcher.cb(status);
}

uint64_t ApplyResults::released() const {
  std::lock_guard<std::mutex> l(mu_);
  return released_;
}

size_t ApplyResults::watchers() const {
  std::lock_guard<std::mutex> l(mu_);
  return watchers_.size();
}

}  // namespace sb::order
