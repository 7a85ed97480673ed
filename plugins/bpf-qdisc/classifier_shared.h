/*
 * classifier_shared.h — map key and value layouts shared by the kernel
 * side (classifier.bpf.c) and the user-space loader (bpf_classifier.cc).
 *
 * Plain C on linux/types.h so both clang -target bpf and the host compiler
 * read it. Every layout here is part of the contract between the two
 * halves of this plugin only (both are built together), never of the
 * plugin ABI. Multi-byte values are host byte order unless named _be.
 */
#ifndef SB_BPF_QDISC_CLASSIFIER_SHARED_H_
#define SB_BPF_QDISC_CLASSIFIER_SHARED_H_

#include <linux/bpf.h> /* struct bpf_spin_lock */
#include <linux/types.h>

/* Capacity of each LPM table (entries per address family). */
#define SB_CLS_MAX_CIDRS 16384

/* Action stored as the value of an LPM entry. */
enum sb_cls_action {
  SB_CLS_ALLOW = 1,
  SB_CLS_DENY = 2,
};

/* LPM trie keys: prefix length in bits, then the address in network byte
 * order (the layout BPF_MAP_TYPE_LPM_TRIE requires). */
struct sb_cls_lpm_v4 {
  __u32 prefixlen;
  __u8 addr[4];
};

struct sb_cls_lpm_v6 {
  __u32 prefixlen;
  __u8 addr[16];
};

/* The single entry of the `config` array map. Written by user space as a
 * whole; the programs copy it to the stack once per packet. */
struct sb_cls_config {
  __u16 client_port; /* 0 = none */
  __u16 peer_port;   /* 0 = none */
  __u16 join_port;   /* 0 = no join path */
  __u16 egress_enabled;
  __u32 peer_priority;   /* skb->priority for peer traffic */
  __u32 client_priority; /* skb->priority for client traffic */
  __u64 join_rate;       /* tokens per second */
  __u64 join_burst;      /* bucket capacity, tokens */
  __u64 join_fill_ns;    /* ns to refill an empty bucket: burst*1e9/rate */
  __u64 join_generation; /* bumped on every rate change: resets bucket */
};

/* The single entry of the `join_bucket` array map. Tokens are counted in
 * token-nanoseconds (1 token = 1e9 units) so that refill is an integer
 * multiplication: units += elapsed_ns * rate. */
struct sb_cls_bucket {
  struct bpf_spin_lock lock;
  __u32 pad;
  __u64 units;
  __u64 last_ns;
  __u64 generation;
};

/* Index of each per-CPU counter in the `counters` map. */
enum sb_cls_counter {
  SB_CNT_ALLOWED = 0,
  SB_CNT_DROPPED = 1,
  SB_CNT_JOIN_ADMITTED = 2,
  SB_CNT_JOIN_LIMITED = 3,
  SB_CNT_MALFORMED = 4,
  SB_CNT_PASSED = 5,
  SB_CNT_EGRESS_PEER = 6,
  SB_CNT_EGRESS_CLIENT = 7,
  SB_CNT_MAX = 8,
};

#endif /* SB_BPF_QDISC_CLASSIFIER_SHARED_H_ */
