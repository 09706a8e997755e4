#!/usr/bin/env bash
# Issue 3's collectives benchmark on this machine: float32 all_reduce, 4K..256M, for 2 and 4 ranks over gRPC,
# MPI (dtrain's ring on MPI point-to-point), the MPI library's own MPI_Allreduce, and in-process threads.
# Every table has a memcpy column: one in-process copy of the buffer, the bound no transport beats.
# Usage: bench/collectives.sh [ITERS] [SIZES]   (defaults: 10, 4K..256M)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
iters=${1:-10}
sizes=${2:-4K..256M}
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
for ranks in 2 4; do
  for run in "grpc all_reduce" "mpi all_reduce" "mpi native_all_reduce" "inproc all_reduce"; do
    set -- $run
    "$dtrain" bench collectives --transport "$1" --op "$2" --ranks "$ranks" --sizes "$sizes" --iters "$iters" --warmup 3
  done
done
