#!/usr/bin/env bash
# On the GPU machine: the two Hopper kernels, wgmma (WF_WGMMA=1) and decode
# (WF_DECODE=1), at the row counts where the dispatch must choose.
#   MS="17 24 32" bash scripts/w4a16-dispatch.sh
cd "$(dirname "$0")/../build" || exit 1
for s in "4096 4096" "11008 4096" "4096 11008" "8192 8192" "28672 8192" "8192 28672"; do
  for m in ${MS:-17 24 32 48 64}; do
    a=$(WF_WGMMA=1 ./w4a16_harness $m $s 128 0 | tail -n 1 | grep -o '[0-9.]* us')
    b=$(WF_DECODE=1 ./w4a16_harness $m $s 128 0 | tail -n 1 | grep -o '[0-9.]* us')
    echo "M=$m $s  wgmma $a  decode $b"
  done
done
