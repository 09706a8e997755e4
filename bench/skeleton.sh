#!/usr/bin/env bash
# Benchmark of issue 2's bar: `dtrain run` (defaults: 2 workers, 300 steps, batch 64 per rank) must reach
# >= 95% held-out accuracy in < 60 s wall time. Anchor, measured in the same run: 1 worker at batch 128,
# the same samples per step in one process. Prints the median of N runs of each (default 5) and their ratio.
# Wall time is the whole command, process start to exit: silo, worker processes, TorchSharp load, training.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"

measure() { # label, args...
  local label=$1; shift
  local times=() accs=()
  for _ in $(seq "$runs"); do
    local start end out
    start=$(date +%s.%N)
    out=$("$dtrain" run --device cpu "$@" 2>&1 | tail -1)
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}')")
    accs+=("$(echo "$out" | sed -E 's/.*held-out accuracy ([0-9.]+) %.*/\1/')")
  done
  local t a
  t=$(printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  a=$(printf '%s\n' "${accs[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')
  printf '%-34s median wall %6.2f s   median held-out accuracy %s %%   (runs: %s)\n' "$label" "$t" "$a" "${times[*]}" >&2
  echo "$t"
}

two=$(measure "dtrain run (2 workers, batch 64)")
one=$(measure "anchor: 1 worker, batch 128" --workers 1 --batch-size 128)
awk -v a="$two" -v b="$one" 'BEGIN {printf "ratio 2-worker / 1-worker wall time: %.2fx\n", a / b}' >&2
