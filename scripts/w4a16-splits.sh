#!/usr/bin/env bash
# On the GPU machine: the decode kernel's time against its split-K count
# (WF_SPLIT forces it; 0 = the planner's choice), checked for correctness by
# the harness on every run.
cd "$(dirname "$0")/../build" || exit 1
for s in ${SHAPES:-"8192 8192" "4096 11008" "8192 28672"}; do
  for m in ${MS:-8 16 32 64}; do
    for split in ${SPLITS:-0 1 2 4 8 16}; do
      echo -n "split=$split: "; WF_SPLIT=$split timeout 60 ./w4a16_harness $m $s 128 0 | tail -n 1
    done
  done
done
