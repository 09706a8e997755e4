#!/usr/bin/env bash
# Issue 9 on a GPU host, in one go (about 8 minutes on an H100-class GPU): the CUDA tests' equivalents as dtrain
# commands (each job on CUDA against the same job on the CPU), then the four benchmarks. Needs the bundle from
# scripts/publish-gpu.sh (.publish/dtrain-linux-x64.tar.xz) and PyTorch with numpy (its libtorch runs dtrain:
# scripts/run-gpu.sh). Writes each stage's output to $OUT/gpu-STAGE.txt too when OUT is set.
# Usage: bench/gpu.sh [STAGE...]   stages: tests overhead shampoo scaling cannon (default: all, in that order)
# Exits 1 if a test equivalent failed; the benchmarks' figures belong in docs/benchmarks.md.
# DTRAIN: the dtrain command (default: scripts/run-gpu.sh, the bundle against PyTorch's libtorch).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dtrain=${DTRAIN:-$root/scripts/run-gpu.sh}
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(tests overhead shampoo scaling cannon)
failures=0
port=29600

# Held-out accuracy from a run's summary line.
accuracy() { sed -n 's/.*held-out accuracy \([0-9.]*\) \{0,1\}%.*/\1/p' <<<"$1"; }

# NAME TOLERANCE ARGS...: `dtrain run ARGS` on CUDA must succeed, run every rank on CUDA and end within TOLERANCE
# points of held-out accuracy of the same job on the CPU.
same_as_cpu() {
  local name=$1 tolerance=$2 cuda cpu
  shift 2
  port=$((port + 2)); cuda=$("$dtrain" run --device cuda --port "$port" "$@" 2>&1)
  local cuda_code=$?
  port=$((port + 2)); cpu=$("$dtrain" run --device cpu --port "$port" "$@" 2>&1)
  local cpu_code=$? a b
  a=$(accuracy "$cuda"); b=$(accuracy "$cpu")
  if [ "$cuda_code" -ne 0 ] || [ "$cpu_code" -ne 0 ] || [ -z "$a" ] || [ -z "$b" ] || grep -q " on cpu, metrics" <<<"$cuda" \
    || ! awk -v a="$a" -v b="$b" -v t="$tolerance" 'BEGIN { d = a - b; exit !(d <= t && -d <= t) }'; then
    echo "FAIL $name (run $*): cuda exit $cuda_code accuracy ${a:-none}, cpu exit $cpu_code accuracy ${b:-none}"
    tail -n 3 <<<"$cuda"
    failures=$((failures + 1))
  else
    echo "PASS $name: cuda ${a} %, cpu ${b} % ($(grep -o 'wall time [0-9.]* s' <<<"$cuda") on cuda)"
  fi
}

stage_tests() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)'
  # CudaRunTests; the collectives' (CUDA gradient buckets staged through pinned memory, bf16 too), Shampoo's
  # (factors, eigh and all-gather of directions on CUDA) and Cannon's (CUDA blocks) equivalents.
  same_as_cpu mlp 1 --steps 100
  same_as_cpu graphsage 2 --model graphsage --steps 40 --batch-size 128
  same_as_cpu collectives-4-workers-bf16 1 --workers 4 --steps 100 --compression bf16 --bucket-mb 0.02
  same_as_cpu shampoo 1 --optimizer shampoo --steps 100
  same_as_cpu cannon-mlp 1 --model cannon-mlp --workers 4 --steps 60
  port=$((port + 2))
  if "$dtrain" run --device auto --steps 20 --port "$port" 2>&1 | grep -q "rank 0/2 of epoch 1 on cuda"; then
    echo "PASS auto picks cuda"
  else
    echo "FAIL auto did not pick cuda"; failures=$((failures + 1))
  fi
}

# Benchmark 1: framework overhead against PyTorch eager, one worker, MLP and transformer LM.
stage_overhead() { DTRAIN="$dtrain" "$root/bench/overhead.sh" cuda; }

# Benchmark 2: Shampoo against AdamW on the 4-layer 4096-wide MLP at batch 8192 (global), fp32, Adam grafting.
stage_shampoo() {
  local common=(bench shampoo --device cuda --width 4096 --layers 4 --frequencies 1,10,100 --warmup 2 --steps 10)
  "$dtrain" "${common[@]}" --ranks 1 --batch 8192 --max-preconditioner-dim 1024
  "$dtrain" "${common[@]}" --ranks 1 --batch 8192 --max-preconditioner-dim 4096
  "$dtrain" "${common[@]}" --ranks 2 --batch 4096 --max-preconditioner-dim 1024
}

# Benchmark 3: data-parallel scaling with 1, 2 and 4 workers sharing the GPU (batch per worker fixed).
stage_scaling() {
  for ranks in 1 2 4; do
    "$dtrain" bench overhead --device cuda --ranks "$ranks" --model mlp --width 1024 --layers 4 --batch 1024 --warmup 5 --steps 30
  done
  for ranks in 1 2 4; do
    "$dtrain" bench overhead --device cuda --ranks "$ranks" --model transformer-lm --width 512 --layers 6 --heads 8 --context 256 \
      --vocabulary 4096 --batch 16 --warmup 5 --steps 20
  done
}

# Benchmark 4: Cannon on CUDA blocks, 4 ranks on the GPU, against one process's matmul of the same size.
stage_cannon() { "$dtrain" bench cannon --device cuda --ranks 4 --sizes 4096,8192 --warmup 1 --repeats 3; }

for stage in "${stages[@]}"; do
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "bench/gpu.sh: unknown stage '$stage' (stages: tests overhead shampoo scaling cannon)" >&2
    exit 2
  fi
done
for stage in "${stages[@]}"; do
  echo "## $stage ($(date -u +%H:%M:%S))"
  if [ -n "${OUT:-}" ]; then
    "stage_$stage" > >(tee "$OUT/gpu-$stage.txt") 2>&1   # not a pipe: the stage must count its failures in this shell
  else
    "stage_$stage" 2>&1
  fi
done
echo "## done ($(date -u +%H:%M:%S)), $failures failed"
[ "$failures" -eq 0 ]
