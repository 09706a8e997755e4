#!/usr/bin/env bash
# Issue 9's benchmark 1, framework overhead: one worker's training step through dtrain (`dtrain bench overhead`)
# against the same model, data and optimizer in PyTorch eager (bench/overhead.py), one after the other on the same
# device, for the MLP and the transformer LM; prints both tables and the ratio dtrain/PyTorch of the median step
# times. Target: at most 1.03.
# Usage: bench/overhead.sh [DEVICE]     (DEVICE: cuda (default), cpu or auto)
# DTRAIN: the dtrain command (default: this checkout's build; bench/gpu.sh sets scripts/run-gpu.sh).
# OVERHEAD_MLP, OVERHEAD_LM: each model's flags, for both sides (defaults below: sizes for a GPU).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
device=${1:-cuda}
if ! python3 -c 'import torch, numpy' 2>/dev/null; then
  echo "bench/overhead.sh: PyTorch (with numpy) is not installed here, so there is nothing to compare with; run it on a host with PyTorch" >&2
  exit 1
fi
dtrain=${DTRAIN:-$root/src/Launcher/bin/Release/net10.0/dtrain}
# The MLP of ../shared/reference/gpu.md's measurement (4 x 4096, batch 8192) and a ~25M-parameter LM.
declare -A sizes=(
  [mlp]=${OVERHEAD_MLP:-"--width 4096 --layers 4 --batch 8192 --warmup 10 --steps 50"}
  [transformer-lm]=${OVERHEAD_LM:-"--width 512 --layers 6 --heads 8 --context 256 --vocabulary 4096 --batch 32 --warmup 10 --steps 50"}
)
for model in mlp transformer-lm; do
  # shellcheck disable=SC2086
  flags=(--model "$model" ${sizes[$model]} --device "$device")
  ours=$("$dtrain" bench overhead --ranks 1 "${flags[@]}")
  theirs=$(python3 "$root/bench/overhead.py" "${flags[@]}")
  printf '%s\n%s\n' "$ours" "$theirs"
  # Rows are the lines that do not start with '#': column 5 is the parameter count, 6 the median step time.
  row() { grep -v '^#' <<<"$1"; }
  awk -v model="$model" -v ours="$(row "$ours")" -v theirs="$(row "$theirs")" 'BEGIN {
    split(ours, a); split(theirs, b)
    if (a[5] != b[5]) { printf "%s: the models differ: %s parameters in dtrain, %s in PyTorch\n", model, a[5], b[5]; exit 1 }
    printf "# %s: dtrain / PyTorch eager median step time = %.3f (%s ms / %s ms)\n", model, a[6] / b[6], a[6], b[6] }'
done
