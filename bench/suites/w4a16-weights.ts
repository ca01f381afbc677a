/**
 * Random INT4 weights for the w4a16 suites: an N(0, 0.02²) [N, K] weight,
 * quantized (group 128, symmetric) on the GPU, its dense source freed.
 */
import { quantizeW4, randn, type QuantizedWeight, type Stream } from '../../lib/index.js';

export function randomW4(n: number, k: number, dtype: 'float16' | 'bfloat16', seed: number, stream: Stream): QuantizedWeight {
  const w = randn([n, k], { dtype, std: 0.02, seed, stream });
  try {
    return quantizeW4(w, { groupSize: 128, stream });
  } finally {
    w.dispose();
  }
}
