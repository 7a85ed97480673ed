#include "tools/bench/report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/common/json_quote.h"

namespace sb::bench {

using tools::JsonQuote;

namespace {

std::string Num(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string Latency(const Histogram& h) {
  auto us = [](uint64_t ns) { return Num(ns / 1000.0); };
  std::ostringstream os;
  os << "{\"min\": " << us(h.min()) << ", \"mean\": " << Num(h.mean() / 1000)
     << ", \"p50\": " << us(h.Percentile(50))
     << ", \"p95\": " << us(h.Percentile(95))
     << ", \"p99\": " << us(h.Percentile(99))
     << ", \"p99_9\": " << us(h.Percentile(99.9))
     << ", \"max\": " << us(h.max()) << "}";
  return os.str();
}

bool OpInWorkload(const Workload& w, OpType t, const std::string& phase) {
  if (phase == "load") return t == OpType::kInsert;
  switch (t) {
    case OpType::kRead:
      return w.read > 0 || w.read_modify_write > 0;
    case OpType::kUpdate:
      return w.update > 0;
    case OpType::kInsert:
      return w.insert > 0;
    case OpType::kReadModifyWrite:
      return w.read_modify_write > 0;
  }
  return false;
}

std::string Phase(const RunOptions& o, const PhaseResult& p) {
  std::ostringstream os;
  os << "    {\"phase\": " << JsonQuote(p.phase)
     << ", \"elapsed_s\": " << Num(p.elapsed_s)
     << ", \"stopped_by\": " << JsonQuote(StopReasonName(p.stopped_by))
     << ", \"ops\": " << p.ops()
     << ", \"throughput_ops_s\": " << Num(p.throughput()) << ",\n"
     << "     \"latency_us\": " << Latency(p.all) << ",\n"
     << "     \"operations\": {";
  bool first = true;
  for (int i = 0; i < kOpTypeCount; ++i) {
    const OpType t = static_cast<OpType>(i);
    // Workload f reads only inside read-modify-writes plus its own reads,
    // so "read" is listed whenever reads happen.
    if (!OpInWorkload(o.workload, t, p.phase) && p.per_op[i].count() == 0) {
      continue;
    }
    const Histogram& h = p.per_op[i];
    os << (first ? "\n" : ",\n") << "       " << JsonQuote(OpTypeName(t))
       << ": {\"ops\": " << h.count() << ", \"throughput_ops_s\": "
       << Num(p.elapsed_s > 0 ? h.count() / p.elapsed_s : 0)
       << ", \"latency_us\": " << Latency(h) << "}";
    first = false;
  }
  os << "},\n     \"errors\": {";
  for (int i = 1; i < kErrorKindCount; ++i) {
    os << (i == 1 ? "" : ", ")
       << JsonQuote(ErrorKindName(static_cast<ErrorKind>(i))) << ": "
       << p.errors[i];
  }
  os << "}, \"errors_total\": " << p.errors_total()
     << ", \"read_misses\": " << p.read_misses
     << ", \"cas_conflicts\": " << p.cas_conflicts << "}";
  return os.str();
}

}  // namespace

std::string ToJson(const ReportHeader& header, const RunOptions& o,
                   const std::vector<const PhaseResult*>& phases) {
  std::ostringstream os;
  os << "{\n  \"format\": \"shardbearer-bench/1\",\n"
     << "  \"tool\": " << JsonQuote(header.tool) << ",\n"
     << "  \"target\": " << JsonQuote(header.target) << ",\n"
     << "  \"endpoints\": [";
  for (size_t i = 0; i < header.endpoints.size(); ++i) {
    os << (i ? ", " : "") << JsonQuote(header.endpoints[i]);
  }
  os << "],\n  \"workload\": " << JsonQuote(o.workload.name)
     << ", \"distribution\": " << JsonQuote(DistributionName(o.distribution))
     << ",\n  \"records\": " << o.records << ", \"key_size\": " << o.key_size
     << ", \"value_size\": " << o.value_size << ", \"clients\": " << o.clients
     << ",\n  \"duration_s\": " << Num(o.duration_s)
     << ", \"max_ops\": " << o.max_ops << ", \"warmup_s\": " << Num(o.warmup_s)
     << ", \"seed\": " << o.seed << ",\n  \"phases\": [";
  for (size_t i = 0; i < phases.size(); ++i) {
    os << (i ? ",\n" : "\n") << Phase(o, *phases[i]);
  }
  os << "\n  ]\n}\n";
  return os.str();
}

void PrintSummary(std::ostream& os, const PhaseResult& p) {
  char line[256];
  std::snprintf(
      line, sizeof line, "[%s] %.2f s, %llu ops, %.1f ops/s, stopped by %s\n",
      p.phase.c_str(), p.elapsed_s, static_cast<unsigned long long>(p.ops()),
      p.throughput(), StopReasonName(p.stopped_by));
  os << line;
  auto row = [&](const char* name, const Histogram& h) {
    std::snprintf(line, sizeof line,
                  "  %-18s %10llu ops  p50 %9.1f  p95 %9.1f  p99 %9.1f  "
                  "p99.9 %9.1f  max %9.1f us\n",
                  name, static_cast<unsigned long long>(h.count()),
                  h.Percentile(50) / 1e3, h.Percentile(95) / 1e3,
                  h.Percentile(99) / 1e3, h.Percentile(99.9) / 1e3,
                  h.max() / 1e3);
    os << line;
  };
  row("all", p.all);
  for (int i = 0; i < kOpTypeCount; ++i) {
    if (p.per_op[i].count() > 0) {
      row(OpTypeName(static_cast<OpType>(i)), p.per_op[i]);
    }
  }
  if (p.errors_total() > 0) {
    os << "  errors:";
    for (int i = 1; i < kErrorKindCount; ++i) {
      if (p.errors[i] > 0) {
        os << " " << ErrorKindName(static_cast<ErrorKind>(i)) << "="
           << p.errors[i];
      }
    }
    os << "\n";
    for (int i = 1; i < kErrorKindCount; ++i) {
      if (p.errors[i] > 0 && !p.first_error[i].empty()) {
        os << "    first " << ErrorKindName(static_cast<ErrorKind>(i)) << ": "
           << p.first_error[i] << "\n";
      }
    }
  } else {
    os << "  errors: none\n";
  }
  if (p.read_misses > 0 || p.cas_conflicts > 0) {
    os << "  read misses: " << p.read_misses
       << ", cas conflicts: " << p.cas_conflicts << "\n";
  }
}

}  // namespace sb::bench
