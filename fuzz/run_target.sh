#!/usr/bin/env bash
# Runs one fuzz target for a bounded time: run_target.sh <fuzzer> <seconds>
# <seed corpus> <run dir>. New inputs go to <run dir>/corpus (the checked-in
# seeds are only read), a crashing input to <run dir>/crash-*; the exit status
# is non-zero when the target crashed, leaked or broke a check.
set -euo pipefail
fuzzer=$1 seconds=$2 seeds=$3 run=$4
mkdir -p "$run/corpus"
exec "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$run/" "$run/corpus" "$seeds"
