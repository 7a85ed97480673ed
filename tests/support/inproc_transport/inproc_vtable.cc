// tests/support/inproc_transport/inproc_vtable.cc — the sb_transport_vtable
// of the in-process transport: config parsing, the peer table and send, over
// Network (inproc_transport.cc).
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "tests/support/inproc_transport/inproc_transport.h"
#include "tests/support/inproc_transport/instance.h"

namespace sb::inproc {

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
