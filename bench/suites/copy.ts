/**
 * Device-to-device copy: the memory-bandwidth ceiling that memory-bound
 * kernels (W4A16 at small M, decode attention) are reported against.
 */
import { empty, type Tensor } from '../../lib/index.js';
import { intList, register, type BenchContext } from '../registry.js';

register({
  name: 'copy',
  description: 'device-to-device copy bandwidth (bytes read + written)',
  options: { mib: 'buffer size in MiB (list)' },
  cases(o) {
    return intList(o.mib, [1024], 'mib').map((mib) => ({
      label: `${mib} MiB`,
      params: { mib },
      flops: 0,
      bytes: 2 * mib * 2 ** 20,
      impls: [
        {
          name: 'cudaMemcpyAsync',
          baseline: true,
          prepare(ctx: BenchContext) {
            const bufs: Tensor[] = [0, 1].map(() => empty([mib * 2 ** 20], 'uint8', { stream: ctx.stream }));
            return {
              // Alternate direction; 1 GiB each way is 20× any L2.
              run: (i) => void bufs[i % 2].copyFrom(bufs[(i + 1) % 2], { stream: ctx.stream }),
              dispose: () => bufs.forEach((t) => t.dispose()),
            };
          },
        },
      ],
    }));
  },
});
