// plugin.cc — the bpf-qdisc plugin's entry symbol and classifier vtable: a
// thin C shell over BpfClassifier (bpf_classifier.h). No exception crosses
// the ABI: every entry point catches and reports SB_INTERNAL.
#include <exception>
#include <memory>
#include <new>

#include "bpf_classifier.h"
#include "options.h"
#include "shardbearer/abi/classifier.h"

struct sb_classifier {
  std::unique_ptr<sb::bpfq::BpfClassifier> impl;
};

namespace {

using sb::bpfq::BpfClassifier;

template <typename F>
sb_code Guard(sb_status* st, F&& f) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return sb_status_set(st, SB_INTERNAL, "classifier: out of memory");
  } catch (const std::exception& e) {
    return sb_status_set(st, SB_INTERNAL, "classifier: %s", e.what());
  } catch (...) {
    return sb_status_set(st, SB_INTERNAL, "classifier: unknown exception");
  }
}

sb_code NullInstance(sb_status* st) {
  return sb_status_set(st, SB_INVALID_ARGUMENT, "classifier: NULL instance");
}

sb_code CheckConfig(const sb_config* cfg, sb_status* st) {
  return Guard(st, [&]() -> sb_code {
    sb::bpfq::Options opts;
    return sb::bpfq::ParseOptions(cfg, &opts, st);
  });
}

sb_code Create(const sb_host_services* host, const sb_config* cfg,
               sb_classifier** out, sb_status* st) {
  if (out == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "classifier: NULL out");
  }
  *out = nullptr;
  return Guard(st, [&]() -> sb_code {
    sb::bpfq::Options opts;
    if (sb_code rc = sb::bpfq::ParseOptions(cfg, &opts, st); rc != SB_OK) {
      return rc;
    }
    auto inst = std::make_unique<sb_classifier>();
    sb_code rc = BpfClassifier::Create(opts, host, &inst->impl, st);
    if (rc != SB_OK) return rc;
    *out = inst.release();
    return SB_OK;
  });
}

void Destroy(sb_classifier* c) {
  try {
    delete c;
  } catch (...) {
  }
}

sb_code Attach(sb_classifier* c, const char* ifname, sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(st, [&] { return c->impl->Attach(ifname ? ifname : "", st); });
}

sb_code Detach(sb_classifier* c, sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(st, [&]() -> sb_code { return c->impl->Detach(st); });
}

sb_code SetPorts(sb_classifier* c, uint16_t client, uint16_t peer,
                 sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(
      st, [&]() -> sb_code { return c->impl->SetPorts(client, peer, st); });
}

sb_code SetJoinPort(sb_classifier* c, uint16_t port, sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(st, [&]() -> sb_code { return c->impl->SetJoinPort(port, st); });
}

sb_code SetJoinRate(sb_classifier* c, uint32_t rate, uint32_t burst,
                    sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(
      st, [&]() -> sb_code { return c->impl->SetJoinRate(rate, burst, st); });
}

sb_code CidrOp(sb_classifier* c, const char* cidr, int op, sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  if (cidr == nullptr) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "classifier: NULL CIDR");
  }
  return Guard(st, [&]() -> sb_code {
    if (op == 0) return c->impl->RemoveCidr(cidr, st);
    return c->impl->PutCidr(cidr, static_cast<uint8_t>(op), st);
  });
}

sb_code AllowCidr(sb_classifier* c, const char* cidr, sb_status* st) {
  return CidrOp(c, cidr, SB_CLS_ALLOW, st);
}
sb_code DenyCidr(sb_classifier* c, const char* cidr, sb_status* st) {
  return CidrOp(c, cidr, SB_CLS_DENY, st);
}
sb_code RemoveCidr(sb_classifier* c, const char* cidr, sb_status* st) {
  return CidrOp(c, cidr, 0, st);
}

sb_code SetEgressPriorities(sb_classifier* c, uint32_t peer, uint32_t client,
                            sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(st,
               [&] { return c->impl->SetEgressPriorities(peer, client, st); });
}

sb_code ReadCounters(sb_classifier* c, sb_classifier_counters* out,
                     sb_status* st) {
  if (c == nullptr) return NullInstance(st);
  return Guard(st, [&]() -> sb_code { return c->impl->ReadCounters(out, st); });
}

const sb_classifier_vtable kVtable = {
    sizeof(sb_classifier_vtable),
    CheckConfig,
    Create,
    Destroy,
    Attach,
    Detach,
    SetPorts,
    SetJoinPort,
    SetJoinRate,
    AllowCidr,
    DenyCidr,
    RemoveCidr,
    SetEgressPriorities,
    ReadCounters,
};

const sb_plugin_info kInfo = {
    sizeof(sb_plugin_info),
    SB_PLUGIN_MAGIC,
    SB_ABI_MAJOR,
    SB_ABI_MINOR,
    SB_KIND_CLASSIFIER,
    "bpf-qdisc",
    "1.0.0",
    "eBPF tc classifier: CIDR admission, join rate limit, egress priority",
    &kVtable,
};

}  // namespace

extern "C" SB_PLUGIN_EXPORT const sb_plugin_info* shardbearer_plugin_entry(
    void) {
  return &kInfo;
}
