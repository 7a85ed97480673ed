#!/usr/bin/env bash
# The main job: install packages, build, and run a Shardbearer node.
#
# Starts one radiant in single-node mode (config/single-node.toml: one
# order of every shard, raft with this node as its only voter, data in
# storage-rocksdb) on a fresh data directory under /tmp, waits for its
# client port, writes a key and reads it back through the Python client
# (clients/python), then keeps the node in the foreground until Ctrl-C (or
# for SB_QUICKSTART_SECONDS seconds when that is set).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target shardbearerd
# Plugins and the generated Python bindings are separate targets.
cmake --build build -j"$(nproc)" --target sb_all_plugins sb_python_client

work=$(mktemp -d /tmp/shardbearer-quickstart.XXXXXX)
sed "s|^data_dir = .*|data_dir = \"$work/single\"|" config/single-node.toml \
  > "$work/node.toml"
client_address=$(sed -n 's/^listen_client = "\(.*\)"$/\1/p' "$work/node.toml")
client_host=${client_address%:*}
client_port=${client_address##*:}
echo "== configuration $work/node.toml"
build/host/shardbearerd --check-config "$work/node.toml"

echo "== starting shardbearerd (log: $work/node.log)"
build/host/shardbearerd --config "$work/node.toml" 2>"$work/node.log" &
node=$!
stop_node() {
  if kill -0 "$node" 2>/dev/null; then
    kill -TERM "$node" 2>/dev/null || true
    # Bounded: a node that does not stop within 30 s is killed.
    for _ in $(seq 1 300); do
      kill -0 "$node" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$node" 2>/dev/null || true
  fi
  wait "$node" 2>/dev/null || true
}
trap stop_node EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The client port opens once storage is open and the order has elected
# this node (bounded: 30 s).
for _ in $(seq 1 300); do
  if ! kill -0 "$node" 2>/dev/null; then
    echo "shardbearerd exited during start-up:" >&2
    cat "$work/node.log" >&2
    exit 1
  fi
  if (exec 3<>"/dev/tcp/$client_host/$client_port") 2>/dev/null; then break; fi
  sleep 0.1
done

echo "== a put and a get through the Python client"
PYTHONPATH="clients/python:build/clients/python/gen-py" /usr/bin/python3 - \
  "$client_host" "$client_port" <<'PY'
import sys
from shardbearer_client import Client

c = Client(sys.argv[1], int(sys.argv[2]))
c.put(b"greeting", b"hello, shardbearer")
print("put  greeting = hello, shardbearer")
value = c.get(b"greeting")
print("get  greeting -> " + value.decode())
c.close()
if value != b"hello, shardbearer":
    sys.exit("unexpected value")
PY

echo "== shardbearerd serves on $client_address (Ctrl-C stops it)"
if [ -z "${SB_QUICKSTART_SECONDS:-}" ]; then
  # Ctrl-C reaches the node too: it stops cleanly and exits 0.
  status=0
  wait "$node" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "shardbearerd exited with status $status; log:" >&2
    tail -n 20 "$work/node.log" >&2
  fi
  echo "== stopped"
  exit "$status"
fi
sleep "$SB_QUICKSTART_SECONDS" &
sleeper=$!
# Whichever ends first: the node, or the requested run time.
while kill -0 "$node" 2>/dev/null && kill -0 "$sleeper" 2>/dev/null; do
  sleep 0.2
done
kill "$sleeper" 2>/dev/null || true
wait "$sleeper" 2>/dev/null || true
if ! kill -0 "$node" 2>/dev/null; then
  echo "shardbearerd stopped on its own; log:" >&2
  tail -n 20 "$work/node.log" >&2
  exit 1
fi
stop_node
echo "== stopped"
