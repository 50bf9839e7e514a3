#!/usr/bin/env bash
# Run on a development machine with Debian's package registry: downloads the
# Debian packages the GPU machine lacks into .deps/debs (ignored by git), for
# tests/gpu/run.sh to unpack there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$root/.deps/debs"
cd "$root/.deps/debs"
apt-get download libucx0 libucx-dev libibverbs1 libibverbs-dev librdmacm1 libnuma1 nlohmann-json3-dev \
  doctest-dev libfmt9 libfmt-dev libzstd-dev pkgconf pkgconf-bin libpkgconf3 ninja-build \
  libcpp-httplib0.11 libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libbrotli1 etcd-server libpng-dev libpng16-16
ls -1 "$root/.deps/debs"
