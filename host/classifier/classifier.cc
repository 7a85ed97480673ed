#include "host/classifier/classifier.h"

#include <cstddef>

namespace sb {
namespace {

// This host calls every member up to and including read_counters.
constexpr size_t kMinVtableSize =
    offsetof(sb_classifier_vtable, read_counters) +
    sizeof(sb_classifier_vtable::read_counters);

// `label` names the plugin in messages: "classifier plugin 'x' (path)".
Status VtableProblem(const sb_classifier_vtable* vt, const std::string& label) {
  if (vt == nullptr || vt->struct_size < kMinVtableSize) {
    return Status::InvalidArgument(
        label + ": vtable of " +
        std::to_string(vt == nullptr ? 0 : vt->struct_size) +
        " bytes, this host needs at least " + std::to_string(kMinVtableSize));
  }
  const void* const members[] = {
      reinterpret_cast<const void*>(vt->check_config),
      reinterpret_cast<const void*>(vt->create),
      reinterpret_cast<const void*>(vt->destroy),
      reinterpret_cast<const void*>(vt->attach),
      reinterpret_cast<const void*>(vt->detach),
      reinterpret_cast<const void*>(vt->set_ports),
      reinterpret_cast<const void*>(vt->set_join_port),
      reinterpret_cast<const void*>(vt->set_join_rate),
      reinterpret_cast<const void*>(vt->allow_cidr),
      reinterpret_cast<const void*>(vt->deny_cidr),
      reinterpret_cast<const void*>(vt->remove_cidr),
      reinterpret_cast<const void*>(vt->set_egress_priorities),
      reinterpret_cast<const void*>(vt->read_counters),
  };
  for (const void* m : members) {
    if (m == nullptr) {
      return Status::InvalidArgument(label + ": vtable has an empty member");
    }
  }
  return Status::OK();
}

template <typename F>
Status Call(F&& f) {
  sb_status st = {};
  sb_code rc = f(&st);
  return rc == SB_OK ? Status::OK() : Status::FromAbi(rc, st);
}

}  // namespace

Status Classifier::CheckPlugin(const PluginLibrary& lib) {
  if (lib.kind() != SB_KIND_CLASSIFIER) {
    return Status::InvalidArgument("plugin '" + lib.name() + "' is a " +
                                   KindName(lib.kind()) +
                                   " plugin, not a classifier plugin");
  }
  return VtableProblem(
      static_cast<const sb_classifier_vtable*>(lib.vtable()),
      "classifier plugin '" + lib.name() + "' (" + lib.path() + ")");
}

Status Classifier::CheckConfig(const std::shared_ptr<PluginLibrary>& lib,
                               const sb_config& config) {
  if (lib == nullptr) return Status::InvalidArgument("no classifier plugin");
  SB_RETURN_IF_ERROR(CheckPlugin(*lib));
  const auto* vt = static_cast<const sb_classifier_vtable*>(lib->vtable());
  return Call([&](sb_status* st) { return vt->check_config(&config, st); });
}

StatusOr<std::unique_ptr<Classifier>> Classifier::Create(
    std::shared_ptr<PluginLibrary> lib, const sb_host_services* host,
    const sb_config& config) {
  if (lib == nullptr) return Status::InvalidArgument("no classifier plugin");
  SB_RETURN_IF_ERROR(CheckPlugin(*lib));
  const auto* vt = static_cast<const sb_classifier_vtable*>(lib->vtable());
  std::string name = lib->name();
  return CreateFromVtable(std::move(lib), vt, name, host, config);
}

StatusOr<std::unique_ptr<Classifier>> Classifier::CreateFromVtable(
    std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
    const std::string& name, const sb_host_services* host,
    const sb_config& config) {
  SB_RETURN_IF_ERROR(VtableProblem(vtable, "classifier plugin '" + name + "'"));
  sb_classifier* instance = nullptr;
  Status s = Call([&](sb_status* st) {
    return vtable->create(host, &config, &instance, st);
  });
  if (!s.ok()) return s;
  if (instance == nullptr) {
    return Status::Internal("classifier plugin '" + name +
                            "' returned OK and no instance");
  }
  return std::unique_ptr<Classifier>(
      new Classifier(std::move(keepalive), vtable, name, instance));
}

Classifier::~Classifier() { vt_->destroy(c_); }

Status Classifier::Attach(const std::string& ifname) {
  return Call(
      [&](sb_status* st) { return vt_->attach(c_, ifname.c_str(), st); });
}
Status Classifier::Detach() {
  return Call([&](sb_status* st) { return vt_->detach(c_, st); });
}
Status Classifier::SetPorts(uint16_t client_port, uint16_t peer_port) {
  return Call([&](sb_status* st) {
    return vt_->set_ports(c_, client_port, peer_port, st);
  });
}
Status Classifier::SetJoinPort(uint16_t join_port) {
  return Call(
      [&](sb_status* st) { return vt_->set_join_port(c_, join_port, st); });
}
Status Classifier::SetJoinRate(uint32_t tokens_per_sec, uint32_t burst) {
  return Call([&](sb_status* st) {
    return vt_->set_join_rate(c_, tokens_per_sec, burst, st);
  });
}
Status Classifier::AllowCidr(const std::string& cidr) {
  return Call(
      [&](sb_status* st) { return vt_->allow_cidr(c_, cidr.c_str(), st); });
}
Status Classifier::DenyCidr(const std::string& cidr) {
  return Call(
      [&](sb_status* st) { return vt_->deny_cidr(c_, cidr.c_str(), st); });
}
Status Classifier::RemoveCidr(const std::string& cidr) {
  return Call(
      [&](sb_status* st) { return vt_->remove_cidr(c_, cidr.c_str(), st); });
}
Status Classifier::SetEgressPriorities(uint32_t peer_priority,
                                       uint32_t client_priority) {
  return Call([&](sb_status* st) {
    return vt_->set_egress_priorities(c_, peer_priority, client_priority, st);
  });
}

StatusOr<ClassifierCounters> Classifier::Counters() {
  sb_classifier_counters raw = {};
  raw.struct_size = sizeof raw;
  Status s =
      Call([&](sb_status* st) { return vt_->read_counters(c_, &raw, st); });
  if (!s.ok()) return s;
  ClassifierCounters c;
  c.allowed = raw.allowed;
  c.dropped = raw.dropped;
  c.join_admitted = raw.join_admitted;
  c.join_limited = raw.join_limited;
  c.malformed = raw.malformed;
  c.passed = raw.passed;
  c.egress_peer_marked = raw.egress_peer_marked;
  c.egress_client_marked = raw.egress_client_marked;
  return c;
}

}  // namespace sb
