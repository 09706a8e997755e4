#!/usr/bin/env bash
# GraphSAGE on a real graph: Adamic and Glance's political blogs (1490 blogs, 19090 hyperlinks, liberal or
# conservative), from Debian's python3-graph-tool (scripts/fetch-datasets.sh). It is imported with one-hot node
# features (the graph has none) and a seeded 60/20/20 split, then trained on the whole graph by 1 worker and on
# METIS partitions: 2 parts on 2 workers, 3 parts on 2 workers (one holds two), 3 parts on 3 workers. Each
# configuration runs with seeds 1..SEEDS (default 5); the held-out (test) accuracy of each run is printed, then
# each configuration's median. Further flags go to every run.
# Usage: bench/polblogs.sh [SEEDS] [MORE dtrain run FLAGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seeds=${1:-5}
shift || true
"$root/dtrain" --help >/dev/null   # installs and builds first
"$root/scripts/fetch-datasets.sh" "${DTRAIN_DATA:-$root/data}"
dtrain="$root/src/Launcher/bin/Release/net10.0/dtrain"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$dtrain" graph import "${DTRAIN_DATA:-$root/data}/polblogs.gt.gz" --label-property value --identity-features --seed 2 --out "$work/polblogs.dtg"
for parts in 1 2 3; do "$dtrain" graph partition "$work/polblogs.dtg" --parts "$parts" --out "$work/parts$parts" >/dev/null; done
printf '%-6s %-8s %-5s %s\n' parts workers seed accuracy
for config in "1 1" "2 2" "3 2" "3 3"; do
  read -r parts workers <<<"$config"
  accuracies=()
  for seed in $(seq "$seeds"); do
    line=$("$dtrain" run --model graphsage --graph "$work/parts$parts" --workers "$workers" --steps 60 --fanouts 10,5 --batch-size 64 \
      --device cpu --seed "$seed" -q "$@")
    accuracy=$(sed -n 's/.*held-out accuracy \([0-9.]*\) \{0,1\}%.*/\1/p' <<<"$line")
    printf '%-6s %-8s %-5s %s\n' "$parts" "$workers" "$seed" "$accuracy"
    accuracies+=("$accuracy")
  done
  median=$(printf '%s\n' "${accuracies[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  printf '%-6s %-8s %-5s %s (median)\n' "$parts" "$workers" all "$median"
done
