#!/usr/bin/env bash
# On the GPU machine: the attention harness with VARIANTS=1 over the shapes
# that decided tiles.h (prefill 16k tokens; decode H=32/8 D=128). Each run
# checks sampled rows against a float64 CPU reference, then times.
#   bash scripts/attention-sweep.sh [prefill|decode]
set -uo pipefail
cd "$(dirname "$0")/.."
H=build/attention_harness
run() { echo "== $*"; env "$@" ITERS=20 VARIANTS=1 timeout 150 $H 2>&1 | grep -v '^B=\|^plan'; }
if [ "${1:-prefill}" = prefill ]; then
  for D in 64 128 256; do run B=4 SQ=4096 H=16 D=$D CAUSAL=0; done
  run B=4 SQ=4096 H=16 D=128 CAUSAL=1
fi
if [ "${1:-decode}" = decode ]; then
  run B=64 SQ=1 SK=8192 H=32 HKV=8 D=128 DECODE=1
  for S in 0 66 99; do run B=1 SQ=1 SK=32768 H=32 HKV=8 D=128 DECODE=1 SPLITS=$S; done
  run B=8 SQ=1 SK=8192 H=32 HKV=8 D=128 DECODE=1
fi
