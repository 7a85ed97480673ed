// host/transport/transport.h — RAII wrapper over one transport plugin
// instance (shardbearer/abi/transport.h). The rest of the host uses this
// class and never the raw vtable.
//
// A Transport keeps the plugin's shared object loaded for as long as it
// lives, shuts the instance down and destroys it in its destructor, and turns
// ABI codes into sb::Status. The deliver function is called on transport
// threads (see the ABI's threading contract): it must return quickly and
// must not destroy the Transport.
//
// Thread safety: every method is thread-safe except the destructor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "host/common/status.h"
#include "shardbearer/abi/transport.h"

namespace sb {

class PluginLibrary;

// Owns the key/value strings behind an sb_config (for tests and callers that
// build a section by hand; the config module builds the daemon's).
class ConfigSection {
 public:
  ConfigSection() = default;
  ConfigSection(std::initializer_list<std::pair<std::string, std::string>> kv);
  ConfigSection(const ConfigSection& other);
  ConfigSection& operator=(const ConfigSection& other);
  void Set(std::string key, std::string value,
           uint32_t type = SB_CONFIG_STRING);
  // Valid until this object is changed or destroyed.
  const sb_config* get() const { return &config_; }

 private:
  void Rebuild();
  std::vector<std::pair<std::string, std::string>> kv_;
  std::vector<uint32_t> types_;
  std::vector<sb_config_entry> entries_;
  sb_config config_{sizeof(sb_config), nullptr, 0};
};

struct TransportOptions {
  uint64_t local_node_id = 0;
  std::string cluster_id;
  std::string listen_address;              // empty: dial only
  const sb_host_services* host = nullptr;  // must outlive the Transport
  const sb_config* config = nullptr;       // borrowed for Create only
};

class Transport {
 public:
  using DeliverFn = std::function<void(uint64_t from, std::string_view msg)>;

  // From a loaded plugin library (checked to be a transport).
  static StatusOr<std::unique_ptr<Transport>> Create(
      std::shared_ptr<PluginLibrary> library, const TransportOptions& options,
      DeliverFn deliver);
  // From a vtable directly (in-process transports for tests); `keepalive`
  // is held as long as the instance lives (may be null for static code).
  static StatusOr<std::unique_ptr<Transport>> Create(
      const sb_transport_vtable* vtable, std::shared_ptr<const void> keepalive,
      const TransportOptions& options, DeliverFn deliver);

  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  Status Listen();
  StatusOr<std::string> LocalAddress() const;
  Status AddPeer(uint64_t node_id, const std::string& address);
  Status UpdatePeer(uint64_t node_id, const std::string& address);
  Status RemovePeer(uint64_t node_id);
  // Never blocks on I/O. Busy() when the peer's queue is full.
  Status Send(uint64_t to_node, std::string_view msg);
  sb_transport_stats Stats() const;
  // Stops every thread; no delivery after return. Idempotent.
  void Shutdown();

 private:
  Transport() = default;
  static void Deliver(void* ctx, uint64_t from, const uint8_t* data,
                      size_t len);

  std::shared_ptr<const void> keepalive_;
  const sb_transport_vtable* vt_ = nullptr;
  sb_transport* t_ = nullptr;
  // Heap-allocated so its address stays fixed for the plugin's callback.
  std::unique_ptr<DeliverFn> deliver_;
};

}  // namespace sb
