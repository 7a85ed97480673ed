// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * classifier.bpf.c — the kernel side of the bpf-qdisc classifier: two tc
 * clsact programs (direct action) and their maps.
 *
 * sb_ingress: admission control for the node's ports (see
 *   abi/include/shardbearer/abi/classifier.h for the policy).
 * sb_egress: gives peer traffic a higher skb->priority than client traffic.
 *
 * Parsing rules (docs/classifier.md, "Parsing"):
 *  - All header reads go through bpf_skb_load_bytes, so non-linear skbs
 *    are read correctly and every read is bounds-checked by the kernel.
 *  - Up to two VLAN tags are skipped. Anything that is not IPv4/IPv6 passes.
 *  - An IP header that cannot be read or is invalid (IPv4: version, IHL < 5,
 *    total length shorter than the header) is "malformed": dropped.
 *  - IPv4 options are skipped using IHL. IPv4 non-first fragments and IPv6
 *    fragments with a non-zero offset carry no ports: they pass (the
 *    first fragment, which has the ports, is judged; without it the kernel
 *    cannot reassemble the datagram).
 *  - IPv6 extension headers (hop-by-hop, routing, destination options,
 *    fragment, AH) are walked up to SB_V6_MAX_EXT of them. A longer chain
 *    or a header cut short leaves the ports unknown.
 *  - TCP/UDP with unknown ports (truncated L4 header, chain too long):
 *    passes only from an ALLOW source, else dropped and counted as
 *    malformed (fail closed: it might be aimed at a protected port).
 */
/* linux/bpf.h must come before the libbpf helpers. */
// clang-format off
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
// clang-format on

#include "classifier_shared.h"

#define SB_V6_MAX_EXT 6
#define SB_NS_PER_SEC 1000000000ULL
#define SB_TCP_SYN 0x02
#define SB_TCP_ACK 0x10

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, SB_CLS_MAX_CIDRS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct sb_cls_lpm_v4);
  __type(value, __u8);
} cidrs_v4 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, SB_CLS_MAX_CIDRS);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct sb_cls_lpm_v6);
  __type(value, __u8);
} cidrs_v6 SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sb_cls_config);
} config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sb_cls_bucket);
} join_bucket SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, SB_CNT_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps");

/* What the parser learnt about a packet. */
enum l4_state {
  L4_NONE = 0,    /* no ports to judge: not TCP/UDP, or a later fragment */
  L4_PORTS = 1,   /* sport/dport (and TCP flags) are valid */
  L4_UNKNOWN = 2, /* TCP/UDP (or possibly so) but the ports are unreadable */
};

enum parse_result {
  PARSE_NOT_IP = 0,
  PARSE_MALFORMED = 1,
  PARSE_IP = 2,
};

struct pkt {
  __u8 family; /* 4 or 6 */
  __u8 l4;     /* enum l4_state */
  __u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP when l4 == L4_PORTS */
  __u8 tcp_flags;
  __u16 sport; /* host order */
  __u16 dport; /* host order */
  __u8 saddr[16];
};

static __always_inline void count(__u32 idx) {
  __u64 *v = bpf_map_lookup_elem(&counters, &idx);
  /* Per-CPU slot, but programs can be preempted on the same CPU (test
   * runs, PREEMPT_RT softirqs): add atomically so no count is lost. */
  if (v) __sync_fetch_and_add(v, 1);
}

/* Reads the ports (and TCP flags) of a TCP/UDP header at `off`. */
static __always_inline void parse_l4(struct __sk_buff* skb, __u32 off,
                                     __u8 proto, struct pkt* p) {
  __be16 ports[2];
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) {
    p->l4 = L4_NONE;
    return;
  }
  p->proto = proto;
  if (bpf_skb_load_bytes(skb, off, ports, sizeof(ports)) < 0) {
    p->l4 = L4_UNKNOWN;
    return;
  }
  if (proto == IPPROTO_TCP) {
    /* Flags are byte 13 of the TCP header; a header shorter than the
     * minimum 20 bytes is treated as unreadable. */
    __u8 flags;
    if (bpf_skb_load_bytes(skb, off + 13, &flags, 1) < 0 ||
        off + 20 > skb->len) {
      p->l4 = L4_UNKNOWN;
      return;
    }
    p->tcp_flags = flags;
  } else if (off + 8 > skb->len) {
    p->l4 = L4_UNKNOWN; /* UDP header is 8 bytes */
    return;
  }
  p->sport = bpf_ntohs(ports[0]);
  p->dport = bpf_ntohs(ports[1]);
  p->l4 = L4_PORTS;
}

static __always_inline int parse_v4(struct __sk_buff* skb, __u32 off,
                                    struct pkt* p) {
  /* Fixed 20-byte header: ver/ihl, tos, tot_len, id, frag_off, ttl,
   * protocol, check, saddr, daddr. */
  __u8 h[20];
  if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0) return PARSE_MALFORMED;
  __u8 version = h[0] >> 4;
  __u32 ihl = (h[0] & 0x0f) * 4;
  __u32 tot_len = ((__u32)h[2] << 8) | h[3];
  if (version != 4 || ihl < 20 || tot_len < ihl) return PARSE_MALFORMED;
  p->family = 4;
  __builtin_memcpy(p->saddr, &h[12], 4);
  __u16 frag = ((__u16)(h[6] & 0x1f) << 8) | h[7];
  if (frag != 0) {
    p->l4 = L4_NONE; /* non-first fragment: no L4 header here */
    return PARSE_IP;
  }
  parse_l4(skb, off + ihl, h[9], p);
  return PARSE_IP;
}

static __always_inline int parse_v6(struct __sk_buff* skb, __u32 off,
                                    struct pkt* p) {
  /* Fixed 40-byte header: ver/tc/flow (4), payload_len (2), nexthdr (1),
   * hop_limit (1), saddr (16), daddr (16). */
  __u8 h[24];
  if (bpf_skb_load_bytes(skb, off, h, sizeof(h)) < 0 || off + 40 > skb->len)
    return PARSE_MALFORMED;
  if ((h[0] >> 4) != 6) return PARSE_MALFORMED;
  p->family = 6;
  __builtin_memcpy(p->saddr, &h[8], 16);
  __u8 next = h[6];
  off += 40;
  /* Bounded walk over the extension headers we know how to skip. */
#pragma unroll
  for (int i = 0; i < SB_V6_MAX_EXT; i++) {
    __u8 eh[4];
    switch (next) {
      case 0:  /* hop-by-hop options */
      case 43: /* routing */
      case 60: /* destination options */
        if (bpf_skb_load_bytes(skb, off, eh, 2) < 0) goto unknown;
        next = eh[0];
        off += ((__u32)eh[1] + 1) * 8;
        break;
      case 51: /* authentication header: length in 4-byte units, minus 2 */
        if (bpf_skb_load_bytes(skb, off, eh, 2) < 0) goto unknown;
        next = eh[0];
        off += ((__u32)eh[1] + 2) * 4;
        break;
      case 44: /* fragment: next, reserved, offset+flags (2), id (4) */
        if (bpf_skb_load_bytes(skb, off, eh, 4) < 0) goto unknown;
        if ((((__u16)eh[2] << 8) | eh[3]) & 0xfff8) {
          p->l4 = L4_NONE; /* non-first fragment */
          return PARSE_IP;
        }
        next = eh[0];
        off += 8;
        break;
      default:
        parse_l4(skb, off, next, p);
        return PARSE_IP;
    }
  }
  /* Chain longer than the bound: TCP/UDP may hide behind it. */
  if (next != 0 && next != 43 && next != 60 && next != 51 && next != 44) {
    parse_l4(skb, off, next, p);
    return PARSE_IP;
  }
unknown:
  p->l4 = L4_UNKNOWN;
  return PARSE_IP;
}

/* Parses Ethernet (+ up to two VLAN tags) and the IP/L4 headers. */
static __always_inline int parse(struct __sk_buff* skb, struct pkt* p) {
  __be16 proto_be;
  __u32 off = 12;
  if (bpf_skb_load_bytes(skb, off, &proto_be, 2) < 0) return PARSE_NOT_IP;
  off += 2;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    __u16 t = bpf_ntohs(proto_be);
    if (t != ETH_P_8021Q && t != ETH_P_8021AD) break;
    if (bpf_skb_load_bytes(skb, off + 2, &proto_be, 2) < 0) return PARSE_NOT_IP;
    off += 4;
  }
  switch (bpf_ntohs(proto_be)) {
    case ETH_P_IP:
      return parse_v4(skb, off, p);
    case ETH_P_IPV6:
      return parse_v6(skb, off, p);
    default:
      return PARSE_NOT_IP;
  }
}

/* Action of the longest matching CIDR for the source: 0 when unknown. */
static __always_inline __u8 source_action(const struct pkt* p) {
  __u8* act;
  if (p->family == 4) {
    struct sb_cls_lpm_v4 k = {.prefixlen = 32};
    __builtin_memcpy(k.addr, p->saddr, 4);
    act = bpf_map_lookup_elem(&cidrs_v4, &k);
  } else {
    struct sb_cls_lpm_v6 k = {.prefixlen = 128};
    __builtin_memcpy(k.addr, p->saddr, 16);
    act = bpf_map_lookup_elem(&cidrs_v6, &k);
  }
  return act ? *act : 0;
}

/* Token bucket of the join path. Time is read before taking the lock
 * (helpers cannot be called under a bpf_spin_lock). A changed generation
 * (user space set a new rate) refills the bucket. Elapsed time is capped
 * at the time to fill an empty bucket, so elapsed * rate cannot overflow
 * (user space bounds rate and burst to 1e6: at most 1e15 units). */
static __always_inline int take_join_token(const struct sb_cls_config* cfg) {
  __u32 k = 0;
  struct sb_cls_bucket* b = bpf_map_lookup_elem(&join_bucket, &k);
  if (!b) return 0;
  __u64 now = bpf_ktime_get_ns();
  __u64 cap = cfg->join_burst * SB_NS_PER_SEC;
  __u64 fill = cfg->join_fill_ns;
  __u64 rate = cfg->join_rate;
  __u64 gen = cfg->join_generation;
  int ok = 0;
  bpf_spin_lock(&b->lock);
  if (b->generation != gen) {
    b->generation = gen;
    b->units = cap;
    b->last_ns = now;
  } else if (now > b->last_ns) {
    __u64 elapsed = now - b->last_ns;
    if (elapsed > fill) elapsed = fill;
    __u64 units = b->units + elapsed * rate;
    b->units = units > cap ? cap : units;
    b->last_ns = now;
  }
  if (b->units >= SB_NS_PER_SEC) {
    b->units -= SB_NS_PER_SEC;
    ok = 1;
  }
  bpf_spin_unlock(&b->lock);
  return ok;
}

SEC("tc")
int sb_ingress(struct __sk_buff* skb) {
  struct pkt p = {};
  __u32 zero = 0;
  int r = parse(skb, &p);
  if (r == PARSE_NOT_IP) {
    count(SB_CNT_PASSED);
    return TC_ACT_OK;
  }
  if (r == PARSE_MALFORMED) {
    count(SB_CNT_MALFORMED);
    return TC_ACT_SHOT;
  }
  if (p.l4 == L4_NONE) {
    count(SB_CNT_PASSED);
    return TC_ACT_OK;
  }
  struct sb_cls_config* cfgp = bpf_map_lookup_elem(&config, &zero);
  if (!cfgp) return TC_ACT_OK; /* cannot happen: array of one */
  struct sb_cls_config cfg = *cfgp;

  if (p.l4 == L4_UNKNOWN) {
    if (source_action(&p) == SB_CLS_ALLOW) {
      count(SB_CNT_ALLOWED);
      return TC_ACT_OK;
    }
    count(SB_CNT_MALFORMED);
    return TC_ACT_SHOT;
  }

  /* The source lookup is only paid for packets to the node's ports. */
  __u16 d = p.dport;
  if (d == 0 ||
      (d != cfg.client_port && d != cfg.peer_port && d != cfg.join_port)) {
    count(SB_CNT_PASSED);
    return TC_ACT_OK;
  }
  __u8 act = source_action(&p);
  if (d != 0 && (d == cfg.client_port || d == cfg.peer_port)) {
    if (act == SB_CLS_ALLOW) {
      count(SB_CNT_ALLOWED);
      return TC_ACT_OK;
    }
    count(SB_CNT_DROPPED);
    return TC_ACT_SHOT;
  }
  if (d != 0 && d == cfg.join_port) {
    if (act == SB_CLS_ALLOW) {
      count(SB_CNT_ALLOWED);
      return TC_ACT_OK;
    }
    if (act == SB_CLS_DENY) {
      count(SB_CNT_DROPPED);
      return TC_ACT_SHOT;
    }
    /* Unknown source. Only a connection attempt costs a token: a TCP
     * segment other than a bare SYN belongs to a connection whose SYN was
     * admitted (or is answered by a RST, as on any closed port). */
    if (p.proto == IPPROTO_TCP &&
        (p.tcp_flags & (SB_TCP_SYN | SB_TCP_ACK)) != SB_TCP_SYN) {
      count(SB_CNT_PASSED);
      return TC_ACT_OK;
    }
    if (take_join_token(&cfg)) {
      count(SB_CNT_JOIN_ADMITTED);
      return TC_ACT_OK;
    }
    count(SB_CNT_JOIN_LIMITED);
    return TC_ACT_SHOT;
  }
  count(SB_CNT_PASSED);
  return TC_ACT_OK;
}

SEC("tc")
int sb_egress(struct __sk_buff* skb) {
  struct pkt p = {};
  __u32 zero = 0;
  if (parse(skb, &p) != PARSE_IP || p.l4 != L4_PORTS) return TC_ACT_OK;
  struct sb_cls_config* cfg = bpf_map_lookup_elem(&config, &zero);
  if (!cfg || !cfg->egress_enabled) return TC_ACT_OK;
  __u16 peer = cfg->peer_port;
  __u16 client = cfg->client_port;
  if (peer != 0 && (p.sport == peer || p.dport == peer)) {
    skb->priority = cfg->peer_priority;
    count(SB_CNT_EGRESS_PEER);
  } else if (client != 0 && p.sport == client) {
    skb->priority = cfg->client_priority;
    count(SB_CNT_EGRESS_CLIENT);
  }
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
