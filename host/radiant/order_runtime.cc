// host/radiant/order_runtime.cc — see order_runtime.h.
#include "host/radiant/order_runtime.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "host/common/promised.h"

namespace sb::radiant {

namespace {

uint64_t SteadyMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

uint64_t WallMs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Bytes of undelivered consensus messages the inbox holds at most.
constexpr size_t kMaxInboxBytes = 64u << 20;

// Cycles per loop round, at most: a round that never settles yields to the
// tick and the stop flag instead of spinning forever.
constexpr int kMaxCyclesPerRound = 1000;

}  // namespace

StatusOr<std::unique_ptr<OrderRuntime>> OrderRuntime::Start(
    const OrderRuntimeOptions& options, Storage* storage,
    std::shared_ptr<PluginLibrary> consensus,
    const sb_host_services* consensus_host) {
  std::unique_ptr<OrderRuntime> rt(new OrderRuntime(options));
  const uint64_t self = options.node_number;
  const uint64_t order_id = options.order_id;
  const std::string name = "order " + std::to_string(order_id);
  std::vector<uint64_t> members = options.members;
  if (members.empty()) members = {self};
  const bool alone = members.size() == 1 && members.front() == self;

  ConsensusDriver::SendFn send = options.send;
  if (!send) {
    // An order of one has no one to send to: a message means the plugin
    // believes in other members, which this order never configured.
    send = [](uint64_t to, uint64_t group, std::string_view message) {
      spdlog::error(
          "group {} asked to send {} bytes to node {}, but the order has no "
          "peers; message dropped",
          group, message.size(), to);
    };
  }
  rt->driver_ = std::make_unique<ConsensusDriver>(
      self, storage, std::move(consensus), consensus_host, std::move(send));
  SB_RETURN_IF_ERROR(rt->driver_->Init());

  std::vector<uint16_t> owned = options.owned_shards;
  if (owned.empty()) {
    for (uint32_t s = 0; s < options.cluster.shards; ++s) {
      owned.push_back(static_cast<uint16_t>(s));
    }
  }
  auto sm = order::OrderStateMachine::Open(
      storage, order::OrderOptionsFor(options.cluster, order_id, owned));
  if (!sm.ok()) return sm.status().Annotate(name);
  rt->sm_ = std::move(sm).value();

  GroupOptions g;
  g.group_id = order_id;
  g.seed = self ^ WallMs();
  g.config = options.consensus_config;
  // Only used when the group is brand new (nothing stored); a restart
  // restores the members and log from storage.
  g.bootstrap_voters = members;
  order::SetCompaction(options.compaction, &g);
  Status st = rt->driver_->AddGroup(g, rt->sm_.get());
  if (!st.ok()) return st.Annotate(name);

  order::HeraldOptions ho;
  ho.request_timeout_ms = options.cluster.request_timeout_ms;
  ho.max_value_bytes = options.max_value_bytes;
  ho.now_ms = SteadyMs;
  ho.wall_ms = WallMs;
  rt->herald_ = std::make_unique<order::Herald>(rt->driver_.get(), order_id,
                                                rt->sm_.get(), std::move(ho));

  rt->thread_ = std::thread([r = rt.get()] { r->Loop(); });
  spdlog::info("{} started: shards {}..{}, {} member(s)", name, owned.front(),
               owned.back(), members.size());
  if (!alone) return rt;

  // Bounded wait for the election (one election timeout for one voter).
  const uint64_t deadline = SteadyMs() + options.leader_wait_ms;
  while (rt->leader() != self && SteadyMs() < deadline) {
    Status f = rt->failure();
    if (!f.ok()) return f;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (rt->leader() != self) {
    return Status::Unavailable(name + " was not led by this node within " +
                               std::to_string(options.leader_wait_ms) + " ms");
  }
  spdlog::info("{} led by this node (node {})", name, self);
  return rt;
}

OrderRuntime::~OrderRuntime() { Stop(); }

void OrderRuntime::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    if (failure_.ok()) {
      failure_ = Status::Unavailable("order " + std::to_string(opts_.order_id) +
                                     " stopped");
    }
  }
  cv_.notify_all();
  // The loop wakes at the next tick at the latest; a RunCycle in progress
  // finishes first (storage writes are not interrupted half-way).
  if (thread_.joinable()) thread_.join();
  // Now this thread owns the herald: it answers what is still queued.
  herald_.reset();
}

Status OrderRuntime::failure() const {
  std::lock_guard<std::mutex> l(mu_);
  return failure_;
}

void OrderRuntime::Wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    woken_ = true;
  }
  cv_.notify_one();
}

std::future<StatusOr<order::CommandResult>> OrderRuntime::Propose(
    order::Command command) {
  auto [done, f] = Promised<StatusOr<order::CommandResult>>();
  Propose(std::move(command), std::move(done));
  return std::move(f);
}

void OrderRuntime::Propose(order::Command command,
                           order::Herald::WriteDone done) {
  Status f = failure();
  if (!f.ok()) return done(f);
  herald_->Propose(std::move(command), std::move(done));
  Wake();
}

void OrderRuntime::Get(uint16_t shard, std::string key,
                       order::Herald::ReadDone done) {
  Status f = failure();
  if (!f.ok()) return done(f);
  herald_->LinearizableGet(shard, std::move(key), std::move(done));
  Wake();
}

std::future<order::ReadResult> OrderRuntime::Get(uint16_t shard,
                                                 std::string key) {
  auto [done, f] = Promised<order::ReadResult>();
  Get(shard, std::move(key), std::move(done));
  return std::move(f);
}

std::vector<std::future<order::ReadResult>> OrderRuntime::MultiGet(
    const std::vector<std::pair<uint16_t, std::string>>& keys) {
  std::vector<std::future<order::ReadResult>> out;
  out.reserve(keys.size());
  Status f = failure();
  for (const auto& [shard, key] : keys) {
    auto [done, fut] = Promised<order::ReadResult>();
    if (f.ok()) {
      herald_->LinearizableGet(shard, key, std::move(done));
    } else {
      done(f);
    }
    out.push_back(std::move(fut));
  }
  // One wake for all: the next Pump puts them behind one read_index.
  Wake();
  return out;
}

void OrderRuntime::Deliver(uint64_t from, uint64_t group,
                           std::string_view message) {
  if (group != opts_.order_id) {
    spdlog::warn(
        "node {} sent a message for group {}, which this node does "
        "not host (order {}); dropped",
        from, group, opts_.order_id);
    return;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (stop_) return;
    if (inbox_bytes_ + message.size() > kMaxInboxBytes) {
      // Powers of two: a warning at the 1st, 2nd, 4th, ... drop.
      const uint64_t dropped = ++inbox_dropped_;
      if ((dropped & (dropped - 1)) == 0) {
        spdlog::warn(
            "order {}: consensus inbox full ({} bytes), {} message(s) "
            "dropped so far",
            opts_.order_id, inbox_bytes_, inbox_dropped_);
      }
      return;
    }
    inbox_bytes_ += message.size();
    inbox_.emplace_back(message);
    woken_ = true;
  }
  cv_.notify_one();
}

void OrderRuntime::DrainInbox() {
  std::vector<std::string> batch;
  {
    std::lock_guard<std::mutex> l(mu_);
    batch.swap(inbox_);
    inbox_bytes_ = 0;
  }
  for (const std::string& m : batch) {
    Status st = driver_->Deliver(opts_.order_id, m);
    if (!st.ok()) {
      spdlog::warn("order {}: consensus message refused: {}", opts_.order_id,
                   st.ToString());
    }
  }
}

bool OrderRuntime::RunUntilIdle() {
  herald_->Pump();
  for (int i = 0; i < kMaxCyclesPerRound; ++i) {
    auto n = driver_->RunCycle();
    const Status st = n.status();
    if (!st.ok()) {
      spdlog::critical("order {} stopped: {}", opts_.order_id, st.ToString());
      std::lock_guard<std::mutex> l(mu_);
      failure_ =
          Status::Unavailable("order " + std::to_string(opts_.order_id) +
                              " stopped after an error: " + st.ToString());
      return false;
    }
    // The cycle's batches are written: results went to their futures;
    // reads whose read index is now applied can be served, and writes
    // queued meanwhile proposed.
    herald_->Pump();
    if (ConsensusInstance* inst = driver_->group(opts_.order_id)) {
      const ConsensusStatus cs = inst->GetStatus();
      leader_.store(cs.leader);
    }
    if (*n == 0) return true;
  }
  return true;
}

void OrderRuntime::Loop() {
  const auto tick = std::chrono::milliseconds(
      opts_.cluster.tick_ms > 0 ? opts_.cluster.tick_ms : 100);
  auto next_tick = std::chrono::steady_clock::now() + tick;
  bool healthy = true;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_until(l, next_tick, [this] { return stop_ || woken_; });
      if (stop_) break;
      woken_ = false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_tick) {
      if (healthy) driver_->Tick();
      next_tick += tick;
      // After a long stall, tick once and resynchronise instead of
      // replaying every missed tick.
      if (next_tick <= now) next_tick = now + tick;
    }
    if (healthy) {
      DrainInbox();
      healthy = RunUntilIdle();
      if (!healthy) {
        leader_.store(0);
      }
    } else {
      // Driver stopped: the herald still times out what it holds.
      herald_->Pump();
    }
  }
}

}  // namespace sb::radiant
