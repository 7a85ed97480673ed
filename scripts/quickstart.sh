#!/usr/bin/env bash
# The main job: install packages, build, and run a Shardbearer node.
#
# Today this starts one radiant on a fresh data directory under /tmp with
# the example configuration config/single-node.toml: it loads every plugin
# the configuration names, opens its storage, reports what it loaded, and
# runs until Ctrl-C (or for SB_QUICKSTART_SECONDS seconds when that is set).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
echo "== build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target shardbearerd
# Plugins are separate targets: build them all.
cmake --build build -j"$(nproc)" --target sb_all_plugins

work=$(mktemp -d /tmp/shardbearer-quickstart.XXXXXX)
sed "s|^data_dir = .*|data_dir = \"$work/single\"|" config/single-node.toml \
  > "$work/node.toml"
echo "== configuration $work/node.toml"
build/host/shardbearerd --check-config "$work/node.toml"

echo "== starting shardbearerd (Ctrl-C stops it)"
if [ -n "${SB_QUICKSTART_SECONDS:-}" ]; then
  timeout --signal=TERM --preserve-status "$SB_QUICKSTART_SECONDS" \
    build/host/shardbearerd --config "$work/node.toml"
else
  exec build/host/shardbearerd --config "$work/node.toml"
fi
