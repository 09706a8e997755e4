#!/usr/bin/env bash
# Issue 6's benchmark: mini-batch neighbour sampling (fanouts 15,10,5 by hop from the seeds, batch 1024) on an
# R-MAT graph of 2^20 nodes and 20M drawn edges, generated in the bench process. Rows: the whole graph in one
# partition, sampled locally (the anchor, measured in the same run); 2 METIS partitions served over loopback gRPC,
# rank 0 alone and both ranks at once. Sampled edges/s, inputs and feature bytes per batch, remote requests,
# epoch time (measured). Target: >= 5 M sampled edges/s locally.
# Each table is printed RUNS times (default 1); further flags go to every run.
# Usage: bench/sampler.sh [RUNS] [MORE dtrain bench sampler FLAGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1}
shift || true
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
for _ in $(seq "$runs"); do
  "$root/src/Launcher/bin/Release/net10.0/dtrain" bench sampler --scale 20 --edges 20000000 --fanouts 15,10,5 --batch 1024 \
    --partitions 1,2 --method metis --batches 30 --warmup 3 --epoch "$@"
done
