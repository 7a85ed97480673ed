// tests/support/inproc_transport/inproc_transport.cc — see
// inproc_transport.h.
#include "tests/support/inproc_transport/inproc_transport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "tests/support/inproc_transport/instance.h"

namespace sb::inproc {

namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, Network*>& Registry() {
  static std::map<std::string, Network*> r;
  return r;
}

uint64_t SteadyUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- Network ---------------------------------------------------------------

Network::Network(std::string name, uint64_t seed, Mode mode)
    : name_(std::move(name)), seed_(seed), mode_(mode), rng_(seed) {
  real_start_us_ = SteadyUs();
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry()[name_] = this;
  }
  if (mode_ == Mode::kRealTime)
    thread_ = std::thread([this] { RunRealTime(); });
}

Network::~Network() {
  {
    std::lock_guard<std::mutex> lock(RegistryMutex());
    Registry().erase(name_);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

Network* Network::Find(const std::string& name) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second;
}

void Network::SetFaults(const Faults& f) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = f;
}

void Network::SetLinkFaults(uint64_t from, uint64_t to, const Faults& f) {
  std::lock_guard<std::mutex> lock(mu_);
  link_faults_[{from, to}] = f;
}

void Network::Partition(const std::vector<std::set<uint64_t>>& groups) {
  std::lock_guard<std::mutex> lock(mu_);
  group_of_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (uint64_t n : groups[g]) group_of_[n] = static_cast<int>(g);
  }
}

void Network::BlockLink(uint64_t from, uint64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_.insert({from, to});
}

void Network::UnblockLink(uint64_t from, uint64_t to) {
  std::lock_guard<std::mutex> lock(mu_);
  blocked_.erase({from, to});
}

void Network::Isolate(uint64_t node, bool isolated) {
  std::lock_guard<std::mutex> lock(mu_);
  if (isolated) {
    isolated_.insert(node);
  } else {
    isolated_.erase(node);
  }
}

bool Network::IsIsolated(uint64_t node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return isolated_.count(node) != 0;
}

bool Network::CanTalk(uint64_t from, uint64_t to) const {
  std::lock_guard<std::mutex> lock(mu_);
  return !Blocked(from, to);
}

void Network::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  group_of_.clear();
  blocked_.clear();
  isolated_.clear();
}

bool Network::Blocked(uint64_t from, uint64_t to) const {
  if (isolated_.count(from) || isolated_.count(to)) return true;
  if (blocked_.count({from, to})) return true;
  auto a = group_of_.find(from), b = group_of_.find(to);
  return a != group_of_.end() && b != group_of_.end() && a->second != b->second;
}

const Faults& Network::FaultsFor(uint64_t from, uint64_t to) const {
  auto it = link_faults_.find({from, to});
  return it != link_faults_.end() ? it->second : faults_;
}

uint64_t Network::Now() const {
  return mode_ == Mode::kManual ? virtual_now_us_ : SteadyUs() - real_start_us_;
}

uint64_t Network::now_us() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Now();
}

size_t Network::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heap_.size();
}

NetworkStats Network::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

uint64_t Network::Delay(const Faults& f) {
  if (f.max_delay_us <= f.min_delay_us) return f.min_delay_us;
  return f.min_delay_us + rng_() % (f.max_delay_us - f.min_delay_us + 1);
}

namespace {
// A uniform double in [0, 1) from 53 bits of the generator (portable, unlike
// std::uniform_real_distribution's unspecified algorithm).
double Unit(std::mt19937_64& g) { return (g() >> 11) * 0x1.0p-53; }
}  // namespace

sb_code Network::Register(const std::string& address, Instance* inst,
                          sb_status* st, std::string* bound) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string a = address;
  if (a.size() >= 2 && a.compare(a.size() - 2, 2, ":0") == 0) {
    a = "inproc:" + std::to_string(next_port_++);
  }
  if (by_address_.count(a)) {
    return sb_status_set(st, SB_IO_ERROR, "inproc: address %s in use",
                         a.c_str());
  }
  by_address_[a] = inst;
  *bound = a;
  return sb_status_ok(st);
}

void Network::Unregister(Instance* inst) {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto it = by_address_.begin(); it != by_address_.end();) {
    it = it->second == inst ? by_address_.erase(it) : std::next(it);
  }
  // Wait for deliveries into this instance that are already running.
  idle_cv_.wait(lock, [&] { return busy_.count(inst) == 0; });
}

sb_code Network::Submit(uint64_t from, const std::string& cluster, uint64_t to,
                        const std::string& address, const uint8_t* data,
                        size_t len, size_t queue_limit, sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& queued = in_flight_[{from, to}];
  if (queued >= queue_limit) {
    return sb_status_set(st, SB_BUSY, "inproc: queue to node %llu full",
                         static_cast<unsigned long long>(to));
  }
  ++stats_.sent;
  stats_.bytes_sent += len;
  if (Blocked(from, to)) {
    ++stats_.partitioned;
    return sb_status_ok(st);  // lost on the wire; the sender cannot tell
  }
  const Faults& f = FaultsFor(from, to);
  // Draw every decision in a fixed order so a seed replays exactly.
  double drop = Unit(rng_), dup = Unit(rng_), reorder = Unit(rng_);
  if (drop < f.drop) {
    ++stats_.dropped;
    return sb_status_ok(st);
  }
  int copies = dup < f.duplicate ? 2 : 1;
  if (copies == 2) ++stats_.duplicated;
  for (int i = 0; i < copies; ++i) {
    Message m;
    m.due_us = Now() + Delay(f);
    if (reorder < f.reorder) {
      // Extra draws only for a reordered message with a delay range, so
      // runs without one replay as before.
      m.due_us += f.reorder_delay_max_us > f.reorder_delay_us
                      ? f.reorder_delay_us + rng_() % (f.reorder_delay_max_us -
                                                       f.reorder_delay_us + 1)
                      : f.reorder_delay_us;
    }
    m.seq = seq_++;
    m.from = from;
    m.to = to;
    m.to_address = address;
    m.cluster = cluster;
    m.bytes.assign(reinterpret_cast<const char*>(data), len);
    heap_.push_back(std::move(m));
    std::push_heap(heap_.begin(), heap_.end());
    ++queued;
  }
  cv_.notify_one();
  return sb_status_ok(st);
}

bool Network::PopDue(uint64_t limit, Message* out) {
  if (heap_.empty() || heap_.front().due_us > limit) return false;
  std::pop_heap(heap_.begin(), heap_.end());
  *out = std::move(heap_.back());
  heap_.pop_back();
  auto it = in_flight_.find({out->from, out->to});
  if (it != in_flight_.end() && it->second > 0) --it->second;
  return true;
}

void Network::Deliver(Message m) {
  Instance* inst = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A partition that began while the message was in flight loses it.
    if (Blocked(m.from, m.to)) {
      ++stats_.partitioned;
      return;
    }
    auto it = by_address_.find(m.to_address);
    if (it == by_address_.end()) {
      ++stats_.dropped;  // nobody listens there (crashed or moved node)
      return;
    }
    inst = it->second;
    busy_.insert(inst);
  }
  // The checks of the real handshake, on the receiver.
  std::string refusal;
  if (inst->id != m.to) {
    refusal = "dialed node " + std::to_string(m.to) + " but this is node " +
              std::to_string(inst->id);
  } else if (inst->cluster != m.cluster) {
    refusal =
        "cluster id '" + m.cluster + "' is not ours ('" + inst->cluster + "')";
  } else if (!inst->KnowsPeer(m.from)) {
    refusal = "node " + std::to_string(m.from) + " is not a known peer";
  }
  if (refusal.empty()) {
    ++inst->received;
    inst->bytes_received += m.bytes.size();
    inst->deliver(inst->deliver_ctx, m.from,
                  reinterpret_cast<const uint8_t*>(m.bytes.data()),
                  m.bytes.size());
  } else {
    ++inst->refused;
    sb_logf(inst->host, SB_LOG_WARN, "inproc: refusing message: %s",
            refusal.c_str());
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (refusal.empty()) {
    ++stats_.delivered;
  } else {
    ++stats_.refused;
  }
  busy_.erase(busy_.find(inst));
  idle_cv_.notify_all();
}

bool Network::Step() {
  Message m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (mode_ != Mode::kManual || heap_.empty()) return false;
    uint64_t due = heap_.front().due_us;
    PopDue(due, &m);
    virtual_now_us_ = std::max(virtual_now_us_, due);
  }
  Deliver(std::move(m));
  return true;
}

size_t Network::DeliverAll(size_t max_steps) {
  size_t n = 0;
  while (n < max_steps && Step()) ++n;
  return n;
}

size_t Network::AdvanceTime(uint64_t us) {
  size_t n = 0;
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (mode_ != Mode::kManual) return 0;
    target = virtual_now_us_ + us;
  }
  for (;;) {
    Message m;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!PopDue(target, &m)) {
        virtual_now_us_ = target;
        return n;
      }
      virtual_now_us_ = std::max(virtual_now_us_, m.due_us);
    }
    Deliver(std::move(m));
    ++n;
  }
}

void Network::RunRealTime() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    Message m;
    if (PopDue(Now(), &m)) {
      lock.unlock();
      Deliver(std::move(m));
      lock.lock();
      continue;
    }
    if (heap_.empty()) {
      cv_.wait(lock);
    } else {
      uint64_t wait = heap_.front().due_us - Now();
      cv_.wait_for(lock, std::chrono::microseconds(wait));
    }
  }
}

}  // namespace sb::inproc
