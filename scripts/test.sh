#!/usr/bin/env bash
# Runs the whole Shardbearer test suite:
#   1. installs the Debian packages it needs (scripts/setup.sh),
#   2. builds everything (RelWithDebInfo) and runs every ctest label,
#   3. builds again with AddressSanitizer + UndefinedBehaviorSanitizer and
#      runs the unit, conformance and wire suites under them.
# Long soak / simulation runs are opt-in through environment variables
# (docs/testing.md); the default is bounded for CI (2 cores, < 30 min).
#
# Options: --no-sanitize  skip step 3.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    *) echo "test.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

scripts/setup.sh
jobs=$(nproc)

echo "== build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
echo "== tests"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 900

if [ "$sanitize" = 1 ]; then
  echo "== build (ASan + UBSan)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSB_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  echo "== unit, conformance and wire tests under ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 900 \
      -L '^(unit|conformance|wire)$'
fi
