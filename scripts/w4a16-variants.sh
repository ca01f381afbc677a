#!/usr/bin/env bash
# On the GPU machine: time decode-kernel variants (GemmParams::variant) with
# the standalone harness. Variant 1 is the load-only probe (its
# results are meaningless; its time is the memory ceiling of the kernel).
cd "$(dirname "$0")/../build" || exit 1
for v in ${VARIANTS:-0 1}; do
  for s in "1 4096 4096" "1 8192 8192" "16 8192 8192" "1 28672 8192" "1 8192 28672"; do
    WF_VARIANT=$v ./w4a16_harness $s 128 0 | tail -n 1
  done
done
