/**
 * Times one implementation with CUDA events on one stream: warm-up first,
 * then an event pair around every iteration, or (chain > 1) around every
 * `chain` back-to-back iterations, a decoder's layers one after another,
 * where a kernel may overlap the end of the one before (programmatic
 * dependent launch); a sample is then the chain's time over its length.
 * A spin kernel holds the stream while the host queues all timed
 * iterations, so they run back to back and the events measure GPU time even
 * for kernels shorter than the host's per-launch cost; the iterations go
 * in batches of at most 16, each behind its own spin (below).
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

/** Iterations queued behind one spin (fewer when chained). */
const kBatch = 16;

export async function timeIterations(p: Prepared, ctx: BenchContext, o: TimingOptions): Promise<number[]> {
  const chain = Math.max(1, o.chain ?? 1);
  for (let i = 0; i < o.warmup; i++) p.run(i);
  await ctx.stream.synchronize();
  // The spin must outlast the host's queueing, or the samples after it
  // include the host's launch rate. The driver holds only so much queued
  // work behind a busy stream (H200: the host blocked at the 28th of 100
  // iterations, and the rest ran at the host's pace), so the samples are
  // taken in batches, each behind its own spin. An event after the spin
  // tells whether the host was done in time; if not, the batch is taken
  // again at half the size.
  const out: number[] = [];
  let it = o.warmup;
  let batch = Math.max(1, Math.floor(kBatch / chain));
  while (out.length < o.iters) {
    const n = Math.min(batch, o.iters - out.length);
    const starts = Array.from({ length: n }, () => new Event({ device: ctx.device }));
    const ends = Array.from({ length: n }, () => new Event({ device: ctx.device }));
    const held = new Event({ device: ctx.device, timing: false });
    try {
      native().spin(ctx.stream.native, 2000 + 200 * n * chain);
      held.record(ctx.stream);
      for (let i = 0; i < n; i++) {
        starts[i].record(ctx.stream);
        for (let j = 0; j < chain; j++) p.run(it++);
        ends[i].record(ctx.stream);
      }
      const starved = held.query();
      await ctx.stream.synchronize();
      if (starved && n > 1) {
        batch = Math.max(1, n >> 1);
        continue;
      }
      if (starved) process.stderr.write('\nbench: one iteration outlasted a spin; its sample may include host time\n');
      out.push(...ends.map((e, i) => e.elapsedSince(starts[i]) / chain));
    } finally {
      for (const e of [...starts, ...ends, held]) e.destroy();
    }
  }
  return out;
}
