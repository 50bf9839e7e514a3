# Sourced by scripts/demo, scripts/test and scripts/fuzz: installs what is
# missing (as root, with apt-get), configures and builds into build/ (and
# build-asan/, build-fuzz/: the ASan+UBSan and fuzz builds). Idempotent.

RRTO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RRTO_BUILD=${RRTO_BUILD:-$RRTO_ROOT/build}
RRTO_BUILD_ASAN=${RRTO_BUILD_ASAN:-$RRTO_ROOT/build-asan}
RRTO_BUILD_FUZZ=${RRTO_BUILD_FUZZ:-$RRTO_ROOT/build-fuzz}
RRTO_JOBS=${RRTO_JOBS:-$(nproc 2>/dev/null || echo 2)}

rrto_say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# rrto_install_packages [extra package...]
rrto_install_packages() {
  local packages=(cmake g++ ninja-build pkg-config python3 libucx-dev libibverbs-dev nlohmann-json3-dev
                  doctest-dev libfmt-dev libzstd-dev libcpp-httplib-dev libssl-dev libpng-dev etcd-server "$@")
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    return 1
  fi
  rrto_say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

rrto_find_cuda() {
  if [ -z "${CUDAToolkit_ROOT:-}" ]; then
    for d in /usr/local/cuda /usr/local/cuda-13.0 /usr/lib/cuda; do
      [ -f "$d/include/cuda.h" ] && export CUDAToolkit_ROOT=$d && break
    done
  fi
  if [ -z "${CUDAToolkit_ROOT:-}" ]; then
    echo "the CUDA toolkit (headers and nvcc) was not found; set CUDAToolkit_ROOT" >&2
    return 1
  fi
  export PATH="$CUDAToolkit_ROOT/bin:$PATH"
}

# rrto_build_in <build dir> [cmake option...]: configures the folder the
# first time (with these options), then builds it.
rrto_build_in() {
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    rrto_say "configuring $dir"
    cmake -S "$RRTO_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null || return 1
  fi
  rrto_say "building $dir (-j$RRTO_JOBS, log in $dir/build.log)"
  if ! cmake --build "$dir" -j "$RRTO_JOBS" >"$dir/build.log" 2>&1; then
    grep -E -B2 -A12 'error|Error' "$dir/build.log" | head -80 >&2
    echo "build failed; the whole log is $dir/build.log" >&2
    return 1
  fi
}

# The photographs the perf workloads' image models take as inputs
# (perf/workloads/photo_input.h): a few of scikit-image's sample images, taken
# out of Debian's python3-skimage package (downloaded, not installed: its
# Python dependencies are not needed). A workload without them falls back to
# random inputs and says so.
RRTO_PHOTOS=(astronaut.png chelsea.png coffee.png motorcycle_left.png)
rrto_download_skimage() {
  apt-get download -qq python3-skimage >/dev/null 2>&1 && return 0
  [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
    apt-get download -qq python3-skimage >/dev/null 2>&1
}
rrto_fetch_photos() {
  local dir=$1/perf-photos
  local missing=0
  for p in "${RRTO_PHOTOS[@]}"; do [ -f "$dir/$p" ] || missing=1; done
  [ $missing -eq 0 ] && return 0
  if [ "$1" != "$RRTO_BUILD" ] && [ -d "$RRTO_BUILD/perf-photos" ]; then  # another build's copy
    mkdir -p "$dir" && cp "$RRTO_BUILD"/perf-photos/*.png "$dir/" && return 0
  fi
  local tmp status=0
  tmp=$(mktemp -d) || return 1
  rrto_say "fetching sample photographs (python3-skimage) into $dir"
  if (cd "$tmp" && rrto_download_skimage && dpkg-deb -x python3-skimage_*.deb x); then
    mkdir -p "$dir"
    for p in "${RRTO_PHOTOS[@]}"; do cp "$tmp/x/usr/lib/python3/dist-packages/skimage/data/$p" "$dir/" || status=1; done
  else
    echo "could not fetch Debian's python3-skimage for its sample photographs" >&2
    status=1
  fi
  rm -rf "$tmp"
  return $status
}

rrto_build() {
  rrto_install_packages || return 1
  rrto_find_cuda || return 1
  rrto_build_in "$RRTO_BUILD" || return 1
  rrto_fetch_photos "$RRTO_BUILD"
}

# Everything built with ASan and UBSan; any finding stops the program.
rrto_build_sanitized() {
  rrto_install_packages || return 1
  rrto_find_cuda || return 1
  rrto_build_in "$RRTO_BUILD_ASAN" -DRRTO_SANITIZE=address,undefined || return 1
  rrto_fetch_photos "$RRTO_BUILD_ASAN"
}

# The libFuzzer targets of fuzz/ with clang-14 (ASan, UBSan), and only the
# folders they need.
rrto_build_fuzz() {
  rrto_install_packages clang-14 libclang-rt-14-dev || return 1
  rrto_find_cuda || return 1
  rrto_build_in "$RRTO_BUILD_FUZZ" -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DRRTO_SANITIZE=address,undefined -DRRTO_FUZZ=ON -DRRTO_BUILD_TESTS=OFF "-DRRTO_COMPONENTS=server;recorder"
}
