#!/usr/bin/env bash
# The ceiling a transport puts on dtrain's ring all-reduce on this machine: two local processes (ranks A and B)
# exchange 32 MiB in both directions at once, the pattern of one step of a 2-rank ring all-reduce, over raw TCP
# (one connection per direction) and over HTTP/2 (Kestrel h2c server, HttpClient streaming request body, the
# protocol under gRPC). Each process allocates its buffers once, runs 3 warm-up exchanges, then 10 timed ones.
# A run's GB/s is the slower rank's median exchange (32 MiB one way / time); its CPU is the user + sys time of
# both processes over the timed exchanges, per exchange. Prints, per mode, each run and the medians over runs.
# Usage: bench/transport-ceiling.sh [RUNS]   (default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
project="$root/bench/transport-ceiling"
dotnet build "$project/TransportCeiling.csproj" -c Release -v quiet -nologo >/dev/null ||
  { dotnet build "$project/TransportCeiling.csproj" -c Release -v quiet -nologo; exit 1; }  # again, to show why
dll="$project/bin/Release/net10.0/Dtrain.TransportCeiling.dll"

work=$(mktemp -d)
pids=()
cleanup() {
  # timeout passes TERM on to its rank and KILLs it 5 s later if it is still there.
  if ((${#pids[@]})); then kill -TERM "${pids[@]}" 2>/dev/null || true; wait "${pids[@]}" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

run_pair() { # mode, run -> sets run_gbps (the slower rank's) and run_cpu (both ranks' ms added)
  local dir="$work/$1-$2" rank pid failed=0
  mkdir "$dir"
  pids=()
  for rank in A B; do
    timeout -k 5 120 dotnet "$dll" "$1" "$rank" "$dir" >"$dir/$rank.out" 2>"$dir/$rank.err" &
    pids+=($!)
  done
  # when the first rank to finish failed, stop the other instead of waiting for its timeout
  wait -n "${pids[@]}" || { failed=1; kill -TERM "${pids[@]}" 2>/dev/null || true; }
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  pids=()
  if ((failed)) || [[ $(cat "$dir"/A.out "$dir"/B.out | grep -c '^RESULT') != 2 ]]; then
    echo "$1 run $2 failed:" >&2
    tail -n 5 "$dir"/*.out "$dir"/*.err >&2
    exit 1
  fi
  read -r run_gbps run_cpu < <(grep -h '^RESULT' "$dir"/A.out "$dir"/B.out |
    sed -E 's/.* gbps=([0-9.]+) cpu_ms=([0-9.]+).*/\1 \2/' |
    awk 'NR == 1 || $1 < g {g = $1} {c += $2} END {printf "%.3f %.1f\n", g, c}')
}

echo "# transport ceiling: 2 local processes exchange 32 MiB both ways at once; per run the slower rank's median of"
echo "# 10 timed exchanges after 3 warm-up; CPU = user+sys of both processes per timed exchange; runs per mode: $runs"
for mode in tcp http2; do
  gbps=() cpu=()
  for run in $(seq "$runs"); do
    run_pair "$mode" "$run"   # not in a subshell: the EXIT trap must see the ranks' pids
    gbps+=("$run_gbps") cpu+=("$run_cpu")
  done
  printf '%-6s median %6.3f GB/s per exchange, %6.1f ms CPU per exchange   (runs, GB/s: %s; CPU ms: %s)\n' "$mode" \
    "$(printf '%s\n' "${gbps[@]}" | median)" "$(printf '%s\n' "${cpu[@]}" | median)" "${gbps[*]}" "${cpu[*]}"
done
