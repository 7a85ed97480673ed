/*
 * shardbearer/abi/classifier.h — the classifier plugin kind
 * (SB_KIND_CLASSIFIER).
 *
 * A classifier filters and marks a node's traffic in the kernel, below the
 * sockets. On ingress it admits packets to the node's protected ports (the
 * client port and the peer port) only from approved source CIDRs, and lets
 * unknown sources reach the join port at a limited rate (a token bucket).
 * On egress it raises the priority of peer (replication, migration) traffic
 * above client traffic. Everything else passes untouched.
 *
 * Source matching. The plugin keeps one longest-prefix-match table per
 * address family. Each entry is a CIDR with an action: ALLOW (allow_cidr)
 * or DENY (deny_cidr). The longest matching prefix decides, so a DENY
 * entry carves a hole in a wider ALLOW entry and an ALLOW /32 punches
 * through a wider DENY. A source with no matching entry is "unknown".
 *   - protected port (client or peer): ALLOW passes; DENY or unknown drops.
 *   - join port: ALLOW passes; DENY drops; unknown is admitted while the
 *     join token bucket has a token (one token per new connection attempt,
 *     i.e. per TCP SYN or per UDP datagram), dropped otherwise.
 *   - any other port, non-TCP/UDP, non-IP: passes.
 * CIDRs are text: "10.0.0.0/8", "fd00::/8", or a bare address meaning /32
 * or /128. Host bits set beyond the prefix are an SB_INVALID_ARGUMENT.
 *
 * Lifecycle: create (validates config, loads the programs and maps: needs
 * the privilege to use bpf()) -> set_ports / allow_cidr / ... in any order
 * -> attach (to one network interface: needs CAP_NET_ADMIN) -> runtime
 * updates take effect on the next packet -> detach -> destroy (detaches
 * first if still attached). Missing privilege is SB_PERMISSION_DENIED with
 * a message naming what is missing (CAP_BPF, CAP_NET_ADMIN, memlock).
 *
 * Thread safety: every function of one instance may be called concurrently
 * from any thread (the plugin serialises them). Distinct instances are
 * independent, but two instances attached to the same interface with the
 * same tc handle and priority replace each other.
 */
#ifndef SHARDBEARER_ABI_CLASSIFIER_H_
#define SHARDBEARER_ABI_CLASSIFIER_H_

#include "shardbearer/abi/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_classifier sb_classifier; /* opaque, plugin */

/* Packet counters since create, summed over CPUs. The caller sets
 * struct_size to the size it compiled against; the plugin fills the
 * members that fit and leaves the rest untouched. */
typedef struct sb_classifier_counters {
  uint32_t struct_size;
  uint32_t reserved0;
  /* Ingress to a protected or join port from an ALLOW source: passed. */
  uint64_t allowed;
  /* Ingress to a protected port from an unknown or DENY source, or to the
   * join port from a DENY source: dropped. */
  uint64_t dropped;
  /* Ingress to the join port from an unknown source, token taken: passed. */
  uint64_t join_admitted;
  /* Ingress to the join port from an unknown source, no token: dropped. */
  uint64_t join_limited;
  /* IP packets whose headers cannot be parsed (truncated, bad IHL, too many
   * IPv6 extension headers) and whose source is not ALLOW: dropped. */
  uint64_t malformed;
  /* Ingress not concerned by the classifier (other ports, non-IP): passed. */
  uint64_t passed;
  /* Egress to or from the peer port, given the peer priority. */
  uint64_t egress_peer_marked;
  /* Egress from the client port, given the client priority. */
  uint64_t egress_client_marked;
} sb_classifier_counters;

typedef struct sb_classifier_vtable {
  uint32_t struct_size;

  /* Validate a configuration section (borrowed) without touching the
   * kernel. Used by `shardbearerd --check-config`. */
  sb_code (*check_config)(const sb_config* cfg, sb_status* st);

  /* Validate `cfg` (borrowed), load the BPF programs and maps, and apply
   * the CIDRs, rates and priorities the configuration names. Nothing is
   * attached yet. `host` (borrowed) and its context stay valid until
   * destroy. On success *out is owned by the host, freed with destroy. */
  sb_code (*create)(const sb_host_services* host, const sb_config* cfg,
                    sb_classifier** out, sb_status* st);

  /* Detach (if attached) and free everything the instance created. Only
   * filters this instance attached are removed. NULL is a no-op. */
  void (*destroy)(sb_classifier* c);

  /* Attach the ingress and egress programs (tc clsact) to `ifname`
   * (borrowed, NUL-terminated). NULL or "" means the interface named in
   * the configuration. A stale filter with the same handle and priority
   * (left by a process that died) is replaced, never duplicated.
   * SB_ALREADY_EXISTS if this instance is already attached. */
  sb_code (*attach)(sb_classifier* c, const char* ifname, sb_status* st);

  /* Remove what attach added. SB_OK if not attached. */
  sb_code (*detach)(sb_classifier* c, sb_status* st);

  /* Protected ports (host byte order; 0 = none). Ports must differ from
   * each other and from the join port. */
  sb_code (*set_ports)(sb_classifier* c, uint16_t client_port,
                       uint16_t peer_port, sb_status* st);

  /* The join port (0 = no join path). */
  sb_code (*set_join_port)(sb_classifier* c, uint16_t join_port, sb_status* st);

  /* Join token bucket: refills at `tokens_per_sec`, holds at most `burst`
   * tokens; starts full. Both at most 1000000. Resets the bucket. */
  sb_code (*set_join_rate)(sb_classifier* c, uint32_t tokens_per_sec,
                           uint32_t burst, sb_status* st);

  /* Add or overwrite an ALLOW / DENY entry. `cidr` borrowed, NUL-
   * terminated. SB_TOO_LARGE when the table is full. */
  sb_code (*allow_cidr)(sb_classifier* c, const char* cidr, sb_status* st);
  sb_code (*deny_cidr)(sb_classifier* c, const char* cidr, sb_status* st);

  /* Remove the entry for exactly `cidr` (whatever its action).
   * SB_NOT_FOUND if there is none. */
  sb_code (*remove_cidr)(sb_classifier* c, const char* cidr, sb_status* st);

  /* skb->priority given on egress to peer-port traffic and to traffic
   * from the client port. Values are tc priorities: 0..15 select a band
   * of the default qdisc (6 = TC_PRIO_INTERACTIVE), a value "major:minor"
   * ((major << 16) | minor) selects that class of an HTB / prio root. */
  sb_code (*set_egress_priorities)(sb_classifier* c, uint32_t peer_priority,
                                   uint32_t client_priority, sb_status* st);

  /* Read the counters into *out (caller-owned; out->struct_size set). */
  sb_code (*read_counters)(sb_classifier* c, sb_classifier_counters* out,
                           sb_status* st);
} sb_classifier_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHARDBEARER_ABI_CLASSIFIER_H_ */
