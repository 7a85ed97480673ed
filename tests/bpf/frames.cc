#include "frames.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sb::bpftest {
namespace {

void Put16(std::vector<uint8_t>& f, uint16_t v) {
  f.push_back(static_cast<uint8_t>(v >> 8));
  f.push_back(static_cast<uint8_t>(v));
}

void PutL4(std::vector<uint8_t>& f, const FrameSpec& s) {
  if (s.proto == 6) {
    Put16(f, s.sport);
    Put16(f, s.dport);
    for (int i = 0; i < 8; ++i) f.push_back(0);  // seq, ack
    f.push_back(0x50);                           // data offset 5
    f.push_back(s.tcp_flags);
    Put16(f, 65535);  // window
    Put16(f, 0);      // checksum
    Put16(f, 0);      // urgent
  } else if (s.proto == 17) {
    Put16(f, s.sport);
    Put16(f, s.dport);
    Put16(f, static_cast<uint16_t>(8 + s.payload));
    Put16(f, 0);
  }
  f.insert(f.end(), s.payload, 0xab);
}

}  // namespace

std::vector<uint8_t> BuildFrame(const FrameSpec& s) {
  uint8_t src[16], dst[16];
  bool v4 = inet_pton(AF_INET, s.src.c_str(), src) == 1 &&
            inet_pton(AF_INET, s.dst.c_str(), dst) == 1;
  if (!v4 && (inet_pton(AF_INET6, s.src.c_str(), src) != 1 ||
              inet_pton(AF_INET6, s.dst.c_str(), dst) != 1)) {
    throw std::invalid_argument("bad address in FrameSpec");
  }
  std::vector<uint8_t> f = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1};
  for (int i = 0; i < s.vlan_tags; ++i) {
    Put16(f, i == 0 && s.vlan_tags > 1 ? 0x88a8 : 0x8100);
    Put16(f, 100 + i);  // TCI: VLAN id
  }
  Put16(f, v4 ? 0x0800 : 0x86dd);
  std::vector<uint8_t> l4;
  PutL4(l4, s);
  if (v4) {
    size_t ihl = 5 + s.ipv4_option_words;
    f.push_back(static_cast<uint8_t>(0x40 | ihl));
    f.push_back(0);
    Put16(f, static_cast<uint16_t>(ihl * 4 + l4.size()));
    Put16(f, 1);  // id
    Put16(f, s.ipv4_frag_offset & 0x1fff);
    f.push_back(64);
    f.push_back(s.proto);
    Put16(f, 0);
    f.insert(f.end(), src, src + 4);
    f.insert(f.end(), dst, dst + 4);
    for (size_t i = 0; i < s.ipv4_option_words * 4u; ++i)
      f.push_back(1);  // NOP
  } else {
    std::vector<uint8_t> ext;
    for (size_t i = 0; i < s.ipv6_ext.size(); ++i) {
      uint8_t next = i + 1 < s.ipv6_ext.size() ? s.ipv6_ext[i + 1] : s.proto;
      if (s.ipv6_ext[i] == 44) {
        ext.push_back(next);
        ext.push_back(0);
        Put16(ext, static_cast<uint16_t>(s.ipv6_frag_offset << 3));
        for (int k = 0; k < 4; ++k) ext.push_back(0);
      } else {
        ext.push_back(next);
        ext.push_back(0);                                           // 8 bytes
        for (int k = 0; k < 6; ++k) ext.push_back(k == 0 ? 1 : 0);  // PadN
      }
    }
    f.push_back(0x60);
    f.push_back(0);
    f.push_back(0);
    f.push_back(0);
    Put16(f, static_cast<uint16_t>(ext.size() + l4.size()));
    f.push_back(s.ipv6_ext.empty() ? s.proto : s.ipv6_ext[0]);
    f.push_back(64);
    f.insert(f.end(), src, src + 16);
    f.insert(f.end(), dst, dst + 16);
    f.insert(f.end(), ext.begin(), ext.end());
  }
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

std::vector<uint8_t> BuildArp() {
  static const uint8_t kArp[] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0,  1, 0x08, 0x06,
      0,    1,    8,    0,    6,    4,    0,    1, 2, 0, 0,  0, 0,    1,
      10,   0,    0,    1,    0,    0,    0,    0, 0, 0, 10, 0, 0,    2};
  return std::vector<uint8_t>(kArp, kArp + sizeof kArp);
}

RunResult RunProg(int prog_fd, const std::vector<uint8_t>& frame,
                  uint32_t priority_in, uint32_t repeat) {
  std::vector<uint8_t> out(frame.size() + 256);
  __sk_buff ctx_in, ctx_out;
  memset(&ctx_in, 0, sizeof ctx_in);
  memset(&ctx_out, 0, sizeof ctx_out);
  ctx_in.priority = priority_in;
  bpf_test_run_opts o;
  memset(&o, 0, sizeof o);
  o.sz = sizeof o;
  o.data_in = frame.data();
  o.data_size_in = static_cast<uint32_t>(frame.size());
  o.data_out = out.data();
  o.data_size_out = static_cast<uint32_t>(out.size());
  o.ctx_in = &ctx_in;
  o.ctx_size_in = sizeof ctx_in;
  o.ctx_out = &ctx_out;
  o.ctx_size_out = sizeof ctx_out;
  o.repeat = repeat;
  RunResult r;
  r.err = bpf_prog_test_run_opts(prog_fd, &o);
  if (r.err != 0 && r.err > 0) r.err = -errno;
  r.retval = o.retval;
  r.priority = ctx_out.priority;
  r.duration_ns = o.duration;
  return r;
}

}  // namespace sb::bpftest
