// bpf_classifier.h — the user-space half of the bpf-qdisc plugin: loads the
// generated skeleton (classifier.bpf.c), keeps its maps in step with the
// node's policy, and attaches the programs to one interface with tc clsact.
//
// The plugin's vtable (plugin.cc) is a thin shell over this class; tests
// and the benchmark use it directly to reach the program fds.
//
// Thread safety: every public method may be called from any thread; a
// mutex serialises them. The kernel programs read the maps concurrently:
// each map update is atomic per entry, so a packet sees either the old or
// the new entry.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "classifier_shared.h"
#include "options.h"
#include "shardbearer/abi/classifier.h"

struct sb_classifier_bpf;  // generated skeleton

namespace sb::bpfq {

class BpfClassifier {
 public:
  // Loads the programs and maps and applies `opts` (CIDRs, rate,
  // priorities). `host` may be NULL (no logging); borrowed for the
  // instance's lifetime. SB_PERMISSION_DENIED names the missing privilege.
  static sb_code Create(const Options& opts, const sb_host_services* host,
                        std::unique_ptr<BpfClassifier>* out, sb_status* st);

  // Detaches if attached (errors are logged) and unloads.
  ~BpfClassifier();
  BpfClassifier(const BpfClassifier&) = delete;
  BpfClassifier& operator=(const BpfClassifier&) = delete;

  // Attaches ingress and egress to `ifname` ("" = options' interface) in
  // the calling thread's network namespace, replacing a stale filter with
  // the same handle/priority.
  sb_code Attach(const std::string& ifname, sb_status* st);
  // Removes the filters Attach added (only if they are still ours) and the
  // clsact qdisc if Attach created it. Works from any thread: it enters the
  // network namespace Attach ran in.
  sb_code Detach(sb_status* st);
  bool attached() const;

  sb_code SetPorts(uint16_t client_port, uint16_t peer_port, sb_status* st);
  sb_code SetJoinPort(uint16_t join_port, sb_status* st);
  sb_code SetJoinRate(uint32_t tokens_per_sec, uint32_t burst, sb_status* st);
  sb_code SetEgressPriorities(uint32_t peer, uint32_t client, sb_status* st);
  // action: SB_CLS_ALLOW or SB_CLS_DENY.
  sb_code PutCidr(const std::string& cidr, uint8_t action, sb_status* st);
  sb_code RemoveCidr(const std::string& cidr, sb_status* st);
  sb_code ReadCounters(sb_classifier_counters* out, sb_status* st);

  int ingress_fd() const;
  int egress_fd() const;

 private:
  explicit BpfClassifier(const Options& opts, const sb_host_services* host);
  sb_code WriteConfigLocked(const sb_cls_config& cfg, sb_status* st);
  sb_code PutCidrLocked(const std::string& cidr, uint8_t action, sb_status* st);
  sb_code DetachLocked(sb_status* st);
  sb_code AttachInNetns(const std::string& ifname, sb_status* st);

  mutable std::mutex mu_;
  Options opts_;
  const sb_host_services* host_;
  sb_classifier_bpf* skel_ = nullptr;
  sb_cls_config cfg_ = {};

  // Attachment state (valid while attached_).
  bool attached_ = false;
  bool created_hook_ = false;
  int ifindex_ = 0;
  std::string ifname_;
  int netns_fd_ = -1;  // network namespace Attach ran in
  uint32_t ingress_prog_id_ = 0;
  uint32_t egress_prog_id_ = 0;
};

}  // namespace sb::bpfq
