#!/usr/bin/env bash
# run.sh — etcd 3.4 against Shardbearer on this machine (docs/performance.md).
#
# Starts a 3-member etcd cluster on 127.0.0.1 (own ports, data dirs in a temp
# dir, fsync on: etcd's default), loads it, then for each client count runs
# a write-only load (puts) and a linearizable-read load (workload c) with
# tools/etcd-compare/etcd-bench, measuring the servers' CPU from
# /proc/PID/stat (utime + stime over the measured part of each run). When a
# Shardbearer cluster is given, shardbearer-bench runs the same loads against
# it and a side-by-side table shows the ratios the project targets.
#
# usage: tools/etcd-compare/run.sh [options]
#   --clients "1 16 64 256"  client counts (default that list)
#   --duration S             measured seconds per run (default 10)
#   --warmup S               unmeasured seconds before each run (default 2)
#   --records N              records loaded first (default 10000)
#   --value-size B           value bytes (default 256)
#   --port-base P            etcd client ports P..P+2, peer ports P+10..P+12
#                            (default 42379)
#   --shardbearer ADDRS      also measure a running Shardbearer cluster
#                            (client addresses host:port[,host:port...])
#   --shardbearer-pids PIDS  its shardbearerd pids, comma-separated, for the
#                            CPU column (optional)
#   --shardbearer-start CMD  instead: run CMD DIR, which starts a local
#                            cluster with its files under DIR and prints
#                            "ADDRS=..." and "PIDS=..." lines; those pids are
#                            stopped on exit
#   --shardbearer-route R    shardbearer-bench --route: herald (default: each
#                            client follows WrongLeader to the herald, as a
#                            routing client does) or any (every radiant
#                            takes clients and forwards to the herald)
#   --out DIR                keep the JSON results and table in DIR
#   --build-dir DIR          where etcd-bench is built (default build/etcd-compare)
# Runs as root to install missing packages (etcd-server etcd-client golang-go
# golang-etcd-server-dev); otherwise they must be installed. Every process it
# starts is stopped and its temp dir removed on exit; every wait is bounded.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

clients="1 16 64 256"
duration=10
warmup=2
records=10000
value_size=256
port_base=42379
sb_addrs=""
sb_pids=""
sb_start=""
sb_route="herald"
out=""
build_dir="$repo/build/etcd-compare"

die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) clients="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --records) records="$2"; shift 2 ;;
    --value-size) value_size="$2"; shift 2 ;;
    --port-base) port_base="$2"; shift 2 ;;
    --shardbearer) sb_addrs="$2"; shift 2 ;;
    --shardbearer-pids) sb_pids="$2"; shift 2 ;;
    --shardbearer-start) sb_start="$2"; shift 2 ;;
    --shardbearer-route) sb_route="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build-dir) build_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
num='^[0-9]+$'
[[ "$duration" =~ $num && "$duration" -ge 1 && "$duration" -le 3600 ]] \
  || die "--duration must be whole seconds in [1, 3600]"
[[ "$warmup" =~ $num && "$warmup" -le 600 ]] || die "--warmup must be whole seconds in [0, 600]"
[[ "$records" =~ $num && "$records" -ge 1 ]] || die "--records must be >= 1"
[[ "$value_size" =~ $num && "$value_size" -ge 1 ]] || die "--value-size must be >= 1"
[[ "$port_base" =~ $num && "$port_base" -ge 1024 && "$port_base" -le 65500 ]] \
  || die "--port-base must be in [1024, 65500]"
for c in $clients; do
  [[ "$c" =~ $num && "$c" -ge 1 && "$c" -le 4096 ]] || die "bad client count '$c'"
done
[ -n "$sb_addrs" ] && [ -n "$sb_start" ] && die "give --shardbearer or --shardbearer-start, not both"

# ---- packages ---------------------------------------------------------------
packages=(etcd-server etcd-client golang-go golang-etcd-server-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run as root to install them"
  echo "== installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- cleanup: only what this script started ----------------------------------
tmp=$(mktemp -d /tmp/sb-etcd-compare.XXXXXX)
started_pids=()
cleanup() {
  local pid
  # A second signal must not cut the cleanup short.
  trap '' INT TERM
  for pid in "${started_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    # Bounded wait (15 s: a stopping etcd member may first hand off
    # leadership), then KILL.
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- tools -------------------------------------------------------------------
echo "== building etcd-bench (Go, GOPATH mode against Debian's etcd sources)"
mkdir -p "$build_dir"
(cd "$here/etcd-bench" && GOCACHE="$build_dir/gocache" GO111MODULE=off \
  GOPATH=/usr/share/gocode go build -o "$build_dir/etcd-bench" .)
etcd_bench="$build_dir/etcd-bench"
sb_bench="$repo/build/tools/bench/shardbearer-bench"
if [ -n "$sb_addrs$sb_start" ] && [ ! -x "$sb_bench" ]; then
  echo "== building shardbearer-bench"
  cmake -S "$repo" -B "$repo/build" -G Ninja >/dev/null
  cmake --build "$repo/build" --target shardbearer-bench
fi

# ---- machine -----------------------------------------------------------------
echo "== machine"
echo "cpus: $(nproc), memory: $(free -g | awk '/^Mem:/ {print $2}') GiB, kernel: $(uname -r)"
echo "load average before the runs: $(cut -d" " -f1-3 /proc/loadavg)"
# fsync rate of the temp dir's file system (where the etcd data dirs are):
# 4 KiB overwrite + fsync, then + fdatasync (what etcd's WAL uses; it skips
# the inode time update), each repeated for 2 seconds (at most 100000 times).
/usr/bin/python3 - "$tmp/fsync-probe" <<'PY'
import os, sys, time
path = sys.argv[1]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
buf = b"x" * 4096
os.pwrite(fd, buf, 0)
os.fsync(fd)
for name, sync in (("fsync", os.fsync), ("fdatasync", os.fdatasync)):
    n, start = 0, time.monotonic()
    while n < 100000 and time.monotonic() - start < 2.0:
        os.pwrite(fd, buf, 0)
        sync(fd)
        n += 1
    elapsed = time.monotonic() - start
    print(f"{name} rate: {n / elapsed:.0f}/s (4 KiB overwrite + {name}, "
          f"{n} in {elapsed:.1f} s, {os.path.dirname(path)})")
os.close(fd)
os.unlink(path)
PY

clk_tck=$(getconf CLK_TCK)
# CPU seconds (utime + stime) of the given pids, summed.
cpu_seconds() {
  local total=0 pid f
  for pid in "$@"; do
    # Fields after the ")" that ends the command name: utime is the 12th,
    # stime the 13th of them (fields 14 and 15 of the whole line).
    read -ra f < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + f[11] + f[12]))
  done
  echo "$total $clk_tck" | awk '{printf "%.3f", $1 / $2}'
}

# ---- etcd cluster ----------------------------------------------------------
for i in 0 1 2 10 11 12; do
  if ss -Htln "sport = :$((port_base + i))" | grep -q .; then
    die "port $((port_base + i)) is in use: pick another --port-base"
  fi
done
cluster=""
endpoints=""
for i in 0 1 2; do
  cluster+="${cluster:+,}m$i=http://127.0.0.1:$((port_base + 10 + i))"
  endpoints+="${endpoints:+,}127.0.0.1:$((port_base + i))"
done
etcd_pids=()
echo "== starting etcd $(etcd --version | awk '/etcd Version/ {print $3}'), 3 members, $endpoints"
for i in 0 1 2; do
  etcd --name "m$i" --data-dir "$tmp/m$i" \
    --listen-client-urls "http://127.0.0.1:$((port_base + i))" \
    --advertise-client-urls "http://127.0.0.1:$((port_base + i))" \
    --listen-peer-urls "http://127.0.0.1:$((port_base + 10 + i))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((port_base + 10 + i))" \
    --initial-cluster "$cluster" --initial-cluster-token "sb-compare-$$" \
    --initial-cluster-state new --logger zap --log-outputs "$tmp/m$i.log" \
    --log-level warn > "$tmp/m$i.stderr" 2>&1 &
  etcd_pids+=($!)
  started_pids+=($!)
done
healthy=0
for _ in $(seq 60); do
  if etcdctl --endpoints "$endpoints" --dial-timeout 1s endpoint health >/dev/null 2>&1; then
    healthy=1; break
  fi
  sleep 0.5
done
[ $healthy -eq 1 ] || { tail -5 "$tmp"/m*.log >&2; die "etcd did not become healthy in 30 s"; }

# ---- shardbearer cluster (optional) -------------------------------------------
sb_pid_list=()
if [ -n "$sb_start" ]; then
  echo "== starting Shardbearer with $sb_start"
  mkdir -p "$tmp/shardbearer"
  timeout 120 "$sb_start" "$tmp/shardbearer" > "$tmp/sb-start.out"
  sb_addrs=$(sed -n 's/^ADDRS=//p' "$tmp/sb-start.out" | tail -1)
  sb_pids=$(sed -n 's/^PIDS=//p' "$tmp/sb-start.out" | tail -1)
  [ -n "$sb_addrs" ] || die "$sb_start printed no ADDRS= line"
  for p in ${sb_pids//,/ }; do started_pids+=("$p"); done
fi
for p in ${sb_pids//,/ }; do
  [[ "$p" =~ $num ]] && [ -r "/proc/$p/stat" ] || die "no such process $p (--shardbearer-pids)"
  sb_pid_list+=("$p")
done

mkdir -p "$tmp/results"
runs="$tmp/results/runs.tsv"
printf 'target\tworkload\tclients\tjson\tcpu_s\n' > "$runs"

# run_one TARGET WORKLOAD CLIENTS: one measured run; CPU is sampled after the
# warm-up and when the tool exits, so it covers the measured part.
run_one() {
  local target=$1 workload=$2 n=$3 json pids cmd pid before after cpu
  json="$tmp/results/$target-$workload-$n.json"
  if [ "$target" = etcd ]; then
    pids=("${etcd_pids[@]}")
    cmd=("$etcd_bench" -endpoints "$endpoints" -workload "$workload"
         -records "$records" -value-size "$value_size" -clients "$n"
         -duration "$duration" -warmup "$warmup" -phase run -json "$json")
  else
    pids=("${sb_pid_list[@]}")
    cmd=("$sb_bench" --target shardbearer --addr "$sb_addrs" --workload "$workload"
         --records "$records" --value-size "$value_size" --clients "$n"
         --duration "$duration" --warmup "$warmup" --phase run --json "$json"
         --route "$sb_route")
  fi
  "${cmd[@]}" > "$tmp/results/$target-$workload-$n.log" 2>&1 &
  pid=$!
  started_pids+=($pid)
  sleep "$warmup"
  before=$([ ${#pids[@]} -gt 0 ] && cpu_seconds "${pids[@]}" || echo "")
  wait $pid || { cat "$tmp/results/$target-$workload-$n.log" >&2; die "$target run failed"; }
  after=$([ ${#pids[@]} -gt 0 ] && cpu_seconds "${pids[@]}" || echo "")
  cpu=""
  [ -n "$before" ] && cpu=$(echo "$before $after" | awk '{printf "%.3f", $2 - $1}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$workload" "$n" "$json" "$cpu" >> "$runs"
  grep -E '^\[run\]|^  (all|errors)' "$tmp/results/$target-$workload-$n.log" | sed 's/^/    /' || true
}

targets=(etcd)
[ -n "$sb_addrs" ] && targets+=(shardbearer)
for target in "${targets[@]}"; do
  echo "== $target: loading $records records of $value_size bytes"
  if [ "$target" = etcd ]; then
    "$etcd_bench" -endpoints "$endpoints" -records "$records" -value-size "$value_size" \
      -clients 16 -phase load > "$tmp/results/$target-load.log" 2>&1
  else
    "$sb_bench" --target shardbearer --addr "$sb_addrs" --records "$records" \
      --value-size "$value_size" --clients 16 --phase load \
      > "$tmp/results/$target-load.log" 2>&1
  fi
  grep -E '^\[load\]|^  errors' "$tmp/results/$target-load.log" | sed 's/^/    /' || true
  for n in $clients; do
    for workload in write c; do
      echo "== $target: workload $workload, $n clients, ${duration} s"
      run_one "$target" "$workload" "$n"
    done
  done
done

echo "== results"
/usr/bin/python3 "$here/compare.py" "$runs" | tee "$tmp/results/table.txt"
if [ -n "$out" ]; then
  mkdir -p "$out"
  cp "$tmp"/results/*.json "$tmp"/results/*.log "$tmp/results/table.txt" "$out"/
  sed "s|$tmp/results/|$out/|" "$runs" > "$out/runs.tsv"
  echo "results kept in $out"
fi
