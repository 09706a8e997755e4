#!/usr/bin/env bash
# Issue 3's two bars, 2 ranks, 64 MiB float32 all_reduce: gRPC busbw (bar: >= 2.0 GB/s) and dtrain's ring over
# MPI against MPICH's own MPI_Allreduce (bar: >= 0.95x). The three runs alternate, REPS times (default 5), so
# that the machine's noise falls on all of them alike; the medians and the ratio are printed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
reps=${1:-5}
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
busbw() { "$dtrain" bench collectives --ranks 2 --sizes 64M --iters 10 --warmup 3 "$@" | awk '$1 == "64M" {print $4}'; }
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
grpc=() ring=() native=()
for _ in $(seq "$reps"); do
  grpc+=("$(busbw --transport grpc)")
  ring+=("$(busbw --transport mpi)")
  native+=("$(busbw --transport mpi --op native_all_reduce)")
done
g=$(printf '%s\n' "${grpc[@]}" | median); r=$(printf '%s\n' "${ring[@]}" | median); n=$(printf '%s\n' "${native[@]}" | median)
echo "grpc ring busbw GB/s:           ${grpc[*]}  median $g"
echo "mpi ring busbw GB/s:            ${ring[*]}  median $r"
echo "mpi MPI_Allreduce busbw GB/s:   ${native[*]}  median $n"
awk -v r="$r" -v n="$n" 'BEGIN {printf "ring over MPI / MPI_Allreduce: %.2fx\n", r / n}'
