#!/usr/bin/env bash
# Issue 7's failure figures: detection time, restart time and lost work per failure.
#  - kill / stop: a 4-worker `dtrain run --max-restarts 1` that checkpoints every 20 steps; after a random 6-12 s
#    one random worker is SIGKILLed (found by its process exiting, or by its peers' broken streams) or SIGSTOPped
#    (found by its missing heartbeats, 5 s timeout). The survivors recover in place and a replacement joins.
#  - coordinator: a standalone `dtrain coordinator --cluster redis` with 4 `dtrain worker`s; after a random 6-12 s
#    the coordinator is SIGKILLed and started again at once with the same flags; it takes the job over from Redis.
# The launcher's lines are timestamped here as they arrive.
# Usage: bench/restart.sh [TRIALS_PER_KIND]   (results go in docs/benchmarks.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-5}
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
work=$(mktemp -d)
trap 'pkill -f "redis-server 127.0.0.1:$redis_port" 2>/dev/null || true; rm -rf "$work"' EXIT
redis_port=$((20000 + RANDOM % 10000))
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done; }
random_wait() { sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 6 + 6 * r / 32767 }')"; }

printf '%-12s %5s %12s %12s %10s\n' kind trial detect_s restart_s lost_steps
for kind in kill stop; do
  for trial in $(seq "$trials"); do
    rm -rf "$work/checkpoints"
    log="$work/run.log"
    "$dtrain" run --workers 4 --steps 1500 --device cpu --checkpoint-every 20 --checkpoint-dir "$work/checkpoints" \
      --max-restarts 1 --port $((30000 + RANDOM % 20000)) 2>&1 | stamp > "$log" &
    random_wait
    victim=$(pgrep -f "dtrain worker" | shuf -n 1)
    disturbed=$(date +%s.%N)
    if [ "$kind" = kill ]; then kill -KILL "$victim"; else kill -STOP "$victim"; fi
    wait
    detected_at=$(grep -m1 'restarting from step' "$log" | cut -d' ' -f1)
    lost=$(grep -m1 -o '([0-9]* steps lost' "$log" | tr -dc '0-9')
    restart=$(grep -m1 -o '[0-9.]* s after the restart began' "$log" | cut -d' ' -f1)
    awk -v t0="$disturbed" -v t1="$detected_at" -v kind="$kind" -v trial="$trial" -v restart="$restart" -v lost="$lost" \
      'BEGIN { printf "%-12s %5d %12.2f %12.2f %10s\n", kind, trial, t1 - t0, restart, lost }'
  done
done

redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
export DTRAIN_JOB_SECRET=bench-secret
for trial in $(seq "$trials"); do
  rm -rf "$work/checkpoints"
  port=$((30000 + RANDOM % 20000))
  coordinator=("$dtrain" coordinator --job-id "takeover-$trial" --cluster redis --redis "127.0.0.1:$redis_port" --port "$port"
    --workers 4 --steps 3000 --device cpu --checkpoint-every 20 --checkpoint-dir "$work/checkpoints")
  "${coordinator[@]}" > "$work/first.log" 2>&1 &
  first=$!
  token=$("$dtrain" token --job-id "takeover-$trial")
  workers=()
  for rank in 1 2 3 4; do
    DTRAIN_JOB_TOKEN=$token "$dtrain" worker --coordinator "http://127.0.0.1:$port" --job-id "takeover-$trial" > "$work/worker-$rank.log" 2>&1 &
    workers+=($!)
  done
  random_wait
  killed=$(date +%s.%N)
  { kill -KILL "$first" && wait "$first"; } 2>/dev/null || true
  "${coordinator[@]}" 2>&1 | stamp > "$work/second.log"
  wait "${workers[@]}"
  took_over=$(grep -m1 'took over job' "$work/second.log" | cut -d' ' -f1)
  # The workers train on without their coordinator: no step is lost unless one had to rejoin ("of epoch 2").
  lost=$(cat "$work"/worker-*.log | grep -q 'of epoch 2' && echo rejoined || echo 0)
  awk -v t0="$killed" -v t1="$took_over" -v trial="$trial" -v lost="$lost" \
    'BEGIN { printf "%-12s %5d %12s %12.2f %10s\n", "coordinator", trial, "-", t1 - t0, lost }'
done
