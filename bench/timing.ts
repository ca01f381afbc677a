/**
 * Times one implementation with CUDA events on one stream: warm-up first,
 * then an event pair around every iteration, or (chain > 1) around every
 * `chain` back-to-back iterations, a decoder's layers one after another,
 * where a kernel may overlap the end of the one before (programmatic
 * dependent launch); a sample is then the chain's time over its length.
 * A spin kernel holds the stream while the host queues all timed
 * iterations, so they run back to back and the events measure GPU time even
 * for kernels shorter than the host's per-launch cost; per-iteration times
 * come from the events after one synchronize.
 */
import { Event } from '../lib/index.js';
import { native } from '../lib/binding.js';
import type { BenchContext, Prepared } from './registry.js';

export interface TimingOptions {
  warmup: number;
  iters: number;
  /** Iterations per event pair (default 1). */
  chain?: number;
}

export async function timeIterations(p: Prepared, ctx: BenchContext, o: TimingOptions): Promise<number[]> {
  const chain = Math.max(1, o.chain ?? 1);
  for (let i = 0; i < o.warmup; i++) p.run(i);
  await ctx.stream.synchronize();
  const starts = Array.from({ length: o.iters }, () => new Event({ device: ctx.device }));
  const ends = Array.from({ length: o.iters }, () => new Event({ device: ctx.device }));
  // Generous: the host must finish queueing before the spin ends (≤ ~100 µs per iteration).
  native().spin(ctx.stream.native, 5000 + 100 * o.iters * chain);
  try {
    let it = o.warmup;
    for (let i = 0; i < o.iters; i++) {
      starts[i].record(ctx.stream);
      for (let j = 0; j < chain; j++) p.run(it++);
      ends[i].record(ctx.stream);
    }
    await ctx.stream.synchronize();
    return ends.map((e, i) => e.elapsedSince(starts[i]) / chain);
  } finally {
    for (const e of [...starts, ...ends]) e.destroy();
  }
}
