#!/usr/bin/env bash
# On the GPU machine: the same shapes timed by two harness builds, old and
# new alternating (twice each), so that machine-to-machine drift (~10 % on
# the lent H200s) cancels out of the comparison. Build the old one first:
#   here:  cp build/w4a16_harness build/w4a16_harness_old; <change>; build
#   there: SHAPES="1 8192 8192 128 0;16 28672 8192 128 0" bash scripts/w4a16-ab.sh
# (carry build/w4a16_harness and build/w4a16_harness_old). Ends with the
# correctness sweep of the new build (scripts/w4a16-check.sh).
cd "$(dirname "$0")/../build" || exit 1
IFS=';' read -ra shapes <<< "${SHAPES:-1 8192 8192 128 0;1 28672 8192 128 0;1 8192 28672 128 0;16 8192 8192 128 0;64 8192 8192 128 0}"
for s in "${shapes[@]}"; do
  for h in old new old new; do
    bin=./w4a16_harness; [ "$h" = old ] && bin=./w4a16_harness_old
    echo "$h $s  $($bin $s | tail -n 1 | grep -o '[0-9.]* us ')"
  done
done
rc=0
WF_ARCH=0 bash ../scripts/w4a16-check.sh | grep FAIL && rc=1
WF_ARCH=90 bash ../scripts/w4a16-check.sh | grep FAIL && rc=1
exit $rc
