#!/usr/bin/env bash
# Runs the whole test suite from a checkout: installs what it needs (scripts/setup.sh), fetches the datasets
# (scripts/fetch-datasets.sh, into $DTRAIN_DATA, by default data/), builds, tests.
# Ends with a plain "N passed, N failed" line taken from dotnet test's own summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
# The tests that read real data find it through DTRAIN_DATA.
export DTRAIN_DATA=${DTRAIN_DATA:-$root/data}
"$root/scripts/fetch-datasets.sh" "$DTRAIN_DATA"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test "$root/Distributed.sln" -c Release -nologo "$@" 2>&1 | tee "$log" || status=$?
awk '/(Passed|Failed)! +- +Failed:/ {
       gsub(",", "")
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) }
       found = 1 }
     END { if (found) printf "%d passed, %d failed\n", p, f; else print "no test summary found" }' "$log"
exit "$status"
