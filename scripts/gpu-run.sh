#!/usr/bin/env bash
# On the GPU machine, from the repo root: the whole GPU test suite, then the
# benchmark, then PyTorch's numbers for the same shapes as a side-by-side
# peer. Logs and JSON go to $OUT (default ./gpu-out).
#   bash scripts/gpu-run.sh [bench args...]      e.g. matmul --m 1,16
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
source .gpu/unpack.sh || exit 1
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv | tee "$OUT/device.txt"
node dist/lib/cli.js doctor 2>&1 | tee -a "$OUT/device.txt"

node node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile.json="$OUT/vitest.json" 2>&1 | tee "$OUT/test.log"
test_rc=${PIPESTATUS[0]}

node dist/bench/cli.js "$@" --out "$OUT" 2>&1 | tee "$OUT/bench.log"
bench_rc=${PIPESTATUS[0]}

if [ -f bench/peers/torch_peer.py ]; then
  PYTHONUNBUFFERED=1 python3 bench/peers/torch_peer.py "$@" 2>&1 | tee "$OUT/torch.log"
fi
echo "gpu-run: tests exit $test_rc, bench exit $bench_rc"
exit $(( test_rc != 0 || bench_rc != 0 ))
