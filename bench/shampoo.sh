#!/usr/bin/env bash
# Issue 4's benchmark: step time of Distributed Shampoo against AdamW on the same MLP (defaults: 512 wide, 4 hidden
# layers, batch 256 per rank, max_preconditioner_dim 512, 100 timed steps, for Shampoo rounded up to whole precondition
# cycles) at precondition_frequency 1, 10 and 100, with the all-gather bytes per step, for 1, 2 and 4 ranks over gRPC.
# The paper's bar: at most 10% step-time overhead over diagonal methods with the preconditioner work distributed.
# Each table is printed RUNS times (default 1); further flags go to every run.
# Usage: bench/shampoo.sh [RUNS] [MORE dtrain bench shampoo FLAGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1}
shift || true
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
for ranks in 1 2 4; do
  for _ in $(seq "$runs"); do
    "$dtrain" bench shampoo --ranks "$ranks" "$@"
  done
done
