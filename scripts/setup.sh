#!/usr/bin/env bash
# Installs every Debian package Shardbearer needs to build, test, package
# and benchmark. Idempotent; run as root on Debian 12.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake ninja-build pkg-config g++ clang clang-format dpkg-dev git
  # libraries (design card)
  libboost-dev libboost-filesystem-dev
  libthrift-dev thrift-compiler python3-thrift libevent-dev libssl-dev
  librocksdb-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libgtest-dev
  libbpf-dev bpftool linux-libc-dev
  # tests: namespaces, tc, certificates
  iproute2 openssl procps
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: run as root (it installs Debian packages)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi
echo "setup.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
