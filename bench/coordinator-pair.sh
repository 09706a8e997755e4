#!/usr/bin/env bash
# Losing one of two coordinators of a Redis-clustered job. Per trial: a fresh redis-server; coordinator B starts first
# (so it holds the job's grains), coordinator A second; two `dtrain worker`s join through A; after B's third committed
# checkpoint, B is SIGKILLed. A trial survives when both workers and A exit 0 with the parameter digest of the same
# job run without interruption (`dtrain run`, computed first), in one epoch (nobody restarted).
# Usage: bench/coordinator-pair.sh [TRIALS]   (results go in docs/benchmarks.md)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
trials=${1:-10}
"$root/dtrain" --help >/dev/null   # installs and builds first
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
job=(--steps 800 --device cpu --checkpoint-every 50 --workers 2)
free_port() { echo $((14000 + RANDOM % 1000 * 2)); }
digest() { grep -o 'sha256 [0-9a-f]*' "$1" | tail -1 | cut -d' ' -f2; }

"$dtrain" run "${job[@]}" --checkpoint-dir "$work/uninterrupted-ck" --port "$(free_port)" --run-dir "$work/uninterrupted" -q > "$work/uninterrupted.out"
expected=$(digest "$work/uninterrupted.out")
echo "uninterrupted digest: $expected"
export DTRAIN_JOB_SECRET=pair-secret
token=$("$dtrain" token --job-id pair)
survived=0
for t in $(seq "$trials"); do
  dir="$work/trial-$t"; mkdir -p "$dir"
  redis=$(free_port); a_port=$((21000 + RANDOM % 1000 * 8)); b_port=$((a_port + 4))
  redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" > /dev/null & redis_pid=$!
  sleep 0.5
  # exec: the background job is then the coordinator itself, so $! is the process to kill.
  coordinator() { exec "$dtrain" coordinator --job-id pair --cluster redis --redis "127.0.0.1:$redis" --port "$1" "${job[@]}" --checkpoint-dir "$dir/ck"; }
  coordinator "$b_port" > "$dir/b.out" 2>&1 & b=$!
  sleep 4
  coordinator "$a_port" > "$dir/a.out" 2>&1 & a=$!
  sleep 4
  for w in 1 2; do
    DTRAIN_JOB_TOKEN=$token "$dtrain" worker --coordinator "http://127.0.0.1:$a_port" --job-id pair > "$dir/w$w.out" 2>&1 &
    eval "w$w=\$!"
  done
  until [ "$(find "$dir/ck" -name manifest.json 2>/dev/null | wc -l)" -ge 3 ]; do sleep 0.1; done
  killed_at=$(ls "$dir/ck" | tail -1)
  kill -9 "$b"; wait "$b" 2>/dev/null || true
  if kill -0 "$b" 2>/dev/null; then echo "coordinator B (pid $b) survived SIGKILL" >&2; exit 1; fi
  codes=""
  for pid in "$w1" "$w2" "$a"; do code=0; timeout 150 tail --pid="$pid" -f /dev/null || code=124; wait "$pid" || code=$?; codes="$codes $code"; done
  kill "$redis_pid" 2>/dev/null || true
  got=$(digest "$dir/a.out" || true)
  epochs=$(grep -ho 'of epoch [0-9]*' "$dir/w1.out" "$dir/w2.out" | sort -u | tr '\n' ' ')
  verdict=lost
  if [ "$codes" = " 0 0 0" ] && [ "$got" = "$expected" ] && [ "$epochs" = "of epoch 1 " ]; then verdict=survived; survived=$((survived + 1)); fi
  echo "trial $t: B killed after ${killed_at#step-}; exit codes (workers, A):$codes; digest ${got:-none}; $epochs-> $verdict"
done
echo "survived $survived of $trials"
