/**
 * cuBLASLt dense GEMM, the baseline of every later kernel. Layout as a Linear
 * layer: out[M, N] = x[M, K] · W[N, K]ᵀ, row-major, float32 accumulation.
 */
import { matmul, randn, type DType, type Tensor } from '../../lib/index.js';
import { intList, register, type BenchContext, type Impl } from '../registry.js';
import { rotationCount } from '../stats.js';

function cublasImpl(dtype: DType, m: number, n: number, k: number, baseline: boolean): Impl {
  return {
    name: `cuBLASLt ${dtype}`,
    baseline,
    prepare(ctx: BenchContext) {
      const setBytes = (m * k + n * k) * 2;
      const sets = rotationCount(setBytes, ctx.l2Bytes);
      const xs: Tensor[] = [], ws: Tensor[] = [];
      for (let i = 0; i < sets; i++) {
        xs.push(randn([m, k], { dtype, stream: ctx.stream }));
        ws.push(randn([n, k], { dtype, stream: ctx.stream, std: 0.02 }));
      }
      const out = randn([m, n], { dtype, stream: ctx.stream });
      return {
        run: (i) => void matmul(xs[i % sets], ws[i % sets], { out, transposeB: true, stream: ctx.stream }),
        dispose: () => [...xs, ...ws, out].forEach((t) => t.dispose()),
      };
    },
  };
}

register({
  name: 'matmul',
  description: 'cuBLASLt GEMM x[M,K]·W[N,K]ᵀ in float16 and bfloat16',
  options: { m: 'rows of x (list)', n: 'output features (list)', k: 'input features (list)' },
  cases(o) {
    const ms = intList(o.m, [1, 16, 128, 8192], 'm');
    const ns = intList(o.n, [8192], 'n');
    const ks = intList(o.k, [8192], 'k');
    return ms.flatMap((m) =>
      ns.flatMap((n) =>
        ks.map((k) => ({
          label: `M=${m} N=${n} K=${k}`,
          params: { m, n, k },
          flops: 2 * m * n * k,
          bytes: 2 * (m * k + n * k + m * n),
          impls: [cublasImpl('float16', m, n, k, true), cublasImpl('bfloat16', m, n, k, false)],
        })),
      ),
    );
  },
});
