#!/usr/bin/env bash
# Builds a self-contained dtrain bundle for a GPU host: no .NET needed there, and none of the CPU libtorch
# files, because on the GPU host TorchSharp runs against that host's own CUDA libtorch (the one PyTorch
# ships; ../shared/reference/gpu.md). Output: .publish/dtrain-linux-x64.tar.xz (ignored by git), which the
# device tool can carry. On the host, scripts/run-gpu.sh unpacks and runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
out="$root/.publish/dtrain"
rm -rf "$out"
dotnet publish "$root/src/Launcher/Launcher.csproj" -c Release -r linux-x64 --self-contained -o "$out" -nologo -v quiet -clp:ErrorsOnly
# Everything libtorch-cpu-linux-x64 brought, except TorchSharp's own binding (libLibTorchSharp.so).
(cd "$out" && rm -f libtorch*.so libc10.so libgomp*.so* libshm.so libjitbackend_test.so libbackend_with_compiler.so \
  libaoti_custom_ops.so libnnapi_backend.so)
# What the bundle needs beyond libtorch that a GPU host need not have: METIS for graph partitioning (Debian's
# libmetis5, which setup.sh installs; it needs only libc). The runtime looks for native libraries in the app's
# directory first, and run-gpu.sh puts that directory on LD_LIBRARY_PATH as well.
metis=$(/sbin/ldconfig -p | awk '$1 == "libmetis.so.5" { print $NF; exit }')
[ -n "$metis" ] || { echo "publish-gpu.sh: libmetis.so.5 not found: run scripts/setup.sh" >&2; exit 1; }
cp -L "$metis" "$out/libmetis.so.5"
tar -C "$root/.publish" -cJf "$root/.publish/dtrain-linux-x64.tar.xz" dtrain
du -h "$root/.publish/dtrain-linux-x64.tar.xz"
