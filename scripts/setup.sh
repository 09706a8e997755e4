#!/usr/bin/env bash
# Installs what dtrain needs on a fresh Debian 12 machine, idempotently (a no-op when all is there):
#  - libstdc++ from Debian 13 (trixie), pinned low so nothing else comes from trixie, because TorchSharp
#    0.107's native library needs GLIBCXX_3.4.32 and bookworm's libstdc++ stops at 3.4.30
#    (../shared/reference/platform.md);
#  - MPICH (mpiexec.mpich, libmpich.so.12 and its mpi.h) for the MPI transport, which binds it with P/Invoke;
#  - METIS 5 (libmetis.so.5) for `dtrain graph partition --method metis`, which binds it with P/Invoke;
#  - redis-server, which `dtrain coordinator --cluster redis` keeps its state in (the tests start their own);
#  - prometheus and promtool, which the metrics tests run (a server on loopback, `promtool check rules`);
#  - the DejaVu fonts, which `dtrain report` draws its plot's text with (SkiaSharp finds no font without one and
#    draws the axes unlabelled);
#  - the .NET SDK must already be on PATH (NuGet restore happens in the build).
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# awk reads all of ldconfig's output: leaving early would end ldconfig with SIGPIPE, which pipefail turns
# into this script's exit status 141 (seen as an intermittently failing test command).
libstdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {print $NF; found = 1}')
if ! grep -qa GLIBCXX_3.4.32 "${libstdcxx:-/nonexistent}"; then
  echo "setup: installing libstdc++6 from Debian trixie (pinned low) for TorchSharp" >&2
  mirror=$("$(dirname "$0")/debian-mirror.sh")
  as_root sh -c "echo 'deb $mirror trixie main' > /etc/apt/sources.list.d/trixie.list"
  as_root sh -c "printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-low"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
fi

if ! command -v mpiexec.mpich >/dev/null || [ ! -f /usr/include/x86_64-linux-gnu/mpich/mpi.h ]; then
  echo "setup: installing MPICH for the MPI transport" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich libmpich-dev >/dev/null
fi

if [ ! -f /usr/lib/x86_64-linux-gnu/libmetis.so.5 ]; then
  echo "setup: installing METIS for graph partitioning" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmetis5 >/dev/null
fi

if ! command -v redis-server >/dev/null; then
  echo "setup: installing redis-server for the coordinator's Redis mode" >&2
  as_root apt-get update -qq
  # Only the program: the package's own service is not started (there is no init system here, and tests start their own).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v promtool >/dev/null; then
  echo "setup: installing prometheus for the metrics tests" >&2
  as_root apt-get update -qq
  # Only the programs. policy-rc.d (Docker images have one) keeps the package's service from starting, and
  # disabling it keeps it from starting at boot: a system Prometheus would hold port 9090 and scrape nothing of
  # ours. Without recommends, no node exporter comes along either.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d"
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -d /run/systemd/system ]; then as_root systemctl disable --now prometheus >/dev/null 2>&1; fi
fi

if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
  echo "setup: installing the DejaVu fonts for dtrain report's plots" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi

if ! command -v dotnet >/dev/null; then
  echo "setup: the .NET 10 SDK is required (dotnet on PATH)" >&2
  exit 1
fi
