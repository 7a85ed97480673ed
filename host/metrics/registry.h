// host/metrics/registry.h — the node's metrics, rendered in the Prometheus
// text exposition format (version 0.0.4) for the /metrics endpoint.
//
// A module that has something to measure registers a Collector: a function
// that appends MetricFamily values (name, help, type, samples) when the
// endpoint is scraped. Values are read at scrape time from wherever the
// module keeps them (atomics, counters in BPF maps, ...): the registry keeps
// no state of its own besides the collectors, so adding a metric costs
// nothing between scrapes.
//
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (not starting with "__"); Render() leaves out (and
// reports in a comment line) a family or sample that breaks these rules
// rather than emitting text a scraper would reject. Label values and help
// text are escaped as the format requires.
//
// Thread safety: Add and Render may be called concurrently; collectors are
// called from the scraping thread, one scrape at a time (under the
// registry's lock: a collector must not call Add), and must be thread-safe
// with respect to the module they read.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sb::metrics {

enum class MetricType { kCounter, kGauge };

struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
};

struct MetricFamily {
  std::string name;  // e.g. "shardbearer_classifier_packets_total"
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Sample> samples;
};

using Collector = std::function<void(std::vector<MetricFamily>* out)>;

// True if `name` is a valid metric name / label name.
bool ValidMetricName(const std::string& name);
bool ValidLabelName(const std::string& name);

// The families in text format, in the order given. Invalid families or
// samples are left out with a "# invalid ..." comment line.
std::string RenderText(const std::vector<MetricFamily>& families);

class Registry {
 public:
  // Adds a collector; called on every scrape in the order added.
  void Add(Collector collector);
  // Calls every collector and renders what they produced.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::vector<Collector> collectors_;
};

}  // namespace sb::metrics
