#!/usr/bin/env python3
"""The w4a16 table of bench/RESULTS.md from one `scripts/gpu-run.sh copy w4a16`:

  python3 scripts/w4a16-table.py OUT/bench-*.json [OUT/torch.log]

Per (N × K, M): cuBLASLt and w4a16 medians in fp16 and bf16 with the speedup
over cuBLASLt of the same dtype, PyTorch's INT4 kernel (bf16, from the peer's
log, when given) with w4a16 bf16's speedup over it, and w4a16 fp16's weight
bandwidth as a share of the run's copy bandwidth.
"""
import json
import re
import sys

IMPLS = ("cuBLASLt float16", "w4a16 float16", "cuBLASLt bfloat16", "w4a16 bfloat16")


def torch_int4(path):
    times = {}
    pattern = re.compile(r"torch int4pack bfloat16 M=(\d+) N=(\d+) K=(\d+) g=128: ([\d.]+) us")
    for line in open(path):
        if m := pattern.match(line):
            times[(int(m[2]), int(m[3]), int(m[1]))] = float(m[4])
    return times


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    report = json.load(open(sys.argv[1]))
    peer = torch_int4(sys.argv[2]) if len(sys.argv) > 2 else {}
    suite = next((s for s in report["suites"] if s["suite"] == "w4a16"), None)
    if suite is None:
        sys.exit(f"{sys.argv[1]}: no w4a16 suite")
    print("| N × K | M | cuBLASLt fp16 µs | w4a16 fp16 µs | speedup | cuBLASLt bf16 µs | w4a16 bf16 µs | speedup "
          "| PyTorch int4 bf16 µs (w4a16 bf16 ×) | w4a16 fp16 weight GB/s (% copy) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for case in suite["cases"]:
        p = case["params"]
        r = {x["impl"]: x for x in case["results"]}
        if any(k not in r or r[k].get("error") for k in IMPLS):
            print(f"| {p['n']} × {p['k']} | {p['m']} | (an implementation failed: see the JSON) |")
            continue
        cf, wf, cb, wb = (r[k]["us"]["median"] for k in IMPLS)
        t = peer.get((p["n"], p["k"], p["m"]))
        ts = f"{t:.1f} ({t / wb:.1f}×)" if t else "—"
        w = r["w4a16 float16"]
        share = f" ({100 * w['copyFraction']:.0f} %)" if "copyFraction" in w else ""  # the copy suite ran
        print(f"| {p['n']} × {p['k']} | {p['m']} | {cf:.1f} | {wf:.1f} | {cf / wf:.2f}× | {cb:.1f} | {wb:.1f} | {cb / wb:.2f}× "
              f"| {ts} | {w['gbps']:.0f}{share} |")


if __name__ == "__main__":
    main()
