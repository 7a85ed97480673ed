#!/usr/bin/env bash
# The main job: install packages, build, and run a local Shardbearer
# cluster serving requests.
#
# Starts 3 orders x 3 radiants on loopback (scripts/local-cluster.sh: nine
# shardbearerd processes, one static [layout], raft, storage-rocksdb in a
# fresh directory under /tmp), writes a key through one radiant and reads it
# back through a radiant of another order (the request is forwarded to the
# key's herald), then keeps the cluster running until Ctrl-C (or for
# SB_QUICKSTART_SECONDS seconds when that is set) and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target shardbearerd
# Plugins and the generated Python bindings are separate targets.
cmake --build build -j"$(nproc)" --target sb_all_plugins sb_python_client

work=$(mktemp -d /tmp/shardbearer-quickstart.XXXXXX)
export SB_ORDERS=3 SB_REPLICAS=3
stop_cluster() { scripts/local-cluster.sh stop "$work" || true; }
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== starting 3 orders x 3 radiants (configs and logs in $work)"
scripts/local-cluster.sh start "$work"

echo "== a put through radiant 1 (order 1), a get through radiant 9 (order 3)"
PYTHONPATH="clients/python:build/clients/python/gen-py" /usr/bin/python3 - <<'PY'
import sys
from shardbearer_client import Client

# Any radiant answers any key: each forwards to the key's herald.
writer = Client("127.0.0.1", 7501)
writer.put(b"greeting", b"hello, shardbearer")
print("put  greeting = hello, shardbearer   (via 127.0.0.1:7501)")
writer.close()
reader = Client("127.0.0.1", 7509)
value = reader.get(b"greeting")
print("get  greeting -> " + value.decode() + "   (via 127.0.0.1:7509)")
reader.close()
if value != b"hello, shardbearer":
    sys.exit("unexpected value")
PY

echo "== the cluster serves on 127.0.0.1:7501..7509 (Ctrl-C stops it)"
seconds=${SB_QUICKSTART_SECONDS:-}
elapsed=0
while [ -z "$seconds" ] || [ "$elapsed" -lt "$seconds" ]; do
  sleep 1
  elapsed=$((elapsed + 1))
  for i in $(seq 1 9); do
    if ! kill -0 "$(cat "$work/node$i.pid")" 2>/dev/null; then
      echo "node$i stopped on its own; $work/node$i.log:" >&2
      tail -n 20 "$work/node$i.log" >&2
      exit 1
    fi
  done
done
echo "== stopping"
