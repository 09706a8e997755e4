#!/usr/bin/env bash
# Installs what dtrain needs on a fresh Debian 12 machine, idempotently:
#  - libstdc++ from Debian 13 (trixie), pinned low, because TorchSharp 0.107's native library needs
#    GLIBCXX_3.4.32 and bookworm's libstdc++ stops at 3.4.30 (see ../shared/reference/platform.md);
#  - the .NET SDK's NuGet restore and a Release build of the solution.
# Every step is skipped when it is already done, so calling this before each command is cheap.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
log() { printf 'setup: %s\n' "$*" >&2; }

libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')
if ! grep -qa GLIBCXX_3.4.32 "${libstdcxx:-/nonexistent}" 2>/dev/null; then
  log "installing libstdc++6 from Debian trixie (pinned low) for TorchSharp"
  as_root sh -c "echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list"
  as_root sh -c "printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-low"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq -t trixie libstdc++6 >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  log "the .NET 10 SDK is required (dotnet on PATH)"; exit 1
fi

# Build only when a source file is newer than the last successful build.
stamp="$root/artifacts/.build-stamp"
if [ ! -f "$stamp" ] || [ -n "$(find "$root/src" "$root/protos" "$root/tests" "$root/Directory.Build.props" "$root/Directory.Packages.props" -newer "$stamp" -type f -print -quit 2>/dev/null)" ]; then
  log "building (Release)"
  dotnet build "$root/Distributed.sln" -c Release -nologo -v quiet -clp:ErrorsOnly
  mkdir -p "$root/artifacts" && touch "$stamp"
fi
