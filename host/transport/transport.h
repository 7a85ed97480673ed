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

#include "host/common/status.h"
#include "shardbearer/abi/transport.h"

namespace sb {

class PluginLibrary;

struct TransportOptions {
  uint64_t local_node_id = 0;
  std::string cluster_id;
  std::string listen_address;              // empty: dial only
  const sb_host_services* host = nullptr;  // must outlive the Transport
  // The plugin's section, borrowed for Create only (null: empty). Build it
  // with PluginConfigAbi (host/config/plugin_section.h).
  const sb_config* config = nullptr;
};

class Transport {
 public:
  using DeliverFn = std::function<void(uint64_t from, std::string_view msg)>;

  // Has the plugin validate a [transport] section without creating
  // anything: InvalidArgument naming the offending key for an unknown key
  // or a bad value.
  static Status CheckConfig(const std::shared_ptr<PluginLibrary>& library,
                            const sb_config& config);

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
