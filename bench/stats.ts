/** Summary statistics of timing samples (milliseconds in, whatever unit out). */
export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  mean: number;
  p10: number;
  p90: number;
}

/** Linear-interpolated quantile of sorted values, q in [0, 1]. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    median: quantile(s, 0.5),
    min: s[0] ?? NaN,
    max: s[s.length - 1] ?? NaN,
    mean: s.reduce((a, b) => a + b, 0) / (s.length || NaN),
    p10: quantile(s, 0.1),
    p90: quantile(s, 0.9),
  };
}

/** How many input sets to rotate through so that one pass over them is ≥ 3× the L2 cache. */
export function rotationCount(bytesPerSet: number, l2Bytes: number, maxSets = 64): number {
  if (bytesPerSet <= 0) return 1;
  return Math.max(1, Math.min(maxSets, Math.ceil((3 * l2Bytes) / bytesPerSet)));
}

export const tflops = (flops: number, ms: number): number => flops / (ms * 1e-3) / 1e12;
export const gbps = (bytes: number, ms: number): number => bytes / (ms * 1e-3) / 1e9;
