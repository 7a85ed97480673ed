// tests/simulation/network.cc — see network.h.
#include "tests/simulation/network.h"

#include <algorithm>

namespace sb::sim {

uint64_t Network::Delay() {
  if (rng_->Chance(opts_.long_delay)) {
    return rng_->Range(opts_.max_delay,
                       std::max(opts_.max_delay, opts_.long_delay_max));
  }
  return rng_->Range(std::max<uint64_t>(1, opts_.min_delay),
                     std::max(opts_.min_delay, opts_.max_delay));
}

void Network::Send(uint64_t now, uint64_t from, uint64_t to, std::string data) {
  ++stats_.sent;
  stats_.bytes += data.size();
  if (!CanTalk(from, to) || rng_->Chance(opts_.loss)) {
    ++stats_.dropped;
    return;
  }
  auto greater = std::greater<Pending>();
  if (rng_->Chance(opts_.duplicate)) {
    queue_.push_back({now + Delay(), seq_++, from, to, data});
    std::push_heap(queue_.begin(), queue_.end(), greater);
  }
  queue_.push_back({now + Delay(), seq_++, from, to, std::move(data)});
  std::push_heap(queue_.begin(), queue_.end(), greater);
}

void Network::DeliverDue(
    uint64_t now,
    const std::function<void(uint64_t, uint64_t, const std::string&)>&
        deliver) {
  auto greater = std::greater<Pending>();
  while (!queue_.empty() && queue_.front().due <= now) {
    std::pop_heap(queue_.begin(), queue_.end(), greater);
    Pending p = std::move(queue_.back());
    queue_.pop_back();
    if (!CanTalk(p.from, p.to)) {
      ++stats_.dropped;
      continue;
    }
    ++stats_.delivered;
    deliver(p.from, p.to, p.data);
  }
}

void Network::SetConnected(uint64_t node, bool connected) {
  if (connected) {
    cut_.erase(node);
  } else {
    cut_.insert(node);
  }
}

void Network::SetLink(uint64_t from, uint64_t to, bool up) {
  if (up) {
    down_links_.erase({from, to});
  } else {
    down_links_.insert({from, to});
  }
}

void Network::Partition(const std::vector<std::vector<uint64_t>>& groups,
                        const std::vector<uint64_t>& all_nodes) {
  Heal();
  auto group_of = [&](uint64_t n) -> int {
    for (size_t g = 0; g < groups.size(); ++g) {
      if (std::count(groups[g].begin(), groups[g].end(), n)) {
        return static_cast<int>(g);
      }
    }
    return -1;
  };
  for (uint64_t a : all_nodes) {
    for (uint64_t b : all_nodes) {
      int ga = group_of(a), gb = group_of(b);
      if (a != b && (ga < 0 || ga != gb)) down_links_.insert({a, b});
    }
  }
}

void Network::Heal() {
  cut_.clear();
  down_links_.clear();
}

bool Network::CanTalk(uint64_t from, uint64_t to) const {
  return !cut_.count(from) && !cut_.count(to) && !down_links_.count({from, to});
}

}  // namespace sb::sim
