#!/usr/bin/env bash
# Prints the mirror of this machine's own Debian bookworm archive, read from its apt sources (one-line
# sources.list files or deb822 .sources files), so that scripts/setup.sh takes trixie from the same place rather
# than from a host named in the script. Fails in one line when there is none.
# Usage: scripts/debian-mirror.sh [APT-DIRECTORY]   (default /etc/apt)
set -euo pipefail
apt=${1:-/etc/apt}
mirror=$(
  {
    sed -e 's/\[[^]]*\]//' "$apt"/sources.list "$apt"/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" && $3 == "bookworm" { print $2 }'
    cat "$apt"/sources.list.d/*.sources 2>/dev/null | awk 'BEGIN { RS = "" } {
      uri = ""; bookworm = 0; n = split($0, lines, "\n")
      for (i = 1; i <= n; i++) {
        if (lines[i] ~ /^URIs:/) { split(lines[i], fields, /[ \t]+/); uri = fields[2] }
        if (lines[i] ~ /^Suites:/ && lines[i] ~ /[ \t]bookworm([ \t]|$)/) bookworm = 1
      }
      if (bookworm && uri != "") print uri
    }'
  } | head -n 1
) || true  # a missing sources file is no error; an empty answer is
[ -n "$mirror" ] || { echo "debian-mirror: no Debian bookworm archive in $apt/sources.list or $apt/sources.list.d" >&2; exit 1; }
echo "$mirror"
