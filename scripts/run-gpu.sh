#!/usr/bin/env bash
# On a GPU host with PyTorch installed: unpacks the bundle from scripts/publish-gpu.sh (once) and runs dtrain
# against PyTorch's CUDA libtorch. Usage: scripts/run-gpu.sh run --device cuda
# DTRAIN_LIBTORCH=/path/to/torch/lib overrides where libtorch is found (default: python3's torch package).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle="$root/.publish/dtrain"
[ -x "$bundle/dtrain" ] || tar -C "$root/.publish" -xJf "$root/.publish/dtrain-linux-x64.tar.xz"
libtorch=${DTRAIN_LIBTORCH:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')}
# The bundle's own native libraries (METIS) come after libtorch.
export LD_LIBRARY_PATH="$libtorch:$bundle${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$bundle/dtrain" "$@"
