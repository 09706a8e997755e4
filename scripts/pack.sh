#!/usr/bin/env bash
# Packs the library a user's program references (package Dtrain and the dtrain packages it depends on) into a
# local NuGet feed. Usage: scripts/pack.sh [FEED] [VERSION] [DOTNET PACK ARGS...]; defaults: artifacts/packages, 0.1.0.
# A program then builds with one <PackageReference Include="Dtrain" Version="VERSION" /> and FEED as a source
# (see examples/nuget.config). NuGet caches a version once restored: repack a changed library under a new VERSION.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
feed=${1:-$root/artifacts/packages}
version=${2:-0.1.0}
mkdir -p "$feed"
# Further arguments go to dotnet pack (the tests pass --no-build: the library is built already).
dotnet pack "$root/Distributed.sln" -c Release -nologo -v q -o "$feed" -p:PackageVersion="$version" "${@:3}" >&2
echo "$feed"
