#!/usr/bin/env bash
# Here (no GPU): build the addon for sm_90a and the TS output, then pack Node
# and node_modules into .gpu/ for the device machine. Then call the device
# tool with carry [".gpu", "build", "dist"] and the command
#   bash scripts/gpu-run.sh [bench args...]
set -euo pipefail
cd "$(dirname "$0")/.."
WARPFORGE_HARNESS=1 WARPFORGE_CUDA_ARCHS=${WARPFORGE_CUDA_ARCHS:-90a} node scripts/build.mjs
# Host symbols only (the kernels are in the fatbinary): keeps what the device
# tool carries (.gpu, the addon, dist) under its 64 MiB.
strip --strip-unneeded build/Release/warpforge.node
mkdir -p .git/info; grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
bash ../shared/device/bundle.sh .gpu
