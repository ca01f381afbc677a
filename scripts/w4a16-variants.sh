#!/usr/bin/env bash
# On the GPU machine: time every decode-kernel variant (GemmParams::variant)
# with the standalone harness, then the kernel-only duration under ncu.
cd "$(dirname "$0")/../build" || exit 1
for v in 0 1 2 3; do
  for s in "1 4096 4096" "1 8192 8192" "16 8192 8192" "1 28672 8192" "1 8192 28672"; do
    WF_VARIANT=$v ./w4a16_harness $s 128 0 | tail -n 1
  done
done
for v in 0 2; do
  WF_VARIANT=$v ncu --clock-control none --metrics gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__throughput.avg.pct_of_peak_sustained_elapsed -k regex:decode -c 2 ./w4a16_harness 1 8192 8192 128 0 2>&1 | grep -E "duration|throughput"
done
