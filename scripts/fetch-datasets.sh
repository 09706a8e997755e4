#!/usr/bin/env bash
# Fetches the real datasets the tests and examples train on into DIR (default: data/ at the repository root,
# which git ignores), from Debian packages through the machine's own apt sources, idempotently (a dataset already
# there is skipped):
#  - DIR/fortunes/: the fortune files of the `fortunes` package (about 2.5 MB of English text, without the
#    .dat indexes and .u8 links), a text corpus for byte-level language models;
#  - DIR/digits.csv.gz: scikit-learn's 1797 8x8 handwritten digits from `python3-sklearn` (64 pixel columns of
#    0 to 16, then the label 0 to 9; no header);
#  - DIR/polblogs.gt.gz: Adamic and Glance's 2005 network of hyperlinks between 1490 US political blogs, each
#    labelled liberal or conservative, from `python3-graph-tool`'s collection (graph-tool's binary format; public
#    domain): the real labelled graph the GNN tests import, partition and train on.
# `apt-get download` needs no root; only refreshing missing or stale package lists does (as scripts/setup.sh).
# Usage: scripts/fetch-datasets.sh [DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/data}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
fail() { echo "fetch-datasets: $*" >&2; exit 1; }

packages=()
[ -d "$dir/fortunes" ] || packages+=(fortunes)
[ -f "$dir/digits.csv.gz" ] || packages+=(python3-sklearn)
[ -f "$dir/polblogs.gt.gz" ] || packages+=(python3-graph-tool)
[ ${#packages[@]} -gt 0 ] || exit 0
command -v apt-get >/dev/null || fail "apt-get not found: the datasets come from Debian packages"

mkdir -p "$dir"
work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
# As root apt downloads as its _apt user, which cannot write to the work folder; it would warn and go on as root.
sandbox=()
[ "$(id -u)" != 0 ] || sandbox=(-o APT::Sandbox::User=root)
download() { (cd "$work" && apt-get download -qq "${sandbox[@]}" "${packages[@]}" 2>&1 >/dev/null); }
# A fresh image has no package lists, and old lists name versions the mirror no longer has: refresh once, retry.
if ! download >/dev/null; then
  as_root apt-get update -qq >/dev/null 2>&1 || true  # if this fails, the retry below says why in one line
  error=$(download) || fail "apt-get download ${packages[*]} failed: $(echo "$error" | tail -n 1)"
fi

for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$work/root"; done
# Each dataset is moved into place whole, so an interrupted fetch leaves nothing that looks fetched.
if [ ! -d "$dir/fortunes" ]; then
  mkdir "$work/fortunes"
  find "$work/root/usr/share/games/fortunes" -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' -exec mv -t "$work/fortunes" {} +
  [ -n "$(ls -A "$work/fortunes")" ] || fail "the fortunes package has no fortune files in /usr/share/games/fortunes"
  mv -T "$work/fortunes" "$dir/fortunes"
fi
if [ ! -f "$dir/digits.csv.gz" ]; then
  digits=$(find "$work/root" -path '*/sklearn/datasets/data/digits.csv.gz' -print -quit)
  [ -n "$digits" ] || fail "python3-sklearn has no sklearn/datasets/data/digits.csv.gz"
  mv "$digits" "$dir/digits.csv.gz"
fi
if [ ! -f "$dir/polblogs.gt.gz" ]; then
  polblogs=$(find "$work/root" -path '*/graph_tool/collection/polblogs.gt.gz' -print -quit)
  [ -n "$polblogs" ] || fail "python3-graph-tool has no graph_tool/collection/polblogs.gt.gz"
  mv "$polblogs" "$dir/polblogs.gt.gz"
fi
