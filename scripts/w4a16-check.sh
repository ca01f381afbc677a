#!/usr/bin/env bash
# On the GPU machine: the decode kernel against the reference over the row
# counts, group sizes and zero points it handles (WF_ARCH=0: this kernel on
# sm_90 too), then the timing shapes, and N not a multiple of 4 (the wgmma
# kernel's direct stores), and the fp16 kernels that interleave
# dequantization and wgmmas: 49-64 rows at two CTAs per SM, and K split in
# clusters at one. Prints FAIL lines and exits non-zero on any.
cd "$(dirname "$0")/../build" || exit 1
rc=0
for s in "1 8192 8192 128 0" "2 4096 4096 32 1" "3 1000 4104 0 1" "7 200 328 64 0" "8 4096 11008 128 1" "9 3000 1000 32 0" \
         "16 8192 8192 128 0" "17 1000 4104 128 1" "31 4096 4096 64 0" "33 200 328 32 1" "48 11008 4096 128 0" "64 3000 1000 128 1" \
         "129 1000 4104 32 1" "257 4096 4096 128 0" "300 3000 1000 0 1" \
         "8 28672 8192 128 0" "13 28672 8264 32 1" "16 8192 28672 0 1" "11 67584 3712 64 0" \
         "32 28672 8192 128 0" "24 8192 28672 64 1" "20 4096 11008 0 1" "29 67584 1856 128 0" \
         "100 1002 2048 64 1" "257 4099 4096 128 1" \
         "64 28672 8192 128 0" "53 20488 5128 128 1" "60 27656 5120 64 0" \
         "128 8192 8192 128 1" "100 8200 8192 64 1" "31 8192 28680 64 1"; do
  WF_ARCH=${WF_ARCH:-0} ./w4a16_harness $s | tail -n 1 || rc=1
done
exit $rc
