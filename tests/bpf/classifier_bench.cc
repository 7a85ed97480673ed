// sb_bpf_classifier_bench — per-packet cost of the classifier's programs,
// measured in the kernel with bpf_prog_test_run_opts(repeat = N): the
// kernel runs the program N times on the same frame and reports the mean
// time per run (ns). No network and no attachment are involved.
//
//   sb_bpf_classifier_bench [repeat] [cidrs]
//     repeat  runs per case (default 1000000, at most 100000000)
//     cidrs   extra random /24 ALLOW entries loaded first (default 1000)
//
// Needs the privilege to load BPF programs. Prints one line per case and a
// JSON object per line with --json.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bpf_classifier.h"
#include "frames.h"

using sb::bpfq::BpfClassifier;
using sb::bpfq::Options;
using sb::bpftest::BuildFrame;
using sb::bpftest::FrameSpec;
using sb::bpftest::RunProg;

namespace {

struct Case {
  const char* name;
  bool egress;
  FrameSpec spec;
};

FrameSpec Spec(const char* src, const char* dst, uint16_t sport, uint16_t dport,
               uint8_t proto = 6) {
  FrameSpec s;
  s.src = src;
  s.dst = dst;
  s.sport = sport;
  s.dport = dport;
  s.proto = proto;
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  unsigned long repeat =
      args.size() > 0 ? std::strtoul(args[0].c_str(), nullptr, 10) : 1000000;
  unsigned long cidrs =
      args.size() > 1 ? std::strtoul(args[1].c_str(), nullptr, 10) : 1000;
  if (repeat == 0 || repeat > 100000000 || cidrs > 16000) {
    std::fprintf(stderr,
                 "usage: %s [--json] [repeat 1..1e8] [cidrs 0..16000]\n",
                 argv[0]);
    return 2;
  }
  Options opts;
  opts.allowed_cidrs = {"10.0.0.0/24", "fd00:1::/64"};
  opts.join_rate = 0;
  opts.join_burst = 0;  // the join case measures the limited path
  std::unique_ptr<BpfClassifier> cls;
  sb_status st = {};
  if (BpfClassifier::Create(opts, nullptr, &cls, &st) != SB_OK ||
      cls->SetPorts(7000, 7001, &st) != SB_OK ||
      cls->SetJoinPort(7002, &st) != SB_OK) {
    std::fprintf(stderr, "cannot set up the classifier: %s\n", st.message);
    return 1;
  }
  // Fill the IPv4 table so lookups walk a realistic trie.
  std::mt19937 rng(42);
  for (unsigned long i = 0; i < cidrs; ++i) {
    uint32_t a = rng();
    std::string c = std::to_string(172) + "." +
                    std::to_string((a >> 16) & 0xff) + "." +
                    std::to_string((a >> 8) & 0xff) + ".0/24";
    if (cls->PutCidr(c, SB_CLS_ALLOW, &st) != SB_OK) {
      std::fprintf(stderr, "cannot add %s: %s\n", c.c_str(), st.message);
      return 1;
    }
  }
  FrameSpec v6ext = Spec("fd00:2::9", "fd00:1::2", 40000, 7000);
  v6ext.ipv6_ext = {0, 60};
  auto Report = [&](const char* name, const sb::bpftest::RunResult& r) {
    if (json) {
      std::printf(
          "{\"case\":\"%s\",\"ns_per_packet\":%u,\"verdict\":%u,"
          "\"repeat\":%lu,\"cidrs\":%lu}\n",
          name, r.duration_ns, r.retval, repeat, cidrs + 2);
    } else {
      std::printf("%-42s %6u ns/packet  (verdict %u)\n", name, r.duration_ns,
                  r.retval);
    }
  };
  const Case cases[] = {
      {"ingress ipv4 tcp allowed (client port)", false,
       Spec("10.0.0.9", "10.0.0.2", 40000, 7000)},
      {"ingress ipv4 tcp dropped (client port)", false,
       Spec("192.168.1.1", "10.0.0.2", 40000, 7000)},
      {"ingress ipv4 tcp other port", false,
       Spec("192.168.1.1", "10.0.0.2", 40000, 22)},
      {"ingress ipv4 udp dropped (peer port)", false,
       Spec("192.168.1.1", "10.0.0.2", 40000, 7001, 17)},
      {"ingress ipv4 join limited", false,
       Spec("192.168.1.1", "10.0.0.2", 40000, 7002)},
      {"ingress ipv6 tcp allowed (peer port)", false,
       Spec("fd00:1::9", "fd00:1::2", 40000, 7001)},
      {"ingress ipv6 2 ext headers dropped", false, v6ext},
      {"egress ipv4 peer marked", true,
       Spec("10.0.0.2", "10.0.0.9", 7001, 40000)},
      {"egress ipv4 unmarked", true, Spec("10.0.0.2", "10.0.0.9", 443, 40000)},
  };
  // Baseline: an empty tc program (return TC_ACT_OK) on the same frame
  // measures what the test runner itself costs per run.
  {
    const bpf_insn insns[] = {
        {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
        {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
    };
    int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "sb_empty", "GPL", insns, 2,
                           nullptr);
    if (fd >= 0) {
      auto r = RunProg(fd, BuildFrame(cases[0].spec), 0,
                       static_cast<uint32_t>(repeat));
      close(fd);
      if (r.err == 0) Report("baseline: empty tc program", r);
    }
  }
  for (const Case& c : cases) {
    auto frame = BuildFrame(c.spec);
    int fd = c.egress ? cls->egress_fd() : cls->ingress_fd();
    auto r = RunProg(fd, frame, 0, static_cast<uint32_t>(repeat));
    if (r.err != 0) {
      std::fprintf(stderr, "%s: test run failed: %s\n", c.name,
                   std::strerror(-r.err));
      return 1;
    }
    Report(c.name, r);
  }
  return 0;
}
