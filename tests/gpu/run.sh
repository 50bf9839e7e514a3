#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU and CUDA but no UCX and no
# package registry, builds RRTO with the Debian packages carried in
# .deps/debs (see fetch-debs.sh), then runs the end-to-end tests against
# rrto-server with the cuda backend. Prints a summary at the end.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deps=$root/.deps/root
build=$root/build-gpu
cd "$root"

nvidia-smi -L || { echo "no NVIDIA GPU here"; exit 1; }
ls .deps/debs/*.deb >/dev/null 2>&1 || { echo "no .deps/debs: run tests/gpu/fetch-debs.sh where apt works"; exit 1; }
rm -rf "$deps" && mkdir -p "$deps"
for f in .deps/debs/*.deb; do dpkg -x "$f" "$deps"; done

multiarch=x86_64-linux-gnu
export PATH="$deps/usr/bin:/usr/local/cuda/bin:$PATH"
export LD_LIBRARY_PATH="$deps/usr/lib/$multiarch:$deps/usr/lib:${LD_LIBRARY_PATH:-}"
export PKG_CONFIG_PATH="$deps/usr/lib/$multiarch/pkgconfig:$deps/usr/share/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$deps"
# UCX finds its transport modules relative to its own install prefix.
export UCX_MODULE_DIR="$deps/usr/lib/$multiarch/ucx"

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$deps/usr;$deps/usr/lib/$multiarch/cmake" \
  -DCMAKE_CUDA_ARCHITECTURES=90 || exit 1
cmake --build "$build" -j "$(nproc)" || exit 1

echo "== unit tests"
(cd "$build" && ctest --output-on-failure -E '^e2e\.' -j 8)
unit=$?
echo "== end-to-end tests, cuda backend"
(cd "$build" && RRTO_E2E_BACKEND=cuda ctest --output-on-failure -R '^e2e\.')
e2e=$?
echo "== runtime-API programs (cuBLAS, PyTorch) directly and through RRTO"
tests/gpu/cudart_programs.sh "$build"
cudart=$?
echo "== summary: unit tests exit $unit, cuda end-to-end tests exit $e2e, runtime-API programs failed $cudart"
[ $unit -eq 0 ] && [ $e2e -eq 0 ] && [ $cudart -eq 0 ]
