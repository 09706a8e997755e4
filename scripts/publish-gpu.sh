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
tar -C "$root/.publish" -cJf "$root/.publish/dtrain-linux-x64.tar.xz" dtrain
du -h "$root/.publish/dtrain-linux-x64.tar.xz"
