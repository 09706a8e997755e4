#!/usr/bin/env bash
# Issue 5's benchmark: C = A B on 4 ranks (a 2 x 2 grid) over gRPC for n = 1024, 2048 and 4096, with Cannon's
# algorithm, SUMMA, the all-gather baseline and one process (the anchor, measured in the same run): time,
# GFLOP/s, bytes sent and peak bytes held per rank. Targets: bytes sent per rank within 5% of 2n^2/sqrt(P)
# elements, peak <= 5 blocks of n^2/P, Cannon >= 1.24x the all-gather baseline at 4096.
# Each table is printed RUNS times (default 1); further flags go to every run.
# Usage: bench/cannon.sh [RUNS] [MORE dtrain bench cannon FLAGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-1}
shift || true
"$root/dtrain" --help >/dev/null   # installs and builds first, outside the timings
for _ in $(seq "$runs"); do
  "$root/src/Launcher/bin/Release/net10.0/dtrain" bench cannon --ranks 4 "$@"
done
