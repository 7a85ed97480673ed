// host/metrics/node_metrics.h — the metrics a node exports today: its
// identity, uptime, start count and plugins, and its classifier's counters.
// Each Add* function registers one collector that reads live values at
// scrape time.
//
// Metric names (all prefixed shardbearer_):
//   build_info{node,version} 1                           gauge
//   uptime_seconds                                       gauge
//   node_starts_total                                    counter
//   plugin_info{kind,name,version} 1                     gauge
//   classifier_attached{plugin,interface}   1 or 0       gauge
//   classifier_packets_total{result}                     counter
//       result = allowed, dropped, join_admitted, join_limited, malformed,
//                passed
//   classifier_egress_marked_total{class}                counter
//       class = peer, client
//
// Thread safety: the collectors only read immutable values, a steady
// clock, and ClassifierManager (thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "host/classifier/classifier_manager.h"
#include "host/metrics/registry.h"

namespace sb::metrics {

struct PluginLabel {
  std::string kind, name, version;
};

struct NodeIdentity {
  std::string node;  // [node] id
  std::string version;
  uint64_t starts = 0;
  std::chrono::steady_clock::time_point started;
  std::vector<PluginLabel> plugins;
};

void AddNodeMetrics(Registry* registry, NodeIdentity identity);

// `classifier` is borrowed and must outlive every scrape.
void AddClassifierMetrics(Registry* registry,
                          const ClassifierManager* classifier);

}  // namespace sb::metrics
