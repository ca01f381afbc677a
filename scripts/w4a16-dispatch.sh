#!/usr/bin/env bash
# On the GPU machine: the wgmma kernel (WF_WGMMA=1) against the portable
# kernels (WF_ARCH=0) at the row counts where the dispatch must choose.
#   MS="24 32 48 64" bash scripts/w4a16-dispatch.sh
cd "$(dirname "$0")/../build" || exit 1
for s in "4096 4096" "11008 4096" "4096 11008" "8192 8192" "28672 8192" "8192 28672"; do
  for m in ${MS:-17 24 32 48 64}; do
    a=$(WF_WGMMA=1 ./w4a16_harness $m $s 128 0 | tail -n 1 | grep -o '[0-9.]* us')
    b=$(WF_ARCH=0 ./w4a16_harness $m $s 128 0 | tail -n 1)
    echo "M=$m $s  wgmma $a  |  ${b%% v0*} $(echo "$b" | grep -o '[0-9.]* us')"
  done
done
