// tests/simulation/orders_cluster.cc — see orders_cluster.h.
#include "tests/simulation/orders_cluster.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "host/order/shard.h"
#include "host/transport/peer_message.h"

namespace sb::sim {

namespace {

// Cycles per loop round, at most (as the runtime): a round that never
// settles is reported instead of spinning forever.
constexpr int kMaxCyclesPerRound = 1000;
// Herald timestamps: a fixed epoch plus simulated time, so runs replay.
constexpr uint64_t kWallEpochMs = 1'700'000'000'000ULL;

bool Verbose() {
  static const bool v = getenv("SB_SIM_VERBOSE") != nullptr;
  return v;
}

std::string AddressOf(uint64_t id) { return "radiant-" + std::to_string(id); }

}  // namespace

// The sb_host_services every plugin of the cluster sees: logging to stderr
// (errors always, everything with SB_SIM_VERBOSE=1) and the simulated clock.
struct OrdersCluster::Host {
  const uint64_t* now = nullptr;
  sb_host_services services{};

  static const uint64_t* NowOf(void* ctx) {
    return static_cast<Host*>(ctx)->now;
  }
  static void Log(void* ctx, int32_t level, const char* msg, size_t len) {
    if (!Verbose() && level < SB_LOG_ERROR) return;
    fprintf(stderr, "[t=%llu] %.*s\n",
            static_cast<unsigned long long>(*NowOf(ctx)), static_cast<int>(len),
            msg);
  }
  static int32_t LogEnabled(void*, int32_t level) {
    return Verbose() || level >= SB_LOG_ERROR ? 1 : 0;
  }
  static uint64_t Clock(void* ctx) { return *NowOf(ctx) * kTickUs * 1000; }
};

struct OrdersCluster::Radiant {
  uint64_t id = 0;
  uint64_t group = 0;
  bool up = false;
  uint64_t boots = 0;
  std::unique_ptr<Storage> storage;  // survives crashes
  std::unique_ptr<Transport> transport;
  std::unique_ptr<ConsensusDriver> driver;
  std::unique_ptr<order::OrderStateMachine> sm;
  std::unique_ptr<order::Herald> herald;
};

OrdersCluster::OrdersCluster(OrdersOptions opts)
    : opts_(std::move(opts)),
      rng_(opts_.seed),
      net_(Rng(opts_.seed ^ 0x6f72646572733131ULL).Next()),
      host_(std::make_unique<Host>()) {
  host_->now = &now_;
  host_->services.struct_size = sizeof host_->services;
  host_->services.host_ctx = host_.get();
  host_->services.log = Host::Log;
  host_->services.log_enabled = Host::LogEnabled;
  host_->services.monotonic_ns = Host::Clock;
  host_->services.wall_ns = Host::Clock;
}

OrdersCluster::~OrdersCluster() {
  for (auto& [id, r] : radiants_) Down(r.get());
  radiants_.clear();
}

void OrdersCluster::Fail(const std::string& what) {
  if (failure_.empty()) {
    failure_ = "at tick " + std::to_string(now_) + ": " + what;
  }
}

std::vector<uint64_t> OrdersCluster::radiants() const {
  std::vector<uint64_t> out;
  for (uint64_t id = 1; id <= uint64_t{opts_.orders} * opts_.per_order; ++id) {
    out.push_back(id);
  }
  return out;
}

std::vector<uint64_t> OrdersCluster::Members(uint64_t group) const {
  std::vector<uint64_t> out;
  for (uint64_t i = 1; i <= opts_.per_order; ++i) {
    out.push_back((group - 1) * opts_.per_order + i);
  }
  return out;
}

uint64_t OrdersCluster::GroupOf(uint64_t radiant) const {
  return (radiant - 1) / opts_.per_order + 1;
}

uint64_t OrdersCluster::OrderOfShard(uint16_t shard) const {
  // Contiguous ranges: order g owns [(g-1)*S/O, g*S/O).
  return uint64_t{shard} * opts_.orders / opts_.shards + 1;
}

uint16_t OrdersCluster::ShardOf(const std::string& key) const {
  return order::ShardOf(key, opts_.shards);
}

Status OrdersCluster::Start() {
  if (opts_.orders == 0 || opts_.per_order == 0 ||
      opts_.shards < opts_.orders || opts_.shards > 65536) {
    return Status::InvalidArgument(
        "orders and radiants per order must be positive and shards in "
        "[orders, 65536]");
  }
  PluginLoader loader;
  auto cons = loader.Load(opts_.consensus, SB_KIND_CONSENSUS);
  if (!cons.ok()) return cons.status();
  consensus_ = std::move(cons.value());
  auto mem = loader.Load("storage-mem", SB_KIND_STORAGE);
  if (!mem.ok()) return mem.status();
  storage_lib_ = std::move(mem.value());
  sb_config empty{sizeof(sb_config), nullptr, 0};
  for (uint64_t id : radiants()) {
    auto r = std::make_unique<Radiant>();
    r->id = id;
    r->group = GroupOf(id);
    auto st = Storage::Open(storage_lib_, host_->services, "", empty);
    if (!st.ok())
      return st.status().Annotate("storage of radiant " + std::to_string(id));
    r->storage = std::make_unique<Storage>(std::move(st.value()));
    radiants_[id] = std::move(r);
  }
  for (auto& [id, r] : radiants_) SB_RETURN_IF_ERROR(Boot(r.get()));
  return Status::OK();
}

Status OrdersCluster::Boot(Radiant* r) {
  const uint64_t self = r->id;
  const uint64_t group = r->group;
  // Transport: listens on its address, knows every other radiant.
  {
    PluginConfigAbi cfg{{"network", net_.inproc().name()}};
    TransportOptions o;
    o.local_node_id = self;
    o.cluster_id = "orders-sim";
    o.listen_address = AddressOf(self);
    o.host = &host_->services;
    o.config = cfg.get();
    auto t =
        Transport::Create(inproc::Network::Vtable(), nullptr, o,
                          [this, self](uint64_t from, std::string_view data) {
                            OnDeliver(self, from, data);
                          });
    if (!t.ok()) return t.status();
    SB_RETURN_IF_ERROR((*t)->Listen());
    for (uint64_t other : radiants()) {
      if (other != self)
        SB_RETURN_IF_ERROR((*t)->AddPeer(other, AddressOf(other)));
    }
    r->transport = std::move(*t);
  }
  Transport* transport = r->transport.get();
  r->driver = std::make_unique<ConsensusDriver>(
      self, r->storage.get(), consensus_, &host_->services,
      [this, self, transport](uint64_t to, uint64_t g, std::string_view m) {
        Status s = transport->Send(to, EncodeConsensusMessage(g, m));
        // A full link queue loses the message, as a real one would.
        if (!s.ok() && s.code() != Code::kBusy) {
          Fail("radiant " + std::to_string(self) + " could not send to " +
               std::to_string(to) + ": " + s.ToString());
        }
      });
  SB_RETURN_IF_ERROR(r->driver->Init());

  order::OrderOptions oo;
  oo.group_id = group;
  oo.shards = opts_.shards;
  for (uint32_t s = 0; s < opts_.shards; ++s) {
    if (OrderOfShard(static_cast<uint16_t>(s)) == group) {
      oo.owned.push_back(static_cast<uint16_t>(s));
    }
  }
  auto sm = order::OrderStateMachine::Open(r->storage.get(), oo);
  if (!sm.ok()) return sm.status().Annotate("order " + std::to_string(group));
  r->sm = std::move(sm).value();

  GroupOptions g;
  g.group_id = group;
  g.seed = rng_.Next();
  g.config = opts_.consensus_config;
  g.bootstrap_voters = Members(group);  // ignored when restored
  g.snapshot_every = opts_.snapshot_every;
  SB_RETURN_IF_ERROR(r->driver->AddGroup(g, r->sm.get()));

  order::HeraldOptions ho;
  ho.request_timeout_ms = opts_.request_timeout_ms;
  ho.now_ms = [this] { return now_ms(); };
  ho.wall_ms = [this] { return kWallEpochMs + now_ms(); };
  r->herald = std::make_unique<order::Herald>(r->driver.get(), group,
                                              r->sm.get(), std::move(ho));
  r->up = true;
  ++r->boots;
  RunUntilIdle(r);
  return Status::OK();
}

void OrdersCluster::Down(Radiant* r) {
  // As the runtime: the herald answers what it holds, then the state
  // machine and the driver go; the transport's address disappears.
  r->herald.reset();
  r->sm.reset();
  r->driver.reset();
  r->transport.reset();
  r->up = false;
}

void OrdersCluster::RunUntilIdle(Radiant* r) {
  if (!r->up) return;
  r->herald->Pump();
  for (int i = 0; i < kMaxCyclesPerRound; ++i) {
    auto n = r->driver->RunCycle();
    const Status st = n.status();
    if (!st.ok()) {
      Fail("radiant " + std::to_string(r->id) + " stopped: " + st.ToString());
      return;
    }
    r->herald->Pump();
    if (*n == 0) return;
  }
  Fail("radiant " + std::to_string(r->id) + ": driver cycles never settle");
}

void OrdersCluster::OnDeliver(uint64_t to, uint64_t from,
                              std::string_view data) {
  auto it = radiants_.find(to);
  if (it == radiants_.end() || !it->second->up) return;
  Radiant* r = it->second.get();
  // The daemon's peer message (host/transport/peer_message.h).
  auto m = DecodePeerMessage(data, 64u << 20);
  if (!m.ok() || m->kind != PeerMessage::Kind::kConsensus) {
    Fail("radiant " + std::to_string(to) + " got an undecodable message from " +
         std::to_string(from));
    return;
  }
  const uint64_t group = m->group;
  Status s = r->driver->Deliver(group, m->payload);
  if (!s.ok()) {
    Fail("radiant " + std::to_string(to) + " refused a message of group " +
         std::to_string(group) + " from " + std::to_string(from) + ": " +
         s.ToString());
    return;
  }
  RunUntilIdle(r);
}

void OrdersCluster::Tick() {
  ++now_;
  net_.inproc().AdvanceTime(kTickUs);
  for (auto& [id, r] : radiants_) {
    if (!r->up) continue;
    r->driver->Tick();
    RunUntilIdle(r.get());
  }
}

bool OrdersCluster::IsUp(uint64_t id) const {
  auto it = radiants_.find(id);
  return it != radiants_.end() && it->second->up;
}

void OrdersCluster::Crash(uint64_t id) {
  auto it = radiants_.find(id);
  if (it == radiants_.end() || !it->second->up) return;
  Down(it->second.get());
}

Status OrdersCluster::Restart(uint64_t id) {
  auto it = radiants_.find(id);
  if (it == radiants_.end()) {
    return Status::NotFound("no radiant " + std::to_string(id));
  }
  Down(it->second.get());
  Status s = Boot(it->second.get());
  if (!s.ok()) Down(it->second.get());
  return s;
}

order::Herald* OrdersCluster::herald(uint64_t id) {
  auto it = radiants_.find(id);
  return it == radiants_.end() || !it->second->up ? nullptr
                                                  : it->second->herald.get();
}

order::OrderStateMachine* OrdersCluster::state_machine(uint64_t id) {
  auto it = radiants_.find(id);
  return it == radiants_.end() || !it->second->up ? nullptr
                                                  : it->second->sm.get();
}

void OrdersCluster::Wake(uint64_t id) {
  auto it = radiants_.find(id);
  if (it != radiants_.end()) RunUntilIdle(it->second.get());
}

ConsensusStatus OrdersCluster::StatusOf(uint64_t id) const {
  auto it = radiants_.find(id);
  if (it == radiants_.end() || !it->second->up) return {};
  ConsensusInstance* inst = it->second->driver->group(it->second->group);
  return inst == nullptr ? ConsensusStatus{} : inst->GetStatus();
}

uint64_t OrdersCluster::Leader(uint64_t group) const {
  uint64_t best = 0, best_term = 0;
  for (uint64_t id : Members(group)) {
    ConsensusStatus st = StatusOf(id);
    if (st.role == Role::kLeader && st.term >= best_term) {
      best = id;
      best_term = st.term;
    }
  }
  return best;
}

}  // namespace sb::sim
