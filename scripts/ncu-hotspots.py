#!/usr/bin/env python3
"""The SASS lines where a kernel's warps stall most, from an ncu source page:

  ncu --section SourceCounters --section WarpStateStats --page source \
      --print-source sass --csv -k regex:NAME ./harness ... > page.csv
  python3 scripts/ncu-hotspots.py page.csv [N]

Prints each of the N hottest lines with its share of the stall samples and
the line's leading stall reasons."""
import csv
import sys

rows = list(csv.reader(open(sys.argv[1], errors="replace")))
top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 40
head_at = next(i for i, r in enumerate(rows) if "Source" in r)
head, data = rows[head_at], [r for r in rows[head_at + 1:] if len(r) == len(rows[head_at])]
src = head.index("Source")
samples = next(i for i, c in enumerate(head) if c.startswith("Warp Stall Sampling (All"))
reasons = [i for i, c in enumerate(head) if c.startswith("stall_") or "Stall" in c and i != samples and "Sampling" not in c]


def num(v):
    try:
        return float(v.replace(",", ""))
    except ValueError:
        return 0.0


total = sum(num(r[samples]) for r in data) or 1.0
for r in sorted(data, key=lambda r: -num(r[samples]))[:top_n]:
    why = sorted(((num(r[i]), head[i]) for i in reasons), reverse=True)[:2]
    why = ", ".join(f"{n} {v:.0f}" for v, n in why if v > 0)
    print(f"{100 * num(r[samples]) / total:5.1f}%  {r[src].strip()[:90]:90s}  {why}")
