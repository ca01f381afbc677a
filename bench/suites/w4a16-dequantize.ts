/**
 * QuantizedWeight.dequantize(): the packed INT4 weight back to a dense
 * [N, K] float16 tensor (what a dense GEMM on the weight would need), as
 * bytes moved per second (packed weight and scales read, N·K·2 written)
 * against the copy bandwidth. Packed weights are rotated past 3× L2.
 */
import { type QuantizedWeight, type Tensor } from '../../lib/index.js';
import { nkShapes, register, type BenchContext } from '../registry.js';
import { rotationCount } from '../stats.js';
import { randomW4 } from './w4a16-weights.js';

register({
  name: 'w4a16-dequantize',
  description: 'dequantize() of a group-128 symmetric INT4 weight to float16 [N, K]',
  options: { n: 'output features (list, pairs with --k)', k: 'input features (list)' },
  cases(o) {
    const shapes = nkShapes(o, [[8192, 8192], [28672, 8192], [8192, 28672]]);
    return shapes.map(([n, k]) => {
      const packedBytes = n * k / 2 + (n * k / 128) * 2;
      return {
        label: `N=${n} K=${k}`,
        params: { n, k },
        flops: 0,
        bytes: packedBytes + n * k * 2,
        impls: [{
          name: 'dequantize float16',
          baseline: true,
          prepare(ctx: BenchContext) {
            const qs: QuantizedWeight[] = Array.from({ length: rotationCount(packedBytes, ctx.l2Bytes, 8) }, (_, i) =>
              randomW4(n, k, 'float16', i, ctx.stream));
            let last: Tensor | undefined;
            return {
              run: (i) => {
                last?.dispose();
                last = qs[i % qs.length].dequantize({ stream: ctx.stream });
              },
              dispose: () => { last?.dispose(); qs.forEach((q) => q.dispose()); },
            };
          },
        }],
      };
    });
  },
});
