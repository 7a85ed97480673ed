// host/classifier/classifier.h — RAII wrapper over one classifier plugin
// instance (abi/include/shardbearer/abi/classifier.h).
//
// A Classifier owns an sb_classifier created through a plugin's vtable and
// keeps the plugin's shared object loaded (through `keepalive`, usually the
// PluginLibrary) until the instance is destroyed. Destruction detaches what
// the instance attached. Errors come back as sb::Status.
//
// Thread safety: the plugin serialises calls on one instance, so every
// method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "shardbearer/abi/classifier.h"

namespace sb {

// One flattened key of a plugin's configuration section (the owned form of
// sb_config_entry).
struct PluginConfigEntry {
  std::string key;
  std::string value;
  uint32_t type = SB_CONFIG_STRING;  // SB_CONFIG_*
};

// Counters since the instance was created (see sb_classifier_counters).
struct ClassifierCounters {
  uint64_t allowed = 0;
  uint64_t dropped = 0;
  uint64_t join_admitted = 0;
  uint64_t join_limited = 0;
  uint64_t malformed = 0;
  uint64_t passed = 0;
  uint64_t egress_peer_marked = 0;
  uint64_t egress_client_marked = 0;
};

class Classifier {
 public:
  // Creates an instance. `vtable` (static in the plugin) must stay valid
  // while `keepalive` lives; `host` (borrowed) must outlive the returned
  // object. Fails with InvalidArgument if the vtable is too small for this
  // host, or with what the plugin's create reports.
  static StatusOr<std::unique_ptr<Classifier>> Create(
      std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
      const sb_host_services* host,
      const std::vector<PluginConfigEntry>& config);

  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // "" = the interface named in the plugin's configuration.
  Status Attach(const std::string& ifname);
  Status Detach();
  Status SetPorts(uint16_t client_port, uint16_t peer_port);
  Status SetJoinPort(uint16_t join_port);
  Status SetJoinRate(uint32_t tokens_per_sec, uint32_t burst);
  Status AllowCidr(const std::string& cidr);
  Status DenyCidr(const std::string& cidr);
  Status RemoveCidr(const std::string& cidr);
  Status SetEgressPriorities(uint32_t peer_priority, uint32_t client_priority);
  StatusOr<ClassifierCounters> Counters();

 private:
  Classifier(std::shared_ptr<const void> keepalive,
             const sb_classifier_vtable* vtable, sb_classifier* instance)
      : keepalive_(std::move(keepalive)), vt_(vtable), c_(instance) {}

  std::shared_ptr<const void> keepalive_;  // destroyed after c_
  const sb_classifier_vtable* vt_;
  sb_classifier* c_;
};

}  // namespace sb
