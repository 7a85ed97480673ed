#!/usr/bin/env bash
# start-shardbearer.sh — the Shardbearer side of tools/etcd-compare/run.sh.
#
# usage: tools/etcd-compare/start-shardbearer.sh DIR
#
# Starts one order of three radiants on 127.0.0.1 with
# scripts/local-cluster.sh (SB_ORDERS=1, SB_REPLICAS=3; storage-rocksdb, the
# default storage plugin, whose every write batch that carries log entries
# or a new term/vote is written with sync = true: acknowledged writes are on
# disk on a majority, as etcd's fsync makes them), data and logs under DIR.
# The log is compacted every 100000 entries ([compaction] log_entries, the
# node's default, set explicitly), as etcd 3.4 snapshots every 100000 entries
# (--snapshot-count, its default): both systems pay for snapshots alike.
# Waits (bounded, 30 s) until the order has a herald that commits a write,
# then prints, for run.sh --shardbearer-start:
#   ADDRS=127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3   (every radiant's client port)
#   PIDS=pid1,pid2,pid3
# Stop the cluster with `SB_BASE_PORT=... scripts/local-cluster.sh stop DIR`
# (run.sh stops the pids itself).
#
# Environment: SB_BASE_PORT (default 47400: peers on BASE+1..3, clients on
# BASE+101..103), SB_SHARDS (default 64), SB_BUILD (default build, relative
# to the repository), passed on to scripts/local-cluster.sh;
# SB_LOG_ENTRIES (default 100000), the compaction threshold.
# Exit status: 0 when the cluster serves, 1 otherwise (its nodes are stopped
# again), 2 on bad usage.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The radiants stay in this script's session, as run.sh's etcd members do:
# with kernel.sched_autogroup_enabled each session is a scheduling group of
# its own, and the two systems must be scheduled alike (docs/performance.md,
# *Scheduling groups*).
export SB_ORDERS=1 SB_REPLICAS=3 SB_SAME_SESSION=1
export SB_BASE_PORT=${SB_BASE_PORT:-47400}
export SB_SHARDS=${SB_SHARDS:-64}
export SB_BUILD=${SB_BUILD:-build}
log_entries=${SB_LOG_ENTRIES:-100000}
[[ "$log_entries" =~ ^[0-9]+$ && "$log_entries" -ge 1 ]] ||
  { echo "SB_LOG_ENTRIES must be a positive integer" >&2; exit 2; }
export SB_EXTRA_TOML="[compaction]
log_entries = $log_entries"
base=$SB_BASE_PORT
[[ "$base" =~ ^[0-9]+$ && "$base" -ge 1024 && "$base" -le 65000 ]] ||
  { echo "SB_BASE_PORT must be in [1024, 65000]" >&2; exit 2; }
for i in 1 2 3; do
  for port in $((base + i)) $((base + 100 + i)); do
    if ss -Htln "sport = :$port" | grep -q .; then
      echo "port $port is in use: pick another SB_BASE_PORT" >&2
      exit 1
    fi
  done
done

bench="$repo/$SB_BUILD/tools/bench/shardbearer-bench"
[[ "$SB_BUILD" = /* ]] && bench="$SB_BUILD/tools/bench/shardbearer-bench"
[ -x "$bench" ] || { echo "no $bench: build shardbearer-bench first" >&2; exit 1; }

stop_nodes() { "$repo/scripts/local-cluster.sh" stop "$dir" >&2 || true; }

# local-cluster.sh's own progress goes to stderr: stdout is for run.sh.
"$repo/scripts/local-cluster.sh" start "$dir" >&2 || { stop_nodes; exit 1; }

addrs=""
pids=""
for i in 1 2 3; do
  addrs+="${addrs:+,}127.0.0.1:$((base + 100 + i))"
  pids+="${pids:+,}$(cat "$dir/node$i.pid")"
done

# The client ports being open does not mean the order elected its herald:
# write one record through each radiant (followers forward to the herald)
# until all three succeed, at most 30 s.
ok=0
for _ in $(seq 1 30); do
  out=$("$bench" --target shardbearer --addr "$addrs" --records 3 --clients 3 \
    --phase load --key-size 24 --timeout-ms 2000 --error-backoff-ms 100 2>&1 || true)
  if grep -q "errors: none" <<<"$out" && grep -q "^\[load\].* 3 ops" <<<"$out"; then
    ok=1
    break
  fi
  sleep 1
done
if [ "$ok" != 1 ]; then
  echo "the order did not commit a write within 30 s; last attempt:" >&2
  echo "$out" >&2
  stop_nodes
  exit 1
fi

echo "ADDRS=$addrs"
echo "PIDS=$pids"
