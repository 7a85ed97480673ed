#!/usr/bin/python3
"""compare.py RUNS_TSV — side-by-side table of etcd and Shardbearer runs.

RUNS_TSV (written by run.sh) has one line per run: target, workload,
clients, the JSON file written by etcd-bench or shardbearer-bench (format
"shardbearer-bench/1", see tools/bench/report.h) and the servers' CPU seconds
over the measured part (empty when unknown). Prints Markdown tables for the
write-only and linearizable-read runs, their latency percentiles (p50, p95,
p99, p99.9) and, at 64 clients, the ratios the
project targets: write throughput >= 2x etcd, linearizable read throughput
>= 3x etcd, p99 no worse, server CPU per write <= 1/2 of etcd's.
"""
import csv
import json
import sys

TITLES = {"write": "Writes (puts, 100% update)",
          "c": "Linearizable reads (workload c, 100% get)"}


def load(path):
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            with open(r["json"]) as jf:
                doc = json.load(jf)
            if doc.get("format") != "shardbearer-bench/1":
                sys.exit(f"compare.py: {r['json']}: unknown format")
            run = [p for p in doc["phases"] if p["phase"] == "run"]
            if not run:
                sys.exit(f"compare.py: {r['json']}: no run phase")
            p = run[0]
            cpu = float(r["cpu_s"]) if r["cpu_s"] else None
            rows[(r["target"], r["workload"], int(r["clients"]))] = {
                "tput": p["throughput_ops_s"], "ops": p["ops"],
                "p50": p["latency_us"]["p50"] / 1000,
                "p95": p["latency_us"]["p95"] / 1000,
                "p99": p["latency_us"]["p99"] / 1000,
                "p999": p["latency_us"]["p99_9"] / 1000,
                "errors": p["errors_total"],
                "per_cpu": (p["ops"] / cpu) if cpu else None,
            }
    return rows


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    rows = load(sys.argv[1])
    clients = sorted({k[2] for k in rows})
    has_sb = any(k[0] == "shardbearer" for k in rows)
    for workload in ("write", "c"):
        if not any(k[1] == workload for k in rows):
            continue
        print(f"\n### {TITLES[workload]}\n")
        head = ("| clients | etcd ops/s | etcd p50 ms | etcd p99 ms | "
                "etcd ops/CPU-s | etcd errors |")
        line = "|---:|---:|---:|---:|---:|---:|"
        if has_sb:
            head += (" sb ops/s | sb p50 ms | sb p99 ms | sb ops/CPU-s | "
                     "sb errors | ops/s ratio | p99 ratio | CPU/op ratio |")
            line += "---:|" * 8
        print(head)
        print(line)
        for n in clients:
            e = rows.get(("etcd", workload, n))
            if e is None:
                continue
            out = (f"| {n} | {e['tput']:.0f} | {e['p50']:.2f} | "
                   f"{e['p99']:.2f} | {fmt(e['per_cpu'], '.0f')} | "
                   f"{e['errors']} |")
            s = rows.get(("shardbearer", workload, n))
            if has_sb and s is not None:
                ratio = s["tput"] / e["tput"] if e["tput"] else None
                p99 = s["p99"] / e["p99"] if e["p99"] and s["ops"] else None
                cpu = (e["per_cpu"] / s["per_cpu"]
                       if e["per_cpu"] and s["per_cpu"] else None)
                out += (f" {s['tput']:.0f} | {s['p50']:.2f} | {s['p99']:.2f} |"
                        f" {fmt(s['per_cpu'], '.0f')} | {s['errors']} |"
                        f" {fmt(ratio, '.2f')} | {fmt(p99, '.2f')} |"
                        f" {fmt(cpu, '.2f')} |")
            print(out)
    print("\n### Latency percentiles (ms)\n")
    print("| workload | clients | system | p50 | p95 | p99 | p99.9 |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for workload in ("write", "c"):
        for n in clients:
            for target, name in (("etcd", "etcd"), ("shardbearer", "sb")):
                r = rows.get((target, workload, n))
                if r is None or not r["ops"]:
                    continue
                print(f"| {workload} | {n} | {name} | {r['p50']:.2f} | "
                      f"{r['p95']:.2f} | {r['p99']:.2f} | {r['p999']:.2f} |")
    if not has_sb:
        print("\nShardbearer: not measured (run.sh --shardbearer ADDRS).")
        return
    print("\n### Targets at 64 clients\n")
    checks = [("write throughput >= 2x etcd", "write", "tput", 2.0, True),
              ("linearizable read throughput >= 3x etcd", "c", "tput", 3.0,
               True),
              ("write p99 no worse than etcd", "write", "p99", 1.0, False),
              ("read p99 no worse than etcd", "c", "p99", 1.0, False)]
    for name, workload, key, bound, higher in checks:
        e, s = rows.get(("etcd", workload, 64)), rows.get(
            ("shardbearer", workload, 64))
        if not e or not s or not e[key] or not s["ops"]:
            print(f"- {name}: not measured")
            continue
        r = s[key] / e[key]
        ok = r >= bound if higher else r <= bound
        print(f"- {name}: {r:.2f}x — {'met' if ok else 'NOT met'}")
    e, s = rows.get(("etcd", "write", 64)), rows.get(
        ("shardbearer", "write", 64))
    if e and s and e["per_cpu"] and s["per_cpu"]:
        r = e["per_cpu"] / s["per_cpu"]  # Shardbearer CPU per write / etcd's
        print(f"- server CPU per write <= 1/2 of etcd: {r:.2f}x — "
              f"{'met' if r <= 0.5 else 'NOT met'}")
    elif s and not s["ops"]:
        print("- server CPU per write <= 1/2 of etcd: not measured "
              "(no successful Shardbearer write)")
    else:
        print("- server CPU per write <= 1/2 of etcd: not measured "
              "(give --shardbearer-pids)")


if __name__ == "__main__":
    main()
