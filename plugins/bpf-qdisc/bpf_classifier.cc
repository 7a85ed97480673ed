#include "bpf_classifier.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <vector>

#include "cidr.h"
#include "classifier.skel.h"
#include "privilege.h"
#include "tc_netlink.h"

namespace sb::bpfq {
namespace {

constexpr uint64_t kNsPerSec = 1000000000ULL;
// Destroying the hook at both points removes the clsact qdisc.
constexpr auto kBothDirections =
    static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);

// libbpf's print hook is process-wide; messages are routed to the host log
// of the instance whose call is running on this thread (none: dropped).
thread_local const sb_host_services* tls_host = nullptr;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list ap) {
  const sb_host_services* h = tls_host;
  if (h == nullptr || h->log == nullptr) return 0;
  int32_t lvl = level == LIBBPF_WARN   ? SB_LOG_WARN
                : level == LIBBPF_INFO ? SB_LOG_DEBUG
                                       : SB_LOG_TRACE;
  if (h->log_enabled != nullptr && !h->log_enabled(h->host_ctx, lvl)) return 0;
  char buf[2048];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return 0;
  size_t len = std::min(static_cast<size_t>(n), sizeof buf - 1);
  while (len > 0 && buf[len - 1] == '\n') --len;
  h->log(h->host_ctx, lvl, buf, len);
  return n;
}

class LibbpfLogScope {
 public:
  explicit LibbpfLogScope(const sb_host_services* h) : prev_(tls_host) {
    static std::once_flag once;
    std::call_once(once, [] { libbpf_set_print(LibbpfPrint); });
    tls_host = h;
  }
  ~LibbpfLogScope() { tls_host = prev_; }

 private:
  const sb_host_services* prev_;
};

// Turns a negative errno from libbpf into a status. EPERM/EACCES become
// SB_PERMISSION_DENIED naming the missing privilege.
sb_code ErrnoStatus(int err, const std::string& what, sb_status* st) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    return sb_status_set(st, SB_PERMISSION_DENIED, "%s",
                         DescribeMissingPrivilege(what).c_str());
  }
  sb_code code = SB_IO_ERROR;
  if (err == ENOSPC || err == E2BIG) code = SB_TOO_LARGE;
  if (err == ENODEV || err == ENOENT) code = SB_NOT_FOUND;
  return sb_status_set(st, code, "%s failed: %s", what.c_str(), strerror(err));
}

// Enters the network namespace `fd` for the current thread if it is not
// already there, and returns to the original one on destruction.
class NetnsGuard {
 public:
  explicit NetnsGuard(int target_fd) {
    if (target_fd < 0) return;
    orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    struct stat a = {}, b = {};
    if (orig_ < 0 || fstat(orig_, &a) != 0 || fstat(target_fd, &b) != 0) {
      error_ = errno;
      return;
    }
    if (a.st_ino == b.st_ino && a.st_dev == b.st_dev) return;
    if (setns(target_fd, CLONE_NEWNET) != 0) {
      error_ = errno;
      return;
    }
    switched_ = true;
  }
  ~NetnsGuard() {
    if (switched_) setns(orig_, CLONE_NEWNET);
    if (orig_ >= 0) close(orig_);
  }
  int error() const { return error_; }

 private:
  int orig_ = -1;
  bool switched_ = false;
  int error_ = 0;
};

bpf_tc_hook MakeHook(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook;
  memset(&hook, 0, sizeof hook);
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

bpf_tc_opts MakeOpts(uint32_t handle, uint32_t priority) {
  bpf_tc_opts opts;
  memset(&opts, 0, sizeof opts);
  opts.sz = sizeof opts;
  opts.handle = handle;
  opts.priority = priority;
  return opts;
}

}  // namespace

BpfClassifier::BpfClassifier(const Options& opts, const sb_host_services* host)
    : opts_(opts), host_(host) {}

BpfClassifier::~BpfClassifier() {
  std::lock_guard<std::mutex> lock(mu_);
  LibbpfLogScope log(host_);
  sb_status st = {};
  if (attached_ && DetachLocked(&st) != SB_OK) {
    sb_logf(host_, SB_LOG_ERROR, "classifier: detach on destroy: %s",
            st.message);
  }
  if (netns_fd_ >= 0) close(netns_fd_);
  sb_classifier_bpf__destroy(skel_);
}

sb_code BpfClassifier::Create(const Options& opts, const sb_host_services* host,
                              std::unique_ptr<BpfClassifier>* out,
                              sb_status* st) {
  if (opts.join_rate > kMaxJoinRate || opts.join_burst > kMaxJoinRate ||
      opts.tc_handle == 0 || opts.tc_priority == 0 ||
      opts.tc_priority > 0xffff) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: option out of range");
  }
  std::unique_ptr<BpfClassifier> c(new BpfClassifier(opts, host));
  LibbpfLogScope log(host);
  c->skel_ = sb_classifier_bpf__open_and_load();
  if (c->skel_ == nullptr) {
    return ErrnoStatus(errno, "loading the classifier's BPF maps and programs",
                       st);
  }
  std::lock_guard<std::mutex> lock(c->mu_);
  c->cfg_.egress_enabled = 1;
  c->cfg_.peer_priority = opts.peer_priority;
  c->cfg_.client_priority = opts.client_priority;
  c->cfg_.join_rate = opts.join_rate;
  c->cfg_.join_burst = opts.join_burst;
  c->cfg_.join_fill_ns =
      opts.join_rate ? uint64_t{opts.join_burst} * kNsPerSec / opts.join_rate
                     : 0;
  c->cfg_.join_generation = 1;
  if (sb_code rc = c->WriteConfigLocked(c->cfg_, st); rc != SB_OK) return rc;
  for (const auto& cidr : opts.allowed_cidrs) {
    if (sb_code rc = c->PutCidrLocked(cidr, SB_CLS_ALLOW, st); rc != SB_OK) {
      return rc;
    }
  }
  for (const auto& cidr : opts.denied_cidrs) {
    if (sb_code rc = c->PutCidrLocked(cidr, SB_CLS_DENY, st); rc != SB_OK) {
      return rc;
    }
  }
  *out = std::move(c);
  return sb_status_ok(st);
}

sb_code BpfClassifier::WriteConfigLocked(const sb_cls_config& cfg,
                                         sb_status* st) {
  uint32_t zero = 0;
  int err = bpf_map__update_elem(skel_->maps.config, &zero, sizeof zero, &cfg,
                                 sizeof cfg, BPF_ANY);
  if (err != 0) return ErrnoStatus(err, "updating the classifier config", st);
  cfg_ = cfg;
  return sb_status_ok(st);
}

sb_code BpfClassifier::SetPorts(uint16_t client_port, uint16_t peer_port,
                                sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (client_port != 0 && client_port == peer_port) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: client port and peer port are both %u",
                         client_port);
  }
  uint16_t j = cfg_.join_port;
  if (j != 0 && (client_port == j || peer_port == j)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: port %u is already the join port", j);
  }
  sb_cls_config cfg = cfg_;
  cfg.client_port = client_port;
  cfg.peer_port = peer_port;
  return WriteConfigLocked(cfg, st);
}

sb_code BpfClassifier::SetJoinPort(uint16_t join_port, sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  if (join_port != 0 &&
      (join_port == cfg_.client_port || join_port == cfg_.peer_port)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: join port %u is already a protected "
                         "port (client or peer)",
                         join_port);
  }
  sb_cls_config cfg = cfg_;
  cfg.join_port = join_port;
  return WriteConfigLocked(cfg, st);
}

sb_code BpfClassifier::SetJoinRate(uint32_t tokens_per_sec, uint32_t burst,
                                   sb_status* st) {
  if (tokens_per_sec > kMaxJoinRate || burst > kMaxJoinRate) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: join rate %u/s burst %u: both must be "
                         "at most %u",
                         tokens_per_sec, burst, kMaxJoinRate);
  }
  std::lock_guard<std::mutex> lock(mu_);
  sb_cls_config cfg = cfg_;
  cfg.join_rate = tokens_per_sec;
  cfg.join_burst = burst;
  cfg.join_fill_ns =
      tokens_per_sec ? uint64_t{burst} * kNsPerSec / tokens_per_sec : 0;
  cfg.join_generation = cfg_.join_generation + 1;  // refills the bucket
  return WriteConfigLocked(cfg, st);
}

sb_code BpfClassifier::SetEgressPriorities(uint32_t peer, uint32_t client,
                                           sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  sb_cls_config cfg = cfg_;
  cfg.peer_priority = peer;
  cfg.client_priority = client;
  cfg.egress_enabled = 1;
  return WriteConfigLocked(cfg, st);
}

sb_code BpfClassifier::PutCidr(const std::string& cidr, uint8_t action,
                               sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  return PutCidrLocked(cidr, action, st);
}

sb_code BpfClassifier::PutCidrLocked(const std::string& cidr, uint8_t action,
                                     sb_status* st) {
  Cidr c;
  std::string err;
  if (!ParseCidr(cidr, &c, &err)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "classifier: %s",
                         err.c_str());
  }
  int rc;
  if (c.family == 4) {
    sb_cls_lpm_v4 key = {};
    key.prefixlen = c.prefixlen;
    memcpy(key.addr, c.addr, 4);
    rc = bpf_map__update_elem(skel_->maps.cidrs_v4, &key, sizeof key, &action,
                              sizeof action, BPF_ANY);
  } else {
    sb_cls_lpm_v6 key = {};
    key.prefixlen = c.prefixlen;
    memcpy(key.addr, c.addr, 16);
    rc = bpf_map__update_elem(skel_->maps.cidrs_v6, &key, sizeof key, &action,
                              sizeof action, BPF_ANY);
  }
  if (rc != 0) {
    if (rc == -ENOSPC || rc == -E2BIG) {
      return sb_status_set(st, SB_TOO_LARGE,
                           "classifier: cannot add %s: the IPv%d table is "
                           "full (%d entries)",
                           c.ToString().c_str(), c.family, SB_CLS_MAX_CIDRS);
    }
    return ErrnoStatus(rc, "adding " + c.ToString(), st);
  }
  return sb_status_ok(st);
}

sb_code BpfClassifier::RemoveCidr(const std::string& cidr, sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  Cidr c;
  std::string err;
  if (!ParseCidr(cidr, &c, &err)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT, "classifier: %s",
                         err.c_str());
  }
  int rc;
  if (c.family == 4) {
    sb_cls_lpm_v4 key = {};
    key.prefixlen = c.prefixlen;
    memcpy(key.addr, c.addr, 4);
    rc = bpf_map__delete_elem(skel_->maps.cidrs_v4, &key, sizeof key, 0);
  } else {
    sb_cls_lpm_v6 key = {};
    key.prefixlen = c.prefixlen;
    memcpy(key.addr, c.addr, 16);
    rc = bpf_map__delete_elem(skel_->maps.cidrs_v6, &key, sizeof key, 0);
  }
  if (rc == -ENOENT) {
    return sb_status_set(st, SB_NOT_FOUND, "classifier: no entry for %s",
                         c.ToString().c_str());
  }
  if (rc != 0) return ErrnoStatus(rc, "removing " + c.ToString(), st);
  return sb_status_ok(st);
}

sb_code BpfClassifier::ReadCounters(sb_classifier_counters* out,
                                    sb_status* st) {
  if (out == nullptr || out->struct_size < sizeof(uint32_t)) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: counters struct_size not set");
  }
  std::lock_guard<std::mutex> lock(mu_);
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ErrnoStatus(ncpu, "counting possible CPUs", st);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  uint64_t total[SB_CNT_MAX] = {};
  for (uint32_t i = 0; i < SB_CNT_MAX; ++i) {
    int rc =
        bpf_map__lookup_elem(skel_->maps.counters, &i, sizeof i, per_cpu.data(),
                             per_cpu.size() * sizeof(uint64_t), 0);
    if (rc != 0) return ErrnoStatus(rc, "reading the counters", st);
    for (uint64_t v : per_cpu) total[i] += v;
  }
  // Fill only the members that fit in the caller's struct (older callers
  // pass a smaller one).
  sb_classifier_counters full = {};
  full.struct_size = out->struct_size;
  full.allowed = total[SB_CNT_ALLOWED];
  full.dropped = total[SB_CNT_DROPPED];
  full.join_admitted = total[SB_CNT_JOIN_ADMITTED];
  full.join_limited = total[SB_CNT_JOIN_LIMITED];
  full.malformed = total[SB_CNT_MALFORMED];
  full.passed = total[SB_CNT_PASSED];
  full.egress_peer_marked = total[SB_CNT_EGRESS_PEER];
  full.egress_client_marked = total[SB_CNT_EGRESS_CLIENT];
  size_t n = std::min<size_t>(out->struct_size, sizeof full);
  memcpy(out, &full, n);
  return sb_status_ok(st);
}

int BpfClassifier::ingress_fd() const {
  return bpf_program__fd(skel_->progs.sb_ingress);
}
int BpfClassifier::egress_fd() const {
  return bpf_program__fd(skel_->progs.sb_egress);
}

bool BpfClassifier::attached() const {
  std::lock_guard<std::mutex> lock(mu_);
  return attached_;
}

sb_code BpfClassifier::Attach(const std::string& ifname_arg, sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  LibbpfLogScope log(host_);
  if (attached_) {
    return sb_status_set(st, SB_ALREADY_EXISTS,
                         "classifier: already attached to %s", ifname_.c_str());
  }
  const std::string ifname = ifname_arg.empty() ? opts_.interface : ifname_arg;
  if (ifname.empty()) {
    return sb_status_set(st, SB_INVALID_ARGUMENT,
                         "classifier: no interface to attach to (set "
                         "'interface' in [classifier])");
  }
  sb_code rc = AttachInNetns(ifname, st);
  if (rc != SB_OK) return rc;
  netns_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  sb_logf(host_, SB_LOG_INFO,
          "classifier: attached to %s (tc handle 0x%x priority %u)",
          ifname.c_str(), opts_.tc_handle, opts_.tc_priority);
  return sb_status_ok(st);
}

// Step by step: create the clsact qdisc (or find it), then for each
// direction look for a filter at our handle/priority (a stale one from a
// process that died without detaching), attach with BPF_TC_F_REPLACE so
// that it is replaced instead of duplicated, and remember the program id
// so Detach removes only a filter that is still ours.
sb_code BpfClassifier::AttachInNetns(const std::string& ifname, sb_status* st) {
  int ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  if (ifindex == 0) {
    return sb_status_set(st, SB_NOT_FOUND,
                         "classifier: no network interface named '%s'",
                         ifname.c_str());
  }
  bpf_tc_hook hook = MakeHook(ifindex, BPF_TC_INGRESS);
  int err;
  {
    LibbpfLogScope quiet(nullptr);  // an existing clsact (EEXIST) is fine
    err = bpf_tc_hook_create(&hook);
  }
  bool created = err == 0;
  if (err != 0 && err != -EEXIST) {
    return ErrnoStatus(err, "creating the clsact qdisc on " + ifname, st);
  }
  struct Dir {
    bpf_tc_attach_point point;
    int fd;
    const char* name;
    uint32_t* id;
  } dirs[2] = {
      {BPF_TC_INGRESS, bpf_program__fd(skel_->progs.sb_ingress), "ingress",
       &ingress_prog_id_},
      {BPF_TC_EGRESS, bpf_program__fd(skel_->progs.sb_egress), "egress",
       &egress_prog_id_},
  };
  int done = 0;
  for (; done < 2; ++done) {
    Dir& d = dirs[done];
    bpf_tc_hook h = MakeHook(ifindex, d.point);
    bpf_tc_opts q = MakeOpts(opts_.tc_handle, opts_.tc_priority);
    int found;
    {
      LibbpfLogScope quiet(nullptr);  // "no such filter" is the normal case
      found = bpf_tc_query(&h, &q);
    }
    if (found == 0) {
      sb_logf(host_, SB_LOG_WARN,
              "classifier: replacing a stale %s filter on %s (BPF program "
              "id %u at tc handle 0x%x priority %u)",
              d.name, ifname.c_str(), q.prog_id, opts_.tc_handle,
              opts_.tc_priority);
    }
    bpf_tc_opts o = MakeOpts(opts_.tc_handle, opts_.tc_priority);
    o.prog_fd = d.fd;
    o.flags = BPF_TC_F_REPLACE;
    err = bpf_tc_attach(&h, &o);
    if (err != 0) break;
    *d.id = o.prog_id;
  }
  if (done == 2) {
    attached_ = true;
    created_hook_ = created;
    ifindex_ = ifindex;
    ifname_ = ifname;
    return SB_OK;
  }
  // Roll back what this call added.
  sb_code rc = ErrnoStatus(
      err,
      std::string("attaching the ") + dirs[done].name + " program to " + ifname,
      st);
  for (int i = 0; i < done; ++i) {
    bpf_tc_hook h = MakeHook(ifindex, dirs[i].point);
    bpf_tc_opts o = MakeOpts(opts_.tc_handle, opts_.tc_priority);
    bpf_tc_detach(&h, &o);
  }
  if (created) {
    bpf_tc_hook h = MakeHook(ifindex, kBothDirections);
    bpf_tc_hook_destroy(&h);
  }
  return rc;
}

sb_code BpfClassifier::Detach(sb_status* st) {
  std::lock_guard<std::mutex> lock(mu_);
  LibbpfLogScope log(host_);
  if (!attached_) return sb_status_ok(st);
  return DetachLocked(st);
}

sb_code BpfClassifier::DetachLocked(sb_status* st) {
  NetnsGuard ns(netns_fd_);
  if (ns.error() != 0) {
    return ErrnoStatus(ns.error(),
                       "entering the network namespace of " + ifname_, st);
  }
  sb_code result = SB_OK;
  sb_status_ok(st);
  struct Dir {
    bpf_tc_attach_point point;
    uint32_t id;
    const char* name;
  } dirs[2] = {{BPF_TC_INGRESS, ingress_prog_id_, "ingress"},
               {BPF_TC_EGRESS, egress_prog_id_, "egress"}};
  for (const Dir& d : dirs) {
    bpf_tc_hook h = MakeHook(ifindex_, d.point);
    bpf_tc_opts q = MakeOpts(opts_.tc_handle, opts_.tc_priority);
    int err;
    {
      LibbpfLogScope quiet(nullptr);  // a vanished filter is not an error
      err = bpf_tc_query(&h, &q);
    }
    if (err == -ENOENT || err == -ENODEV || err == -EINVAL) {
      continue;  // filter, qdisc or interface already gone
    }
    if (err != 0) {
      result = ErrnoStatus(
          err, "querying the " + std::string(d.name) + " filter on " + ifname_,
          st);
      continue;
    }
    if (q.prog_id != d.id) {
      sb_logf(host_, SB_LOG_WARN,
              "classifier: the %s filter on %s now runs BPF program %u, not "
              "ours (%u); leaving it in place",
              d.name, ifname_.c_str(), q.prog_id, d.id);
      continue;
    }
    bpf_tc_opts o = MakeOpts(opts_.tc_handle, opts_.tc_priority);
    err = bpf_tc_detach(&h, &o);
    if (err != 0 && err != -ENOENT && err != -ENODEV) {
      result = ErrnoStatus(
          err,
          "detaching the " + std::string(d.name) + " filter from " + ifname_,
          st);
    }
  }
  // Remove the clsact qdisc only if this instance created it and it is now
  // empty: destroying it would take any other filter with it.
  bool empty = false;
  if (created_hook_ && result == SB_OK) {
    int in = CountClsactFilters(ifindex_, true);
    int out = CountClsactFilters(ifindex_, false);
    empty = in == 0 && out == 0;
    if (!empty) {
      sb_logf(host_, SB_LOG_INFO,
              "classifier: leaving the clsact qdisc on %s in place: it holds "
              "other filters (%d ingress, %d egress)",
              ifname_.c_str(), in, out);
    }
  }
  if (empty) {
    bpf_tc_hook h = MakeHook(ifindex_, kBothDirections);
    int err = bpf_tc_hook_destroy(&h);
    if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
      result =
          ErrnoStatus(err, "removing the clsact qdisc from " + ifname_, st);
    }
  }
  if (result == SB_OK) {
    sb_logf(host_, SB_LOG_INFO, "classifier: detached from %s",
            ifname_.c_str());
    attached_ = false;
    created_hook_ = false;
    if (netns_fd_ >= 0) close(netns_fd_);
    netns_fd_ = -1;
  }
  return result;
}

}  // namespace sb::bpfq
