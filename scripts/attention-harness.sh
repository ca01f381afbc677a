#!/usr/bin/env bash
# On the GPU machine: the standalone attention harness over the benchmark's
# main shapes (each run checks sampled rows against a float64 CPU reference,
# then times). Needs build/attention_harness (scripts/gpu-prepare.sh).
#   bash scripts/attention-harness.sh [quick]
set -uo pipefail
cd "$(dirname "$0")/.."
H=build/attention_harness
run() { echo "== $*"; env "$@" ITERS=${ITERS:-20} timeout 120 $H 2>&1 | grep -v '^B='; }
# prefill: 16k tokens, H=16
for D in 64 128 256; do
  for C in 0 1; do run B=4 SQ=4096 H=16 D=$D CAUSAL=$C; done
done
[ "${1:-}" = quick ] && exit 0
run B=16 SQ=1024 H=16 D=128 CAUSAL=0
run B=1 SQ=16384 H=16 D=128 CAUSAL=1
run B=4 SQ=4096 H=16 D=128 CAUSAL=0 BF16=1
# decode: H=32, Hkv=8, D=128
for B in 1 8 64; do
  for S in 1024 8192 32768; do run B=$B SQ=1 SK=$S H=32 HKV=8 D=128 DECODE=1; done
done
