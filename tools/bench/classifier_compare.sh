#!/bin/sh
# tools/bench/classifier_compare.sh — KV throughput of one single-node
# shardbearerd with and without the bpf-qdisc classifier attached
# (docs/performance.md). Needs root (a network namespace, CAP_BPF,
# CAP_NET_ADMIN).
#
# Everything runs inside a private network namespace "sbcmp-<pid>" on its
# loopback interface, so the classifier (attached to that namespace's lo,
# allowing 127.0.0.0/8) filters only the benchmark's own traffic. Rounds
# alternate off/on so slow drifts of the machine's load hit both. The
# namespace, the daemons and the data directories are removed on exit.
#
# usage: tools/bench/classifier_compare.sh [BUILD_DIR] [ROUNDS] [DURATION_S] [CLIENTS]
set -eu

BUILD=${1:-build}
ROUNDS=${2:-3}
DURATION=${3:-10}
CLIENTS=${4:-16}
NS="sbcmp-$$"
WORK=$(mktemp -d /tmp/sb-classifier-compare.XXXXXX)
NODE_PID=""

cleanup() {
  if [ -n "$NODE_PID" ]; then kill "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

[ -x "$BUILD/host/shardbearerd" ] || { echo "no $BUILD/host/shardbearerd; build it first" >&2; exit 2; }
[ -x "$BUILD/tools/bench/shardbearer-bench" ] || { echo "no shardbearer-bench in $BUILD" >&2; exit 2; }
ip netns add "$NS"
ip -n "$NS" link set lo up

config() {  # $1 = off|on
  cat <<EOT
[node]
id = "bench-node"
data_dir = "$WORK/data-$1"
listen_peer = "127.0.0.1:7400"
listen_client = "127.0.0.1:7500"
single_node = true
[cluster]
shards = 16
[storage]
plugin = "storage-mem"
[consensus]
plugin = "solo"
[logging]
sink = "file"
file = "$WORK/node-$1.log"
EOT
  if [ "$1" = on ]; then
    cat <<EOT
[classifier]
plugin = "bpf-qdisc"
required = true
interface = "lo"
allowed_cidrs = ["127.0.0.0/8"]
EOT
  fi
}

run() {  # $1 = off|on, $2 = round
  rm -rf "$WORK/data-$1"
  config "$1" > "$WORK/$1.toml"
  ip netns exec "$NS" "$BUILD/host/shardbearerd" --config "$WORK/$1.toml" \
    >"$WORK/stdout-$1.txt" 2>&1 &
  NODE_PID=$!
  i=0
  until ip netns exec "$NS" "$BUILD/tools/ctl/shardbearer-ctl" --timeout-ms 500 status >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "node did not start: $WORK/node-$1.log" >&2; cat "$WORK/node-$1.log" >&2; exit 1; }
    sleep 0.1
  done
  if [ "$1" = on ]; then
    ip netns exec "$NS" tc filter show dev lo ingress | grep -q sb_ingress || { echo "classifier not attached" >&2; exit 1; }
  fi
  ip netns exec "$NS" "$BUILD/tools/bench/shardbearer-bench" --target shardbearer \
    --addr 127.0.0.1:7500 --workload a --records 10000 --clients "$CLIENTS" \
    --duration "$DURATION" --warmup 2 --json "$WORK/$1-$2.json" >/dev/null
  if [ "$1" = on ]; then
    ip netns exec "$NS" "$BUILD/tools/ctl/shardbearer-ctl" status | sed -n '/^classifier/,$p' > "$WORK/ctl-$2.txt"
  fi
  kill "$NODE_PID"; wait "$NODE_PID" || true; NODE_PID=""
  /usr/bin/python3 - "$WORK/$1-$2.json" "$1" "$2" <<'EOT'
import json, sys
d = json.load(open(sys.argv[1]))
p = [x for x in d["phases"] if x["phase"] == "run"][0]
print(f'{sys.argv[2]:>3} round {sys.argv[3]}: {p["throughput_ops_s"]:10.0f} ops/s  '
      f'p50 {p["latency_us"]["p50"]:7.0f} us  p99 {p["latency_us"]["p99"]:7.0f} us  '
      f'errors {p["errors_total"]}')
EOT
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
r=1
while [ $r -le "$ROUNDS" ]; do
  run off $r
  run on $r
  r=$((r + 1))
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$WORK" "$ROUNDS" <<'EOT'
import json, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def tput(mode):
    out = []
    for r in range(1, rounds + 1):
        d = json.load(open(f"{work}/{mode}-{r}.json"))
        out.append([x for x in d["phases"] if x["phase"] == "run"][0]["throughput_ops_s"])
    return out
off, on = tput("off"), tput("on")
mo, mn = sum(off) / len(off), sum(on) / len(on)
print(f"mean without classifier: {mo:.0f} ops/s, with: {mn:.0f} ops/s, "
      f"change {100 * (mn - mo) / mo:+.1f}%")
EOT
echo "classifier counters after the last round:"
cat "$WORK/ctl-$ROUNDS.txt"
