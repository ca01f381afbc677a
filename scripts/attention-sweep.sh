cd "$(dirname "$0")/.."
H=build/attention_harness
run() { echo "== $*"; env "$@" ITERS=20 VARIANTS=1 timeout 150 $H 2>&1 | grep -v '^B=\|^plan'; }
for D in 64 128 256; do run B=4 SQ=4096 H=16 D=$D CAUSAL=0; done
run B=4 SQ=4096 H=16 D=128 CAUSAL=1
run B=64 SQ=1 SK=8192 H=32 HKV=8 D=128 DECODE=1
run B=1 SQ=1 SK=32768 H=32 HKV=8 D=128 DECODE=1
run B=8 SQ=1 SK=8192 H=32 HKV=8 D=128 DECODE=1
