#!/usr/bin/env bash
# dtrain's gRPC transport on each data channel against PyTorch's gloo, side by side in one run: float32 all_reduce
# (sum) of 64 KiB and 64 MiB, 2 and 4 local ranks, 10 timed calls after 3 warm-up (the slowest rank's mean). The
# runs alternate REPS times (default 3), so that the machine's noise falls on all of them alike; then, per rank
# count, the medians: 64 KiB latency (us) and 64 MiB busbw (GB/s), and each channel's ratio to gloo.
# gloo runs in Debian trixie's PyTorch through ../shared/tools/anchor-python.sh (a chroot; see that script).
# Usage: bench/collectives-vs-gloo.sh [REPS] [RANKS...]   (defaults: 3, then 2 4)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-3}
shift || true
rank_counts=("${@:-2 4}")
read -r -a rank_counts <<<"${rank_counts[*]}"
anchor="$root/../shared/tools/anchor-python.sh"
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
channels=(shm tcp http2)
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A latency busbw   # key: "ranks channel" -> space-separated values per rep
for ranks in "${rank_counts[@]}"; do
  for _ in $(seq "$reps"); do
    for channel in "${channels[@]}"; do
      out=$("$dtrain" bench collectives --transport grpc --data-channel "$channel" --ranks "$ranks" --sizes 64K..64M --iters 10 --warmup 3)
      latency["$ranks $channel"]+=" $(awk '$1 == "64K" {print $2}' <<<"$out")"
      busbw["$ranks $channel"]+=" $(awk '$1 == "64M" {print $4}' <<<"$out")"
    done
    out=$(cd "$root" && "$anchor" python3 bench/gloo_allreduce.py --ranks "$ranks" --sizes 65536 67108864 --iters 10 --warmup 3)
    latency["$ranks gloo"]+=" $(awk '$1 == 65536 {print $2}' <<<"$out")"
    busbw["$ranks gloo"]+=" $(awk '$1 == 67108864 {print $3}' <<<"$out")"
  done
  echo "# $ranks ranks, float32 all_reduce, medians of $reps alternating runs (10 timed calls each)"
  printf '%-8s %14s %12s %16s %12s   %s\n' channel "64K time(us)" "vs gloo" "64M busbw(GB/s)" "vs gloo" "runs: 64K us | 64M GB/s"
  gl=$(tr ' ' '\n' <<<"${latency["$ranks gloo"]}" | grep . | median)
  gb=$(tr ' ' '\n' <<<"${busbw["$ranks gloo"]}" | grep . | median)
  for channel in "${channels[@]}" gloo; do
    l=$(tr ' ' '\n' <<<"${latency["$ranks $channel"]}" | grep . | median)
    b=$(tr ' ' '\n' <<<"${busbw["$ranks $channel"]}" | grep . | median)
    # latency: gloo's time / ours (above 1 is faster than gloo); bandwidth: ours / gloo's
    LC_ALL=C awk -v c="$channel" -v l="$l" -v b="$b" -v gl="$gl" -v gb="$gb" -v rl="${latency["$ranks $channel"]}" -v rb="${busbw["$ranks $channel"]}" \
      'BEGIN {printf "%-8s %14.1f %11.2fx %16.3f %11.2fx   %s |%s\n", c, l, gl / l, b, b / gb, rl, rb}'
  done
done
