/**
 * GPU gating for tests: `describeGpu` runs its block only when a supported
 * GPU is present, and otherwise skips it under a title that says why.
 */
import { describe } from 'vitest';
import { isAvailable, unavailableReason } from '../lib/index.js';

export const hasGpu = isAvailable();
export const skipReason = hasGpu ? '' : `skipped: ${unavailableReason()?.split('\n')[0]}`;

export function describeGpu(name: string, fn: () => void): void {
  if (hasGpu) describe(name, fn);
  else describe.skip(`${name} [GPU test ${skipReason}]`, fn);
}

/** ‖out − ref‖ / ‖ref‖ and max |out − ref|; NaN in out counts as failure (returns Infinity). */
export function errors(out: ArrayLike<number>, ref: ArrayLike<number>): { rel: number; maxAbs: number } {
  let num = 0, den = 0, maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    if (!Number.isFinite(out[i])) return { rel: Infinity, maxAbs: Infinity };
    num += d * d;
    den += ref[i] * ref[i];
    maxAbs = Math.max(maxAbs, Math.abs(d));
  }
  return { rel: Math.sqrt(num / (den || 1)), maxAbs };
}

/** Deterministic host random numbers (mulberry32 + Box-Muller), so failures reproduce. */
export function hostRandn(n: number, seed: number, scale = 1): Float64Array {
  let t = seed >>> 0;
  const next = () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r ^= r + Math.imul(r ^ (r >>> 7), 61 | r);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return out;
}
