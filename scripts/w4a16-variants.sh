#!/usr/bin/env bash
# On the GPU machine: time decode-kernel variants (GemmParams::variant) with
# the standalone harness. Variants 4 and 5 are load-only probes (their
# results are meaningless; their times are the memory ceiling of an order).
cd "$(dirname "$0")/../build" || exit 1
for v in ${VARIANTS:-0 4 5}; do
  for s in "1 4096 4096" "1 8192 8192" "16 8192 8192" "1 28672 8192" "1 8192 28672"; do
    WF_VARIANT=$v ./w4a16_harness $s 128 0 | tail -n 1
  done
done
