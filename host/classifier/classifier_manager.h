// host/classifier/classifier_manager.h — the node's use of the classifier:
// starts it from the [classifier] section, points it at the node's ports,
// keeps cluster members on its allowlist, and reports its counters.
//
// Start-up rules ([classifier] `required`, docs/config.md):
//  - The plugin cannot be loaded, or its create/attach fails for lack of
//    privilege (PermissionDenied: CAP_BPF, CAP_NET_ADMIN, memlock): the
//    exact reason is logged. With `required = false` (default) the node
//    runs without a classifier (enabled() is false, disabled_reason() says
//    why); with `required = true` Start returns the error and the daemon
//    refuses to start.
//  - Any other error (a bad key in the section, an unknown interface) fails
//    Start whatever `required` says: it is an operator mistake, reported
//    with the file position of the offending key.
// Start sets the ports before attaching, so the first packet the attached
// program sees is judged by the node's policy.
//
// Membership: OnMemberJoined(address) puts the member's host address (/32
// or /128) on the allowlist; OnMemberRemoved(address) takes it off again
// (a member that joined twice must leave twice), unless that host prefix is
// also listed in the section's allowed_cidrs. Both are no-ops returning OK
// while the classifier is disabled.
//
// Thread safety: all methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "host/classifier/classifier.h"
#include "host/common/status.h"
#include "host/config/plugin_section.h"
#include "host/plugin/loader.h"

namespace sb {

// The node's ports the classifier protects (0 = not used).
struct ClassifierPorts {
  uint16_t client = 0;
  uint16_t peer = 0;
  uint16_t join = 0;
};

// What status and metrics show of the classifier.
struct ClassifierReport {
  std::string plugin;     // [classifier] plugin
  std::string interface;  // [classifier] interface ("" if not set)
  bool attached = false;
  // Why it is not attached, or (attached) why the counters are missing.
  std::string disabled_reason;
  ClassifierPorts ports;
  ClassifierCounters counters;  // zero when not attached
};

class ClassifierManager {
 public:
  // Loads `section.plugin` through `loader`, then as below. `host`
  // (borrowed; e.g. PluginHostServices::table()) must outlive the manager.
  static StatusOr<std::unique_ptr<ClassifierManager>> Start(
      const PluginLoader& loader, const PluginSection& section,
      const sb_host_services* host, const ClassifierPorts& ports);

  // Creates, configures and attaches a classifier from an already loaded
  // plugin `lib`.
  static StatusOr<std::unique_ptr<ClassifierManager>> Start(
      std::shared_ptr<PluginLibrary> lib, const PluginSection& section,
      const sb_host_services* host, const ClassifierPorts& ports);

  // Same from a bare vtable kept loaded by `keepalive` (tests).
  static StatusOr<std::unique_ptr<ClassifierManager>> StartWithVtable(
      std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
      const PluginSection& section, const sb_host_services* host,
      const ClassifierPorts& ports);

  // Detaches and destroys the classifier.
  ~ClassifierManager();

  bool enabled() const;
  // Why the node runs without a classifier ("" when enabled).
  std::string disabled_reason() const;

  // Membership events. `address` is "ip", "ip:port", "[ipv6]" or
  // "[ipv6]:port"; a name that is not an IP address is InvalidArgument.
  Status OnMemberJoined(const std::string& address);
  Status OnMemberRemoved(const std::string& address);

  // Counters for status and metrics; Unavailable when disabled.
  StatusOr<ClassifierCounters> Counters() const;

  // State, ports and counters in one read (counters zero when disabled; a
  // failed counter read is reported as disabled_reason).
  ClassifierReport Report() const;

  // Canonical host prefix of a member address ("10.0.0.7/32",
  // "fd00::7/128"; an IPv4-mapped "::ffff:10.0.0.7" gives "10.0.0.7/32").
  // Exposed for tests.
  static StatusOr<std::string> HostPrefix(const std::string& address);

 private:
  ClassifierManager() = default;
  // Applies the start-up rules to a failure `s` of loading/creating/
  // attaching: a disabled manager, or the error to return.
  static StatusOr<std::unique_ptr<ClassifierManager>> StartFailed(
      const PluginSection& section, const Status& s, bool privilege_or_load);
  // Records the section's plugin and interface and the ports in a started
  // manager.
  static StatusOr<std::unique_ptr<ClassifierManager>> Describe(
      StatusOr<std::unique_ptr<ClassifierManager>> started,
      const PluginSection& section, const ClassifierPorts& ports);
  static StatusOr<std::unique_ptr<ClassifierManager>> StartCreated(
      StatusOr<std::unique_ptr<Classifier>> created,
      const PluginSection& section, const ClassifierPorts& ports);

  mutable std::mutex mu_;
  std::unique_ptr<Classifier> classifier_;  // null when disabled
  std::string disabled_reason_;
  std::string plugin_, interface_;         // immutable after Start
  ClassifierPorts ports_;                  // immutable after Start
  std::set<std::string> static_prefixes_;  // host prefixes in allowed_cidrs
  std::map<std::string, int> members_;     // host prefix -> join count
};

}  // namespace sb
