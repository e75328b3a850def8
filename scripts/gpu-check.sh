#!/usr/bin/env bash
# The GPU device check, for a bare GPU machine that can download nothing. Prepare here first:
#   bash scripts/gpu-carry.sh && npx tsc -p tsconfig.json
# then run this there with `.gpu-carry` and `dist` carried (about 47 MiB). It sets up Node (the carried
# binary, or Debian's nodejs/libnode debs unpacked with dpkg -x), the Vulkan loader (libvulkan1, for
# WebGPU's Dawn) and node_modules (where missing or a dangling symlink), then runs scripts/gpu-check.mjs: providers that
# start, PP-OCR det and MNIST MLP in-process on CPU and GPU, served with --device gpu, served ÷
# in-process at batch 1/8/32. The summary goes to $OUT/gpu-check.json (default ./gpu-check-out).
# Where a node, Vulkan and node_modules are already installed (a user's GPU box), nothing is unpacked.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
C=.gpu-carry
say() { echo "[gpu-check] $*" >&2; }

if [ -f "$C/node.xz" ] && ! node -e 'process.exit(+process.versions.node.split(".")[0] < 20)' 2>/dev/null; then
  mkdir -p /tmp/tfsopt-node/bin && xz -dc "$C/node.xz" >/tmp/tfsopt-node/bin/node && chmod +x /tmp/tfsopt-node/bin/node
  export PATH=/tmp/tfsopt-node/bin:$PATH
elif ls "$C"/debs/nodejs_*.deb >/dev/null 2>&1 && ! command -v node >/dev/null; then
  for f in "$C"/debs/*.deb; do dpkg -x "$f" /tmp/tfsopt-node; done
  export PATH=/tmp/tfsopt-node/usr/bin:$PATH LD_LIBRARY_PATH=/tmp/tfsopt-node/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
command -v node >/dev/null || { say "no node: run scripts/gpu-carry.sh here and carry .gpu-carry"; exit 1; }
say "node $(node -v)"

if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' && ls "$C"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  dpkg -x "$C"/debs/libvulkan1_*.deb /tmp/tfsopt-vulkan
  export LD_LIBRARY_PATH=/tmp/tfsopt-vulkan/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
# The NVIDIA Vulkan driver's manifest where the device machines mount the driver.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && export VK_DRIVER_FILES=$icd

# Only where node_modules is missing, or a symlink whose target did not travel (a shared install here).
if [ -f "$C/node_modules.tar.xz" ] && [ ! -e node_modules ]; then
  rm -f node_modules && tar -xJf "$C/node_modules.tar.xz"
fi
[ -f dist/runtime/devices.js ] || { say "dist/ missing: build here (npx tsc -p tsconfig.json) and carry dist"; exit 1; }

(nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv) >"$OUT/nvidia-smi.txt" 2>&1 || say "nvidia-smi not available"
node scripts/gpu-check.mjs "$OUT/gpu-check.json" 2> >(tee "$OUT/gpu-check.log" >&2)
rc=$?
say "summary: $OUT/gpu-check.json (exit $rc)"
exit $rc
