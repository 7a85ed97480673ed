// tests/support/inproc_transport/inproc_transport.cc — see
// inproc_transport.h.
#include "tests/support/inproc_transport/inproc_transport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>

struct sb_transport {
  sb::inproc::Instance* impl;
};

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

// One node's transport on a Network.
class Instance {
 public:
  Network* net = nullptr;
  const sb_host_services* host = nullptr;
  uint64_t id = 0;
  std::string cluster;
  std::string listen_address;
  sb_transport_deliver_fn deliver = nullptr;
  void* deliver_ctx = nullptr;
  size_t queue_limit = 4096;

  std::mutex mu;  // guards the members below
  std::map<uint64_t, std::string> peers;
  std::string bound;
  bool listening = false;
  bool shut_down = false;

  std::atomic<uint64_t> sent{0}, bytes_sent{0}, received{0}, bytes_received{0},
      busy{0}, refused{0};

  bool KnowsPeer(uint64_t node) {
    std::lock_guard<std::mutex> lock(mu);
    return !shut_down && peers.count(node) != 0;
  }
};

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

void Network::Heal() {
  std::lock_guard<std::mutex> lock(mu_);
  group_of_.clear();
  blocked_.clear();
}

bool Network::Blocked(uint64_t from, uint64_t to) const {
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
    m.due_us =
        Now() + Delay(f) + (reorder < f.reorder ? f.reorder_delay_us : 0);
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

// ---- The vtable ------------------------------------------------------------

namespace {

sb_code ParseConfig(const sb_config* cfg, std::string* network, size_t* queue,
                    sb_status* st) {
  if (cfg != nullptr) {
    for (size_t i = 0; i < cfg->count; ++i) {
      const sb_config_entry& e = cfg->entries[i];
      std::string key = e.key ? e.key : "";
      std::string value = e.value ? e.value : "";
      if (key == "network") {
        *network = value;
      } else if (key == "send_queue_messages") {
        char* end = nullptr;
        long long v = std::strtoll(value.c_str(), &end, 10);
        if (value.empty() || *end != '\0' || v < 1) {
          return sb_status_set(st, SB_INVALID_ARGUMENT,
                               "inproc: send_queue_messages = '%s' is not a "
                               "positive integer",
                               value.c_str());
        }
        *queue = static_cast<size_t>(v);
      } else {
        return sb_status_set(st, SB_INVALID_ARGUMENT,
                             "inproc: unknown key '%s' (known: network, "
                             "send_queue_messages)",
                             key.c_str());
      }
    }
  }
  if (network->empty()) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "inproc: key 'network' is required");
  }
  return sb_status_ok(st);
}

sb_code CheckConfig(const sb_config* cfg, sb_status* st) {
  std::string network;
  size_t queue = 0;
  return ParseConfig(cfg, &network, &queue, st);
}

sb_code Create(const sb_transport_create_args* args, sb_transport** out,
               sb_status* st) {
  if (args == nullptr || !SB_HAS_FIELD(args, deliver_ctx) ||
      args->deliver == nullptr || args->local_node_id == 0) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "inproc: create needs a node id and a deliver "
                         "callback");
  }
  auto inst = std::make_unique<Instance>();
  std::string network;
  sb_code c = ParseConfig(args->config, &network, &inst->queue_limit, st);
  if (c != SB_OK) return c;
  inst->net = Network::Find(network);
  if (inst->net == nullptr) {
    return sb_status_set(st, SB_NOT_FOUND, "inproc: no network named '%s'",
                         network.c_str());
  }
  inst->host = args->host;
  inst->id = args->local_node_id;
  inst->cluster = args->cluster_id ? args->cluster_id : "";
  inst->listen_address = args->listen_address ? args->listen_address : "";
  inst->deliver = args->deliver;
  inst->deliver_ctx = args->deliver_ctx;
  *out = new sb_transport{inst.release()};
  return sb_status_ok(st);
}

sb_code Listen(sb_transport* t, sb_status* st) {
  Instance* i = t->impl;
  std::lock_guard<std::mutex> lock(i->mu);
  if (i->shut_down) return sb_status_set(st, SB_UNAVAILABLE, "shut down");
  if (i->listening) {
    return sb_status_set(st, SB_ALREADY_EXISTS, "inproc: already listening");
  }
  if (i->listen_address.empty()) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "inproc: no listen address");
  }
  sb_code c = i->net->Register(i->listen_address, i, st, &i->bound);
  if (c == SB_OK) i->listening = true;
  return c;
}

sb_code LocalAddress(sb_transport* t, sb_bytes_sink sink, void* ctx,
                     sb_status* st) {
  Instance* i = t->impl;
  std::string a;
  {
    std::lock_guard<std::mutex> lock(i->mu);
    if (!i->listening) {
      return sb_status_set(st, SB_UNAVAILABLE, "inproc: not listening");
    }
    a = i->bound;
  }
  sink(ctx, reinterpret_cast<const uint8_t*>(a.data()), a.size());
  return sb_status_ok(st);
}

sb_code AddPeer(sb_transport* t, uint64_t id, const char* address,
                sb_status* st) {
  Instance* i = t->impl;
  if (id == 0 || id == i->id || address == nullptr || *address == '\0') {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "inproc: bad peer id or address");
  }
  std::lock_guard<std::mutex> lock(i->mu);
  if (i->peers.count(id)) {
    return sb_status_set(st, SB_ALREADY_EXISTS, "inproc: peer %llu known",
                         static_cast<unsigned long long>(id));
  }
  i->peers[id] = address;
  return sb_status_ok(st);
}

sb_code UpdatePeer(sb_transport* t, uint64_t id, const char* address,
                   sb_status* st) {
  Instance* i = t->impl;
  if (address == nullptr || *address == '\0') {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "inproc: empty address");
  }
  std::lock_guard<std::mutex> lock(i->mu);
  auto it = i->peers.find(id);
  if (it == i->peers.end()) {
    return sb_status_set(st, SB_NOT_FOUND, "inproc: unknown peer %llu",
                         static_cast<unsigned long long>(id));
  }
  it->second = address;
  return sb_status_ok(st);
}

sb_code RemovePeer(sb_transport* t, uint64_t id, sb_status* st) {
  Instance* i = t->impl;
  std::lock_guard<std::mutex> lock(i->mu);
  if (i->peers.erase(id) == 0) {
    return sb_status_set(st, SB_NOT_FOUND, "inproc: unknown peer %llu",
                         static_cast<unsigned long long>(id));
  }
  return sb_status_ok(st);
}

sb_code Send(sb_transport* t, uint64_t to, sb_bytes msg, sb_status* st) {
  Instance* i = t->impl;
  std::string address;
  {
    std::lock_guard<std::mutex> lock(i->mu);
    if (i->shut_down) return sb_status_set(st, SB_UNAVAILABLE, "shut down");
    auto it = i->peers.find(to);
    if (it == i->peers.end()) {
      return sb_status_set(st, SB_NOT_FOUND, "inproc: unknown peer %llu",
                           static_cast<unsigned long long>(to));
    }
    address = it->second;
  }
  sb_code c = i->net->Submit(i->id, i->cluster, to, address, msg.data, msg.len,
                             i->queue_limit, st);
  if (c == SB_OK) {
    ++i->sent;
    i->bytes_sent += msg.len;
  } else if (c == SB_BUSY) {
    ++i->busy;
  }
  return c;
}

void Stats(sb_transport* t, sb_transport_stats* out) {
  Instance* i = t->impl;
  sb_transport_stats s{};
  s.struct_size = sizeof s;
  s.messages_sent = i->sent;
  s.bytes_sent = i->bytes_sent;
  s.messages_received = i->received;
  s.bytes_received = i->bytes_received;
  s.send_busy = i->busy;
  s.envelopes_sent = i->sent;
  s.inbound_refused = i->refused;
  uint32_t size = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  if (size > sizeof(uint32_t)) {
    std::memcpy(reinterpret_cast<char*>(out) + sizeof(uint32_t),
                reinterpret_cast<const char*>(&s) + sizeof(uint32_t),
                size - sizeof(uint32_t));
  }
}

void Shutdown(sb_transport* t) {
  Instance* i = t->impl;
  {
    std::lock_guard<std::mutex> lock(i->mu);
    if (i->shut_down) return;
    i->shut_down = true;
    i->listening = false;
  }
  i->net->Unregister(i);
}

void Destroy(sb_transport* t) {
  if (t == nullptr) return;
  Shutdown(t);
  delete t->impl;
  delete t;
}

const sb_transport_vtable kVtable = {
    sizeof(sb_transport_vtable),
    CheckConfig,
    Create,
    Listen,
    LocalAddress,
    AddPeer,
    UpdatePeer,
    RemovePeer,
    Send,
    Stats,
    Shutdown,
    Destroy,
};

const sb_plugin_info kInfo = {
    sizeof(sb_plugin_info),
    SB_PLUGIN_MAGIC,
    SB_ABI_MAJOR,
    SB_ABI_MINOR,
    SB_KIND_TRANSPORT,
    "transport-inproc",
    "1.0.0",
    "In-process simulated network for tests (faults, partitions, manual "
    "delivery)",
    &kVtable,
};

}  // namespace

const sb_transport_vtable* Network::Vtable() { return &kVtable; }
const sb_plugin_info* Network::Info() { return &kInfo; }

}  // namespace sb::inproc
