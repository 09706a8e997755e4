#!/usr/bin/env bash
# False deaths under load: RUNS runs of `dtrain run --workers N --steps 30` on this machine with the default
# heartbeat timeout and nothing killed. A run that fails, or that restarts (a rank declared lost), counts as a false
# death. Usage: bench/many-workers.sh [WORKERS] [RUNS]   (results go in docs/benchmarks.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
workers=${1:-32} runs=${2:-5}
"$root/dtrain" --help >/dev/null   # installs and builds first
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
deaths=0
for run in $(seq "$runs"); do
  code=0
  start=$(date +%s.%N)
  "$dtrain" run --workers "$workers" --steps 30 --device cpu --port $((15000 + run * 10)) --run-dir "$work/run-$run" > "$work/run-$run.out" 2>&1 || code=$?
  seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
  lost=$(grep -c 'was lost' "$work/run-$run.out" || true)
  [ "$code" -eq 0 ] && [ "$lost" -eq 0 ] || deaths=$((deaths + 1))
  echo "run $run: exit $code, $lost lost-rank lines, ${seconds} s, load $(cut -d' ' -f1 /proc/loadavg)"
  [ "$code" -eq 0 ] || tail -n 3 "$work/run-$run.out"
done
echo "$workers workers, $runs runs: $deaths with a false death"
