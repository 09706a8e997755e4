#!/usr/bin/env bash
# Issue 7's failure figures: detection time, restart time and lost work per failure of a 4-worker job that
# checkpoints every 20 steps. Each trial starts `dtrain run --max-restarts 1`, waits a random 6-12 s, then either
# SIGKILLs a random worker (found by its process exiting) or SIGSTOPs one (found by its missing heartbeats, 5 s
# timeout), and reads the launcher's lines, timestamped here as they arrive.
# Usage: bench/restart.sh [TRIALS_PER_KIND]   (results go in docs/benchmarks.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-5}
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

printf '%-6s %5s %12s %12s %10s\n' kind trial detect_s restart_s lost_steps
for kind in kill stop; do
  for trial in $(seq "$trials"); do
    rm -rf "$work/checkpoints"
    log="$work/run.log"
    "$dtrain" run --workers 4 --steps 1500 --device cpu --checkpoint-every 20 --checkpoint-dir "$work/checkpoints" \
      --max-restarts 1 --port $((30000 + RANDOM % 20000)) 2>&1 |
      while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done > "$log" &
    sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 6 + 6 * r / 32767 }')"
    victim=$(pgrep -f "dtrain worker" | shuf -n 1)
    disturbed=$(date +%s.%N)
    if [ "$kind" = kill ]; then kill -KILL "$victim"; else kill -STOP "$victim"; fi
    wait
    detected_at=$(grep -m1 'restarting from step' "$log" | cut -d' ' -f1)
    lost=$(grep -m1 -o '([0-9]* steps lost' "$log" | tr -dc '0-9')
    restart=$(grep -m1 -o '[0-9.]* s after the restart began' "$log" | cut -d' ' -f1)
    awk -v t0="$disturbed" -v t1="$detected_at" -v kind="$kind" -v trial="$trial" -v restart="$restart" -v lost="$lost" \
      'BEGIN { printf "%-6s %5d %12.2f %12.2f %10s\n", kind, trial, t1 - t0, restart, lost }'
  done
done
