"""PyTorch's time for the benchmark's shapes, on the GPU machine only.

A side-by-side peer and a sanity check of our harness, never a dependency:
the same methodology (events, warm-up, median, rotated inputs).
Usage: python3 bench/peers/torch_peer.py [suite...] [--m 1,16] [--n ...] [--k ...]
"""
import sys

import torch


def opt(name, default):
    argv = sys.argv[1:]
    if f"--{name}" in argv:
        return [int(v) for v in argv[argv.index(f"--{name}") + 1].split(",")]
    return default


def median_us(fn, sets, warmup=10, iters=100, batch=16):
    """As bench/timing.ts: events around each call, the calls queued in
    batches of 16 behind a spin (torch.cuda._sleep, ~2e6 cycles a
    millisecond), so that short kernels run back to back rather than at
    Python's launch rate (the driver holds only so much queued work)."""
    for i in range(warmup):
        fn(i % sets)
    torch.cuda.synchronize()
    t, it = [], warmup
    while len(t) < iters:
        n = min(batch, iters - len(t))
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        torch.cuda._sleep(int(2e6 * (2 + 0.2 * n)))
        for i in range(n):
            starts[i].record()
            fn(it % sets)
            it += 1
            ends[i].record()
        torch.cuda.synchronize()
        t += [s.elapsed_time(e) for s, e in zip(starts, ends)]
    t.sort()
    return t[len(t) // 2] * 1000


def main():
    suites = [a for a in sys.argv[1:] if not a.startswith("--") and not a[0].isdigit()] or ["copy", "matmul"]
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    if "copy" in suites:
        n = 1 << 30
        bufs = [torch.empty(n, dtype=torch.uint8, device="cuda") for _ in range(2)]
        us = median_us(lambda i: bufs[i % 2].copy_(bufs[(i + 1) % 2]), 2)
        print(f"copy 1024 MiB: {us:.1f} us, {2 * n / us / 1e3:.0f} GB/s")
    if "matmul" in suites:
        for dtype in (torch.float16, torch.bfloat16):
            for m in opt("m", [1, 16, 128, 8192]):
                for n in opt("n", [8192]):
                    for k in opt("k", [8192]):
                        sets = max(1, min(64, -(-3 * l2 // ((m * k + n * k) * 2))))
                        xs = [torch.randn(m, k, dtype=dtype, device="cuda") for _ in range(sets)]
                        ws = [torch.randn(n, k, dtype=dtype, device="cuda") * 0.02 for _ in range(sets)]
                        us = median_us(lambda i: torch.nn.functional.linear(xs[i], ws[i]), sets)
                        print(f"torch linear {str(dtype)[6:]} M={m} N={n} K={k}: {us:.1f} us, {2 * m * n * k / us / 1e6:.1f} TFLOP/s")
    if "attention" in suites:
        attention_peer(l2)
    if "w4a16" in suites:
        w4a16_peer(l2)


W4A16_SHAPES = [(4096, 4096), (11008, 4096), (4096, 11008), (8192, 8192), (28672, 8192), (8192, 28672)]


def w4a16_peer(l2, group=128):
    """PyTorch's own INT4 weight-only GEMM (tinygemm, `_weight_int4pack_mm`,
    bf16 activations, group-128 scales, zero point 8) and its dense linear
    (cuBLAS) at the w4a16 suite's shapes, weights rotated past 3x L2."""
    ms = opt("m", [1, 2, 4, 8, 16, 32, 64, 128, 256])
    shapes = [(n, k) for n, k in W4A16_SHAPES if n in opt("n", [n]) and k in opt("k", [k])]
    for n, k in shapes:
        sets = max(1, min(64, -(-3 * l2 // (n * k // 2))))
        try:
            packed, sz = [], []
            for _ in range(sets):
                q = torch.randint(0, 16, (n, k), dtype=torch.int32, device="cuda")
                packed.append(torch._convert_weight_to_int4pack((q[:, ::2] << 4 | q[:, 1::2]).to(torch.uint8), 8))
                scales = torch.rand(k // group, n, dtype=torch.bfloat16, device="cuda") * 0.02 + 0.001
                sz.append(torch.stack([scales, torch.zeros_like(scales)], dim=2).contiguous())
            # Oracle check of the packing: the op against x · ((q - 8) · s)ᵀ.
            x = torch.randn(3, k, dtype=torch.bfloat16, device="cuda")
            w = ((q - 8).float() * sz[-1][:, :, 0].float().repeat_interleave(group, dim=0).t())
            ref = x.float() @ w.t()
            got = torch._weight_int4pack_mm(x, packed[-1], group, sz[-1]).float()
            rel = ((got - ref).norm() / ref.norm()).item()
            del q, w, ref, got
            if rel > 1e-2:  # bf16 output rounding is ~2e-3: anything more is a packing mismatch
                print(f"torch int4pack N={n} K={k}: packing mismatch (rel err {rel:.1e}), not timed")
            else:
                for m in ms:
                    xs = [torch.randn(m, k, dtype=torch.bfloat16, device="cuda") for _ in range(sets)]
                    us = median_us(lambda i: torch._weight_int4pack_mm(xs[i], packed[i], group, sz[i]), sets)
                    print(f"torch int4pack bfloat16 M={m} N={n} K={k} g={group}: {us:.1f} us, "
                          f"{n * k / 2 / us / 1e3:.0f} GB/s weights (rel err {rel:.1e})")
            del packed, sz
        except (RuntimeError, AttributeError) as e:
            print(f"torch int4pack N={n} K={k}: unavailable ({str(e).splitlines()[0][:100]})")
        try:
            dsets = max(1, min(64, -(-3 * l2 // (n * k * 2))))
            ws = [torch.randn(n, k, dtype=torch.float16, device="cuda") * 0.02 for _ in range(dsets)]
            for m in ms:
                xs = [torch.randn(m, k, dtype=torch.float16, device="cuda") for _ in range(dsets)]
                us = median_us(lambda i: torch.nn.functional.linear(xs[i], ws[i]), dsets)
                print(f"torch linear float16 M={m} N={n} K={k}: {us:.1f} us")
            del ws
        except RuntimeError as e:
            print(f"torch linear N={n} K={k}: unavailable ({str(e).splitlines()[0][:100]})")


def attention_peer(l2):
    """SDPA with the flash (FlashAttention-2) and cuDNN backends; decode through SDPA with GQA."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    F = torch.nn.functional
    for d in opt("d", [64, 128, 256]):
        for causal in (False, True):
            for s in opt("s", [512, 1024, 2048, 4096, 8192, 16384]):
                b, h = max(1, 16384 // s), 2048 // d
                q, k, v = (torch.randn(b, h, s, d, dtype=torch.float16, device="cuda") for _ in range(3))
                flops = 4 * b * h * s * s * d / (2 if causal else 1)
                for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                    try:
                        with sdpa_kernel(backend):
                            us = median_us(lambda i: F.scaled_dot_product_attention(q, k, v, is_causal=causal), 1, iters=30)
                        print(f"torch sdpa {name} prefill B={b} S={s} H={h} D={d}{' causal' if causal else ''}: {us:.1f} us, {flops / us / 1e6:.1f} TFLOP/s")
                    except RuntimeError as e:
                        print(f"torch sdpa {name} prefill B={b} S={s} D={d}: unavailable ({str(e).splitlines()[0][:80]})")
                del q, k, v
    h, hkv, d = 32, 8, 128
    for b in opt("b", [1, 8, 64]):
        for s in opt("cache", [1024, 4096, 8192, 16384, 32768]):
            kv_bytes = 2 * b * s * hkv * d * 2
            sets = max(1, min(64, -(-3 * l2 // kv_bytes)))
            q = torch.randn(b, h, 1, d, dtype=torch.float16, device="cuda")
            kvs = [(torch.randn(b, hkv, s, d, dtype=torch.float16, device="cuda"), torch.randn(b, hkv, s, d, dtype=torch.float16, device="cuda")) for _ in range(sets)]
            for name, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION)):
                try:
                    with sdpa_kernel(backend):
                        us = median_us(lambda i: F.scaled_dot_product_attention(q, kvs[i][0], kvs[i][1], enable_gqa=True), sets, iters=50)
                    print(f"torch sdpa {name} decode B={b} cache={s} H={h}/{hkv} D={d}: {us:.1f} us, {kv_bytes / us / 1e3:.0f} GB/s K/V")
                except RuntimeError as e:
                    print(f"torch sdpa {name} decode B={b} cache={s}: unavailable ({str(e).splitlines()[0][:80]})")
            del q, kvs


if __name__ == "__main__":
    main()
