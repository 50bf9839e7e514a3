#!/usr/bin/env bash
# rrto-trace end to end: gen, stats, search (text and --json), and the exit
# codes for bad usage (1) and bad files (2).
set -u
tool="$1"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
failures=0

expect() {  # expect CODE DESCRIPTION -- command...
  local want="$1" what="$2"
  shift 3
  "$@" >"$dir/out" 2>"$dir/err"
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: exit $got, wanted $want"
    cat "$dir/out" "$dir/err"
    failures=$((failures + 1))
  fi
}

contains() {  # contains FILE TEXT DESCRIPTION
  if ! grep -q -- "$2" "$1"; then
    echo "FAIL: $3: '$2' not in output"
    cat "$1"
    failures=$((failures + 1))
  fi
}

expect 0 "gen" -- "$tool" gen "$dir/bert.trace" --model bert:2 --iterations 6 --noise --changing-scalar
expect 0 "stats" -- "$tool" stats "$dir/bert.trace"
contains "$dir/out" "distinct kernels" "stats text"
expect 0 "stats --json" -- "$tool" stats "$dir/bert.trace" --json
contains "$dir/out" '"distinct_kernels"' "stats json"
expect 0 "search" -- "$tool" search "$dir/bert.trace"
contains "$dir/out" "iteration: 709 ops" "search text"
# Six inferences, the first unlike the others (it initialises a library).
contains "$dir/out" "  5 occurrences: 2 that confirmed it + 3 matched after" "search occurrences"
expect 0 "search --json" -- "$tool" search "$dir/bert.trace" --json
contains "$dir/out" '"iteration_length": 709' "search json"
contains "$dir/out" '"kernel": "embedding_gather"' "search json variable"
contains "$dir/out" '"confirming_occurrences": 2' "search json confirming"
contains "$dir/out" '"occurrences_after_confirmation": 3' "search json after confirmation"
contains "$dir/out" '"copies_before_boundary": 0' "search json before the boundary"

expect 0 "gen alternating" -- "$tool" gen "$dir/alt.trace" --model resnet50:4,detector:4 --iterations 8
expect 0 "search alternating" -- "$tool" search "$dir/alt.trace" --json
contains "$dir/out" '"id": 2' "two templates"

expect 0 "gen random" -- "$tool" gen "$dir/random.trace" --model random --ops 20000
expect 0 "search random" -- "$tool" search "$dir/random.trace"
contains "$dir/out" "no repeating iteration" "random search"

head -c 5000 "$dir/bert.trace" >"$dir/cut.trace"
expect 2 "truncated file" -- "$tool" search "$dir/cut.trace"
contains "$dir/err" "offset" "truncation message"
echo "not a trace at all" >"$dir/junk.trace"
expect 2 "junk file" -- "$tool" stats "$dir/junk.trace" --json
contains "$dir/err" "bad magic" "junk message"
expect 2 "missing file" -- "$tool" stats "$dir/nothing.trace"
expect 1 "no command" -- "$tool"
expect 1 "unknown command" -- "$tool" frobnicate
expect 1 "bad option value" -- "$tool" search "$dir/bert.trace" --repeats many
expect 1 "bad model" -- "$tool" gen "$dir/x.trace" --model vgg

if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "rrto-trace CLI: all checks passed"
