#!/usr/bin/env bash
# On the GPU machine: time kernel variants (GemmParams::variant, see
# gemm_decode.cu and gemm_wgmma.cu) with the standalone harness. Variants > 0
# are probes whose results are wrong by design; their times split a kernel's
# cost into loads, math and the split-K meet (decode) or copies,
# dequantization and wgmmas (wgmma). WF_ARCH=0 keeps sm_90 on the decode
# kernel; the wgmma probes want WF_ARCH=90 and WF_SK=0 (they have no stream-K).
#   VARIANTS="0 1 2 3 4" SHAPES="1 8192 8192;16 8192 8192" bash scripts/w4a16-variants.sh
#   WF_ARCH=90 WF_SK=0 VARIANTS="0 1 2 8 9" SHAPES="32 28672 8192" bash scripts/w4a16-variants.sh
cd "$(dirname "$0")/../build" || exit 1
IFS=';' read -ra shapes <<< "${SHAPES:-1 4096 4096;1 8192 8192;16 8192 8192;1 28672 8192;1 8192 28672}"
for s in "${shapes[@]}"; do
  for v in ${VARIANTS:-0 1}; do
    WF_ARCH=${WF_ARCH:-0} WF_VARIANT=$v ./w4a16_harness $s 128 0 | tail -n 1
  done
done
