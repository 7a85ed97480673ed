// host/classifier/classifier.h — the host's C++ face of a classifier
// plugin (shardbearer/abi/classifier.h).
//
// sb::Classifier wraps one sb_classifier instance behind RAII and
// sb::Status; nothing else in the host touches the raw classifier ABI. It
// shares ownership of the loaded plugin library, so the .so stays mapped
// until the instance is destroyed. Destruction detaches whatever the
// instance attached (the plugin's destroy contract).
//
// Thread safety: the plugin serialises calls on one instance, so every
// method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "host/common/status.h"
#include "host/plugin/loader.h"
#include "shardbearer/abi/classifier.h"

namespace sb {

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
  // Checks that `lib` is a classifier plugin whose vtable has every member
  // this host calls (fails naming the plugin otherwise).
  static Status CheckPlugin(const PluginLibrary& lib);

  // Validates a configuration section without touching the kernel.
  static Status CheckConfig(const std::shared_ptr<PluginLibrary>& lib,
                            const sb_config& config);

  // Creates an instance (loads the BPF programs; nothing attached yet).
  // `host` (borrowed) must outlive the returned object.
  static StatusOr<std::unique_ptr<Classifier>> Create(
      std::shared_ptr<PluginLibrary> lib, const sb_host_services* host,
      const sb_config& config);

  // Same from a bare vtable; `keepalive` keeps its code loaded (tests use
  // in-process vtables). `name` is used in messages.
  static StatusOr<std::unique_ptr<Classifier>> CreateFromVtable(
      std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
      const std::string& name, const sb_host_services* host,
      const sb_config& config);

  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  const std::string& plugin_name() const { return name_; }

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
             const sb_classifier_vtable* vtable, std::string name,
             sb_classifier* instance)
      : keepalive_(std::move(keepalive)),
        vt_(vtable),
        name_(std::move(name)),
        c_(instance) {}

  std::shared_ptr<const void> keepalive_;  // released after c_ is destroyed
  const sb_classifier_vtable* vt_;
  std::string name_;
  sb_classifier* c_;
};

}  // namespace sb
