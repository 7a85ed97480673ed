// host/classifier/classifier_manager.h — the node's use of the classifier:
// starts it from the [classifier] section, points it at the node's ports,
// keeps cluster members on its allowlist, and reports its counters.
//
// Start-up rules:
//  - The plugin's create/attach failing for lack of privilege
//    (PermissionDenied: CAP_BPF, CAP_NET_ADMIN, memlock) is logged with the
//    plugin's exact message. With `required = false` (default) the node
//    then runs without a classifier (enabled() is false, disabled_reason()
//    says why); with `required = true` Start returns the error and the
//    daemon refuses to start.
//  - Any other error (bad configuration, unknown interface) fails Start
//    whatever `required` says: it is an operator mistake, not a missing
//    privilege.
// Membership: OnMemberJoined(address) puts the member's host address (/32
// or /128) on the allowlist; OnMemberRemoved(address) takes it off again,
// unless the same host prefix is also listed statically in allowed_cidrs.
// Both are no-ops returning OK while the classifier is disabled.
//
// Thread safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "host/classifier/classifier.h"
#include "host/common/status.h"

namespace sb {

// The host's view of [classifier]: `plugin` and `required` belong to the
// host; every other key is passed to the plugin untouched.
struct ClassifierSettings {
  std::string plugin = "bpf-qdisc";
  bool required = false;
  std::vector<PluginConfigEntry> plugin_config;
};

// The node's ports the classifier protects (0 = not used).
struct ClassifierPorts {
  uint16_t client = 0;
  uint16_t peer = 0;
  uint16_t join = 0;
};

class ClassifierManager {
 public:
  // Creates, configures and attaches a classifier from the plugin whose
  // vtable is `vtable` (kept loaded by `keepalive`, e.g. the PluginLibrary
  // from PluginLoader::Load(settings.plugin, SB_KIND_CLASSIFIER)). `host`
  // (borrowed) must outlive the manager.
  static StatusOr<std::unique_ptr<ClassifierManager>> Start(
      std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
      const sb_host_services* host, const ClassifierSettings& settings,
      const ClassifierPorts& ports);

  // Detaches and destroys the classifier.
  ~ClassifierManager();

  bool enabled() const;
  // Why the node runs without a classifier ("" when enabled).
  std::string disabled_reason() const;

  // Membership events. `address` is "ip", "ip:port", "[ipv6]" or
  // "[ipv6]:port"; a name that is not an IP address is InvalidArgument.
  // A member that joins twice must leave twice.
  Status OnMemberJoined(const std::string& address);
  Status OnMemberRemoved(const std::string& address);

  // Counters for status and metrics; Unavailable when disabled.
  StatusOr<ClassifierCounters> Counters() const;

  // Canonical host prefix of a member address ("10.0.0.7/32",
  // "fd00::7/128"). Exposed for tests.
  static StatusOr<std::string> HostPrefix(const std::string& address);

 private:
  ClassifierManager() = default;

  mutable std::mutex mu_;
  std::unique_ptr<Classifier> classifier_;  // null when disabled
  std::string disabled_reason_;
  std::set<std::string> static_prefixes_;  // host prefixes in allowed_cidrs
  std::map<std::string, int> members_;     // host prefix -> join count
};

}  // namespace sb
