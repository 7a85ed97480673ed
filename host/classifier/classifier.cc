#include "host/classifier/classifier.h"

#include <cstddef>

namespace sb {
namespace {

// The last vtable member this host calls: a plugin whose vtable ends
// before it is too old for this host.
constexpr size_t kMinVtableSize =
    offsetof(sb_classifier_vtable, read_counters) +
    sizeof(sb_classifier_vtable::read_counters);

template <typename F>
Status Call(F&& f) {
  sb_status st = {};
  sb_code rc = f(&st);
  return rc == SB_OK ? Status::OK() : Status::FromAbi(rc, st);
}

}  // namespace

StatusOr<std::unique_ptr<Classifier>> Classifier::Create(
    std::shared_ptr<const void> keepalive, const sb_classifier_vtable* vtable,
    const sb_host_services* host,
    const std::vector<PluginConfigEntry>& config) {
  if (vtable == nullptr || vtable->struct_size < kMinVtableSize) {
    return Status::InvalidArgument(
        "classifier plugin vtable is missing or too small for this host");
  }
  std::vector<sb_config_entry> entries;
  entries.reserve(config.size());
  for (const auto& e : config) {
    entries.push_back(sb_config_entry{sizeof(sb_config_entry), e.type,
                                      e.key.c_str(), e.value.c_str()});
  }
  sb_config cfg = {};
  cfg.struct_size = sizeof cfg;
  cfg.entries = entries.data();
  cfg.count = entries.size();
  sb_classifier* instance = nullptr;
  Status s = Call(
      [&](sb_status* st) { return vtable->create(host, &cfg, &instance, st); });
  if (!s.ok()) return s;
  if (instance == nullptr) {
    return Status::Internal("classifier plugin returned OK and no instance");
  }
  return std::unique_ptr<Classifier>(
      new Classifier(std::move(keepalive), vtable, instance));
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
