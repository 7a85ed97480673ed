// host/daemon/node.h — one running radiant, as far as it exists today.
//
// Start-up: lock the data directory (one daemon per directory), load and
// check every configured plugin, open storage under <data_dir>/storage, and
// record or verify the node's identity in the "node" keyspace (a data
// directory belongs to one node id forever), then start the classifier when
// [classifier] is configured (ClassifierManager's rules decide whether a
// missing privilege stops the start). With a layout (host/radiant/layout.h:
// a [layout] table, or single_node = true, which is a layout of one), start
// this node's order (host/radiant/order_runtime.h): when the order has other
// members, the transport plugin listens on listen_peer and carries the
// order's consensus messages (host/transport/peer_message.h) to and from
// them. Serve Kv from the order, forwarding what other orders own
// (host/radiant/kv_handler.h); without a layout Kv answers NotReady. Then
// serve the public API (Kv and Admin) on listen_client; Admin answers this
// node's status (with the classifier's live counters) and the layout's
// configuration. With [metrics] listen, serve the Prometheus endpoint
// (host/metrics/) last. The data directory records the layout's digest at
// first start and refuses a different one later. Report() describes what
// was loaded. Stopping runs in reverse: the metrics endpoint and the API
// server first (no handler call in progress), then the transport's
// deliveries, then the order runtime (driver thread joined), then the
// transport, then storage.
//
// Thread safety: a Node is driven by one thread (main).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "host/api/api_server.h"
#include "host/classifier/classifier_manager.h"
#include "host/common/status.h"
#include "host/config/config.h"
#include "host/daemon/plugins.h"
#include "host/log/host_services.h"
#include "host/metrics/http_server.h"
#include "host/metrics/registry.h"
#include "host/plugin/storage.h"
#include "host/radiant/forwarder.h"
#include "host/radiant/layout.h"
#include "host/radiant/order_runtime.h"
#include "host/transport/transport.h"

namespace sb {

class Node {
 public:
  static StatusOr<std::unique_ptr<Node>> Start(const NodeConfig& config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Multi-line, human-readable description of the node and its plugins.
  std::string Report() const;

  uint64_t starts() const { return starts_; }

 private:
  explicit Node(const NodeConfig& config) : config_(config) {}
  Status LockDataDir();
  Status OpenStorage(const LoadedPlugin& plugin);
  Status RecordIdentity();
  Status StartClassifier(const PluginLoader& loader);
  Status StartOrders();
  Status StartTransport(const LoadedPlugin& plugin,
                        const std::vector<uint64_t>& peers);
  const LoadedPlugin* Plugin(uint32_t kind) const;
  Status StartApiServer();
  Status StartMetrics();

  NodeConfig config_;
  int lock_fd_ = -1;
  std::vector<LoadedPlugin> plugins_;
  // Declared before storage_: the table must outlive the instance using it.
  std::unique_ptr<PluginHostServices> storage_services_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<PluginHostServices> classifier_services_;
  std::unique_ptr<ClassifierManager> classifier_;  // null: not configured
  radiant::Layout layout_;  // empty: this node serves no data
  // The peer transport (null for an order of one or no layout).
  std::unique_ptr<PluginHostServices> transport_services_;
  std::unique_ptr<Transport> transport_;
  // Where delivered consensus messages go; null before the runtime starts
  // and once it stops.
  std::atomic<radiant::OrderRuntime*> deliver_to_{nullptr};
  // This node's order (null without a layout). Uses storage_ and
  // transport_: declared after them so it is destroyed first.
  std::unique_ptr<PluginHostServices> consensus_services_;
  std::unique_ptr<radiant::OrderRuntime> orders_;
  std::unique_ptr<radiant::Forwarder> forwarder_;
  std::unique_ptr<api::ApiServer> api_;
  // Reads classifier_ at scrape time: declared after it, destroyed first.
  metrics::Registry metrics_registry_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  uint64_t starts_ = 0;
};

}  // namespace sb
