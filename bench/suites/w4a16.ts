/**
 * W4A16 GEMM against cuBLASLt on the dequantized weight, same shapes, same
 * run: out[M,N] = x[M,K] · W[N,K]ᵀ, group size 128, symmetric.
 * Weights are rotated past 3× L2, so every timed GEMM reads them from HBM.
 */
import { gemmW4A16, matmul, randn, type QuantizedWeight, type Tensor } from '../../lib/index.js';
import { intList, nkShapes, register, type BenchContext, type Impl } from '../registry.js';
import { rotationCount } from '../stats.js';
import { randomW4 } from './w4a16-weights.js';

const SHAPES: [number, number][] = [[4096, 4096], [11008, 4096], [4096, 11008], [8192, 8192], [28672, 8192], [8192, 28672]];

/** Weights per (shape, kind), reused across the M sweep; a new shape frees the last one's. */
class WeightCache {
  #shape = '';
  #map = new Map<string, { dispose(): void }[]>();
  get<T extends { dispose(): void }>(shape: string, kind: string, make: () => T[]): T[] {
    if (shape !== this.#shape) {
      this.clear();
      this.#shape = shape;
    }
    let v = this.#map.get(kind);
    if (!v) this.#map.set(kind, (v = make()));
    return v as T[];
  }
  clear(): void {
    for (const list of this.#map.values()) for (const t of list) t.dispose();
    this.#map.clear();
    this.#shape = '';
  }
}
const cache = new WeightCache();

function denseImpl(dtype: 'float16' | 'bfloat16', m: number, n: number, k: number, baseline: boolean): Impl {
  return {
    name: `cuBLASLt ${dtype}`,
    baseline,
    bytes: 2 * (n * k + m * k + m * n),
    prepare(ctx: BenchContext) {
      const sets = rotationCount(n * k * 2, ctx.l2Bytes, 8);
      const ws = cache.get(`${n}x${k}`, `dense ${dtype}`, () =>
        Array.from({ length: sets }, (_, i) => {
          const q = randomW4(n, k, dtype, i, ctx.stream);
          const d = q.dequantize({ stream: ctx.stream });
          q.dispose();
          return d;
        }));
      const x = randn([m, k], { dtype, stream: ctx.stream });
      const out = randn([m, n], { dtype, stream: ctx.stream });
      return {
        run: (i) => void matmul(x, ws[i % ws.length], { out, transposeB: true, stream: ctx.stream }),
        dispose: () => { x.dispose(); out.dispose(); },
      };
    },
  };
}

/** --dense: gemmW4A16's `dense` option ('auto' unless given), to time the INT4 kernel or the dense path on its own. */
function denseOption(v: string | undefined): boolean | 'auto' {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'true' || v === 'false') return v === 'true';
  throw new Error(`expected auto, true or false for --dense but received ${JSON.stringify(v)}`);
}

function w4Impl(dtype: 'float16' | 'bfloat16', m: number, n: number, k: number, dense: boolean | 'auto'): Impl {
  const weightBytes = (n * k) / 2 + (n * k / 128) * 2;
  return {
    name: `w4a16 ${dtype}`,
    bytes: weightBytes + 2 * (m * k + m * n),
    prepare(ctx: BenchContext) {
      const sets = rotationCount(weightBytes, ctx.l2Bytes, 16);
      const qs = cache.get(`${n}x${k}`, `w4 ${dtype}`, () =>
        Array.from({ length: sets }, (_, i) => randomW4(n, k, dtype, i, ctx.stream))) as QuantizedWeight[];
      const x = randn([m, k], { dtype, stream: ctx.stream });
      const out: Tensor = randn([m, n], { dtype, stream: ctx.stream });
      return {
        run: (i) => void gemmW4A16(x, qs[i % qs.length], { out, stream: ctx.stream, dense }),
        dispose: () => { x.dispose(); out.dispose(); },
      };
    },
  };
}

register({
  name: 'w4a16',
  description: 'INT4-weight GEMM (group 128, symmetric) vs cuBLASLt on the dequantized weight, x[M,K]·W[N,K]ᵀ',
  options: {
    m: 'rows of x (list)', n: 'output features (list, pairs with --k)', k: 'input features (list)',
    dense: "gemmW4A16's dense option: auto (default), true (dequantize + cuBLASLt) or false (the INT4 kernel)",
  },
  cases(o) {
    const ms = intList(o.m, [1, 2, 4, 8, 16, 32, 64, 128, 256], 'm');
    const dense = denseOption(o.dense);
    const shapes = nkShapes(o, SHAPES);
    return shapes.flatMap(([n, k]) => ms.map((m) => ({
      label: `M=${m} N=${n} K=${k}`,
      params: { m, n, k, groupSize: 128 },
      flops: 2 * m * n * k,
      bytes: 2 * (n * k + m * k + m * n),
      impls: [denseImpl('float16', m, n, k, true), w4Impl('float16', m, n, k, dense), denseImpl('bfloat16', m, n, k, false), w4Impl('bfloat16', m, n, k, dense)],
    })));
  },
  teardown: () => cache.clear(),
});
