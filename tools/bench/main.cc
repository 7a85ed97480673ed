// shardbearer-bench — YCSB-style load generator for a Shardbearer cluster.
//
// usage: shardbearer-bench --target shardbearer --addr HOST:PORT[,HOST:PORT]
//          [--workload a|b|c|d|f|write] [--distribution uniform|zipfian|latest]
//          [--records N] [--key-size B] [--value-size B] [--clients N]
//          [--duration S] [--ops N] [--warmup S] [--phase load|run|both]
//          [--seed N] [--timeout-ms MS] [--error-backoff-ms MS] [--json FILE]
//          [--route any|herald]
// See docs/performance.md. Exit status: 0 when the run completed (errors
// are reported, not fatal), 2 on bad arguments, 1 when the JSON file could
// not be written.
#include <thrift/Thrift.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "tools/bench/report.h"
#include "tools/bench/runner.h"
#include "tools/bench/shardbearer_target.h"

namespace {

using namespace sb::bench;

constexpr char kUsage[] =
    "usage: shardbearer-bench --target shardbearer --addr HOST:PORT[,...]\n"
    "  --workload a|b|c|d|f|write   YCSB core workload (default a; e is not\n"
    "                               offered: the Kv service has no scan)\n"
    "  --distribution uniform|zipfian|latest  (default: the workload's)\n"
    "  --records N        records loaded and chosen from (default 1000)\n"
    "  --key-size B       key bytes, \"user\" + zero-padded index (default "
    "16)\n"
    "  --value-size B     value bytes (default 256)\n"
    "  --clients N        client threads, one connection each (default 1)\n"
    "  --duration S       measured seconds (default 10)\n"
    "  --ops N            stop after N measured requests (default 0: none)\n"
    "  --warmup S         unmeasured seconds first (default 1)\n"
    "  --phase load|run|both  (default both: load the records, then run)\n"
    "  --seed N           random seed (default 1)\n"
    "  --timeout-ms MS    request timeout (default 10000; connecting:\n"
    "                     at most 3000)\n"
    "  --error-backoff-ms MS  pause of a client after a failed request\n"
    "                     (default 10)\n"
    "  --json FILE        also write the results as JSON\n"
    "  --route any|herald  any (default): each client keeps the address it\n"
    "                     was given and the node forwards; herald: requests\n"
    "                     carry no_forward, so a client follows WrongLeader\n"
    "                     to its order's herald (a routing client, for a\n"
    "                     cluster of one order)\n";

bool ParseUint(const std::string& s, uint64_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos ||
      s.size() > 19) {
    return false;
  }
  *out = std::stoull(s);
  return true;
}

bool ParseSeconds(const std::string& s, double* out) {
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

int Fail(const std::string& message) {
  std::cerr << "shardbearer-bench: " << message << "\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Failures are counted and summarized; Thrift's per-failure stderr lines
  // would drown the report.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  std::map<std::string, std::string> args;
  static const char* kKnown[] = {
      "target",   "addr",       "workload",         "distribution",
      "records",  "key-size",   "value-size",       "clients",
      "duration", "ops",        "warmup",           "phase",
      "seed",     "timeout-ms", "error-backoff-ms", "json",
      "route"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a.rfind("--", 0) != 0) return Fail("unexpected argument '" + a + "'");
    a = a.substr(2);
    std::string value;
    if (size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Fail("--" + a + " needs a value");
    }
    bool known = false;
    for (const char* k : kKnown) known |= a == k;
    if (!known) return Fail("unknown option --" + a);
    args[a] = value;
  }
  auto get = [&](const char* k, const char* def) {
    auto it = args.find(k);
    return it == args.end() ? std::string(def) : it->second;
  };

  if (get("target", "shardbearer") != "shardbearer") {
    return Fail(
        "only --target shardbearer is built in; etcd is measured by "
        "tools/etcd-compare (etcd's own Go client)");
  }
  ShardbearerTargetOptions topts;
  if (!args.count("addr")) return Fail("--addr is required");
  if (std::string e = ParseAddressList(args["addr"], &topts.addresses);
      !e.empty()) {
    return Fail("--addr: " + e);
  }

  const std::string route = get("route", "any");
  if (route != "any" && route != "herald") {
    return Fail("--route must be any or herald");
  }
  topts.no_forward = route == "herald";

  RunOptions o;
  std::string error;
  if (!LookupWorkload(get("workload", "a"), &o.workload, &error)) {
    return Fail(error);
  }
  o.distribution = o.workload.default_distribution;
  if (args.count("distribution") &&
      !ParseDistribution(args["distribution"], &o.distribution)) {
    return Fail("--distribution must be uniform, zipfian or latest");
  }
  uint64_t n = 0;
  struct UintArg {
    const char* name;
    const char* def;
    uint64_t* out;
  };
  uint64_t key_size, value_size, clients, timeout_ms, backoff_ms;
  for (const UintArg& u :
       {UintArg{"records", "1000", &o.records},
        UintArg{"key-size", "16", &key_size},
        UintArg{"value-size", "256", &value_size},
        UintArg{"clients", "1", &clients}, UintArg{"ops", "0", &o.max_ops},
        UintArg{"seed", "1", &o.seed},
        UintArg{"timeout-ms", "10000", &timeout_ms},
        UintArg{"error-backoff-ms", "10", &backoff_ms}}) {
    if (!ParseUint(get(u.name, u.def), &n)) {
      return Fail(std::string("--") + u.name + " must be a whole number");
    }
    *u.out = n;
  }
  if (clients > 4096 || timeout_ms < 1 || timeout_ms > 3600000 ||
      backoff_ms > 60000) {
    return Fail("--clients, --timeout-ms or --error-backoff-ms out of range");
  }
  o.key_size = key_size;
  o.value_size = value_size;
  o.clients = static_cast<int>(clients);
  o.error_backoff_ms = static_cast<int>(backoff_ms);
  topts.request_timeout_ms = static_cast<int>(timeout_ms);
  // A connect that hangs (no answer to the SYN) should not hold a client
  // for the whole request timeout.
  topts.connect_timeout_ms = std::min(3000, topts.request_timeout_ms);
  if (!ParseSeconds(get("duration", "10"), &o.duration_s) ||
      !ParseSeconds(get("warmup", "1"), &o.warmup_s)) {
    return Fail("--duration and --warmup take seconds");
  }
  const std::string phase = get("phase", "both");
  if (phase != "load" && phase != "run" && phase != "both") {
    return Fail("--phase must be load, run or both");
  }
  if (std::string e = ValidateOptions(o); !e.empty()) return Fail(e);

  std::unique_ptr<Target> target = MakeShardbearerTarget(topts);
  std::cout << "shardbearer-bench: workload " << o.workload.name << " ("
            << DistributionName(o.distribution) << "), " << o.records
            << " records, " << o.key_size << "+" << o.value_size << " bytes, "
            << o.clients << " clients, " << args["addr"] << "\n";
  std::unique_ptr<PhaseResult> load, run;
  std::vector<const PhaseResult*> phases;
  if (phase != "run") {
    load = RunLoad(*target, o);
    PrintSummary(std::cout, *load);
    phases.push_back(load.get());
  }
  if (phase != "load") {
    run = RunWorkload(*target, o);
    PrintSummary(std::cout, *run);
    phases.push_back(run.get());
  }
  if (args.count("json")) {
    ReportHeader h;
    h.target = target->name();
    h.endpoints = topts.addresses;
    std::ofstream f(args["json"], std::ios::trunc);
    f << ToJson(h, o, phases);
    f.close();
    if (!f) {
      std::cerr << "shardbearer-bench: cannot write " << args["json"] << ": "
                << std::strerror(errno) << "\n";
      return 1;
    }
  }
  return 0;
}
