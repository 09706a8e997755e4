#!/usr/bin/env bash
# Runs one dtrain command with an earlier build and with this checkout's, alternating, ROUNDS times: a before-and-after
# comparison measured in one session, as this noisy machine needs. The earlier revision is built once, in a git
# worktree under ${TMPDIR:-/tmp}/dtrain-bench-builds/; its output lines are prefixed "base", this build's "this".
# Usage: bench/compare.sh REVISION ROUNDS DTRAIN-ARGUMENTS...
#   e.g. bench/compare.sh d10228d 4 bench shampoo --ranks 1 --frequencies 100 --steps 300
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 3 ]; then
  echo "usage: bench/compare.sh REVISION ROUNDS DTRAIN-ARGUMENTS..." >&2
  exit 2
fi
revision=$1 rounds=$2
shift 2
commit=$(git -C "$root" rev-parse --verify --quiet "$revision^{commit}") || { echo "bench/compare.sh: no such revision: $revision" >&2; exit 2; }
"$root/dtrain" --help >/dev/null   # installs and builds this checkout first, outside the timings
base="${TMPDIR:-/tmp}/dtrain-bench-builds/$commit"
if [ ! -x "$base/src/Launcher/bin/Release/net10.0/dtrain" ]; then
  [ -d "$base" ] || git -C "$root" worktree add --detach --force "$base" "$commit" >/dev/null
  dotnet build "$base/Distributed.sln" -c Release -nologo -v q >/dev/null
fi
for _ in $(seq "$rounds"); do
  "$base/src/Launcher/bin/Release/net10.0/dtrain" "$@" 2>&1 | sed 's/^/base  /'
  "$root/src/Launcher/bin/Release/net10.0/dtrain" "$@" 2>&1 | sed 's/^/this  /'
done
