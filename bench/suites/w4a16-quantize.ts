/**
 * quantizeW4 on the GPU (quantize + pack kernels): how long packing a
 * checkpoint's layers takes. The bar: a 70B-class layer (28672 ×
 * 8192) well under a second.
 */
import { quantizeW4, randn, type QuantizedWeight, type Tensor } from '../../lib/index.js';
import { intList, register, type BenchContext } from '../registry.js';

register({
  name: 'w4a16-quantize',
  description: 'quantizeW4 (round-to-nearest, group 128, float16) of a [N, K] weight, GPU quantize + pack',
  options: { n: 'output features (list)', k: 'input features (list)' },
  cases(o) {
    return intList(o.n, [28672], 'n').flatMap((n) => intList(o.k, [8192], 'k').map((k) => ({
      label: `N=${n} K=${k}`,
      params: { n, k },
      flops: 0,
      bytes: n * k * 2 + n * k / 2,
      impls: [{
        name: 'quantizeW4 float16 g128',
        baseline: true,
        prepare(ctx: BenchContext) {
          const w: Tensor = randn([n, k], { dtype: 'float16', std: 0.02, stream: ctx.stream });
          let last: QuantizedWeight | undefined;
          return {
            run: () => {
              last?.dispose();
              last = quantizeW4(w, { groupSize: 128, stream: ctx.stream });
            },
            dispose: () => { last?.dispose(); w.dispose(); },
          };
        },
      }],
    })));
  },
});
