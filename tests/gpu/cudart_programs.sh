#!/usr/bin/env bash
# Part of tests/gpu/run.sh (which sets up PATH, LD_LIBRARY_PATH and UCX):
# the runtime-API feature checks directly on the GPU, then stock runtime-API
# programs - a cuBLAS SGEMM, a cuDNN convolution and a PyTorch CNN - run once
# directly on the GPU and once through RRTO's libcuda.so.1 against an
# rrto-server with the cuda backend on this machine; the outputs must agree.
# Where a run through RRTO fails, prints what the client lacked: its warnings
# (unknown export tables and slots, unsupported features) and the entry points
# the program's libraries asked cuGetProcAddress for that it does not have.
#
#   cudart_programs.sh BUILD_DIR      exit status: number of failed programs
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
work=$(mktemp -d /tmp/rrto-gpu-cudart.XXXXXX)
failed=0

nvcc -O2 -o "$work/cublas_sgemm" "$root/tests/gpu/cublas_sgemm.cu" -lcublas || exit 1
nvcc -O2 -o "$work/cudnn_conv" "$root/tests/gpu/cudnn_conv.cu" -lcudnn || exit 1

cat > "$work/server.json" <<EOF
{"listen": "127.0.0.1:0", "backend": "cuda"}
EOF
"$build/bin/rrto-server" --config "$work/server.json" --port-file "$work/port" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "rrto-server did not start:"; cat "$work/server.log"; exit 1; }
address=127.0.0.1:$(cat "$work/port")

# through_rrto NAME COMMAND...: the command with the client's libcuda.so.1.
through_rrto() {
  local name=$1
  shift
  LD_LIBRARY_PATH="$build/lib:${LD_LIBRARY_PATH:-}" RRTO_SERVER=$address RRTO_MODE=async RRTO_LOG=debug \
    RRTO_STATS=1 "$@" > "$work/$name.out" 2> "$work/$name.log"
}

explain_failure() {
  local name=$1
  echo "-- $name through RRTO failed; its output:"
  tail -n 5 "$work/$name.out"
  grep -v '^\[' "$work/$name.log" | tail -n 5
  echo "-- client warnings:"
  grep -E ' (warn|error)\]' "$work/$name.log" | sort -u | head -n 20
  echo "-- entry points asked for and not implemented (the failing call is among them):"
  sed -n 's/.*cuGetProcAddress: \(cu[A-Za-z0-9_]*\) (.* is not implemented.*/\1/p' "$work/$name.log" | sort -u |
    tr '\n' ' ' | fold -w 120
  echo
}

# The runtime-API feature checks, directly on the GPU: what they expect of a
# real driver (the e2e tests run them through RRTO).
for program in cudart_features host_functions pitched_2d launch_attributes mapped_memory driver_entry_points cublas_probe; do
  echo "== $program on the GPU"
  "$build/bin/$program" > "$work/$program.out" 2>&1 || {
    failed=$((failed + 1))
    cat "$work/$program.out"
  }
  tail -n 1 "$work/$program.out"
done

# same_bytes PROGRAM: `PROGRAM OUTPUT.bin` run directly on the GPU and through
# RRTO; exact inputs (small integers), so both must give the same bytes.
same_bytes() {
  local name=$1 program=$1
  echo "== $name"
  if "$work/$program" "$work/${name}_gpu.bin" && through_rrto "$name" "$work/$program" "$work/${name}_rrto.bin" &&
    cmp -s "$work/${name}_gpu.bin" "$work/${name}_rrto.bin"; then
    echo "$name: same result through RRTO"
  else
    failed=$((failed + 1))
    [ -f "$work/${name}_rrto.bin" ] && echo "$name: outputs differ"
    explain_failure "$name"
  fi
}
same_bytes cublas_sgemm
same_bytes cudnn_conv

# PyTorch CNN, ten inferences under no_grad.
echo "== torch_cnn"
if ! python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
  echo "torch_cnn: no PyTorch with CUDA here, skipped"
elif python3 "$root/tests/gpu/torch_cnn.py" "$work/torch_gpu.pt" &&
  through_rrto torch python3 "$root/tests/gpu/torch_cnn.py" "$work/torch_rrto.pt" &&
  python3 -c 'import sys, torch; a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2]); assert torch.allclose(a, b, rtol=1e-5, atol=1e-6), (a - b).abs().max()' \
    "$work/torch_gpu.pt" "$work/torch_rrto.pt"; then
  echo "torch_cnn: same outputs through RRTO"
else
  failed=$((failed + 1))
  explain_failure torch
fi

echo "== cudart programs: $failed failed (logs in $work)"
exit $failed
