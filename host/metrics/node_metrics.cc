// host/metrics/node_metrics.cc — see node_metrics.h.
#include "host/metrics/node_metrics.h"

#include <utility>

namespace sb::metrics {

void AddNodeMetrics(Registry* registry, NodeIdentity id) {
  registry->Add([id = std::move(id)](std::vector<MetricFamily>* out) {
    out->push_back({"shardbearer_build_info",
                    "The node's name and the shardbearerd version (value 1).",
                    MetricType::kGauge,
                    {{{{"node", id.node}, {"version", id.version}}, 1}}});
    const double up = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - id.started)
                          .count();
    out->push_back({"shardbearer_uptime_seconds",
                    "Seconds since this shardbearerd process started serving.",
                    MetricType::kGauge,
                    {{{}, up}}});
    out->push_back({"shardbearer_node_starts_total",
                    "Times this node has started on its data directory.",
                    MetricType::kCounter,
                    {{{}, static_cast<double>(id.starts)}}});
    MetricFamily plugins{"shardbearer_plugin_info",
                         "Loaded plugins (value 1).",
                         MetricType::kGauge,
                         {}};
    for (const PluginLabel& p : id.plugins) {
      plugins.samples.push_back(
          {{{"kind", p.kind}, {"name", p.name}, {"version", p.version}}, 1});
    }
    out->push_back(std::move(plugins));
  });
}

void AddClassifierMetrics(Registry* registry,
                          const ClassifierManager* classifier) {
  registry->Add([classifier](std::vector<MetricFamily>* out) {
    const ClassifierReport r = classifier->Report();
    out->push_back(
        {"shardbearer_classifier_attached",
         "1 when the packet classifier's programs are attached, 0 when the "
         "node runs without it.",
         MetricType::kGauge,
         {{{{"plugin", r.plugin}, {"interface", r.interface}},
           r.attached ? 1.0 : 0.0}}});
    if (!r.attached) return;
    const ClassifierCounters& c = r.counters;
    auto d = [](uint64_t v) { return static_cast<double>(v); };
    out->push_back({"shardbearer_classifier_packets_total",
                    "Ingress packets judged by the classifier, by result.",
                    MetricType::kCounter,
                    {{{{"result", "allowed"}}, d(c.allowed)},
                     {{{"result", "dropped"}}, d(c.dropped)},
                     {{{"result", "join_admitted"}}, d(c.join_admitted)},
                     {{{"result", "join_limited"}}, d(c.join_limited)},
                     {{{"result", "malformed"}}, d(c.malformed)},
                     {{{"result", "passed"}}, d(c.passed)}}});
    out->push_back({"shardbearer_classifier_egress_marked_total",
                    "Egress packets given the peer or client priority.",
                    MetricType::kCounter,
                    {{{{"class", "peer"}}, d(c.egress_peer_marked)},
                     {{{"class", "client"}}, d(c.egress_client_marked)}}});
  });
}

}  // namespace sb::metrics
