// Streams, events, asynchronous waits and the memory pool.
import { expect, it } from 'vitest';
import { empty, Event, matmul, memoryStats, randn, Stream, tensor, zeros } from '../lib/index.js';
import { describeGpu } from './gpu.js';

describeGpu('streams and events', () => {
  it('an event orders work across streams', async () => {
    const s1 = new Stream();
    const s2 = new Stream();
    // Long work on s1 (a chain of large matmuls), ending in a write of `src`.
    const a = randn([4096, 4096], { dtype: 'float16', stream: s1, std: 0.01 });
    const src = zeros([4096, 4096], 'float16', { stream: s1 });
    for (let i = 0; i < 8; i++) matmul(a, a, { out: src, stream: s1 });
    const done = s1.record();
    const dst = empty([4096, 4096], 'float16', { stream: s2 });
    s2.waitEvent(done);
    dst.copyFrom(src, { stream: s2 });
    const [x, y] = [await src.toArray({ stream: s1 }), await dst.toArray({ stream: s2 })];
    expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
    expect(x.some((v) => v !== 0)).toBe(true);
    for (const t of [a, src, dst]) t.dispose();
    s1.destroy();
    s2.destroy();
  });

  it('elapsed time between events is positive, and waits resolve', async () => {
    const s = new Stream();
    const a = randn([2048, 2048], { dtype: 'bfloat16', stream: s });
    const start = new Event().record(s);
    for (let i = 0; i < 4; i++) matmul(a, a, { stream: s }).dispose();
    const end = new Event().record(s);
    await end.synchronize();
    expect(end.query()).toBe(true);
    expect(end.elapsedSince(start)).toBeGreaterThan(0);
    expect(() => new Event().elapsedSince(start)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    a.dispose();
  });

  it('synchronize() keeps the event loop running while the GPU works', async () => {
    const s = new Stream();
    const a = randn([8192, 8192], { dtype: 'float16', stream: s, std: 0.01 });
    const out = empty([8192, 8192], 'float16', { stream: s });
    for (let i = 0; i < 60; i++) matmul(a, a, { out, stream: s }); // ≈ 100 ms or more of GPU work
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const busyAtStart = !s.query();
    await s.synchronize();
    clearInterval(timer);
    expect(busyAtStart).toBe(true);
    expect(ticks).toBeGreaterThan(3);
    a.dispose();
    out.dispose();
  });

  it('10,000 allocate/free cycles leave memory flat', async () => {
    const s = new Stream();
    await s.synchronize();
    const before = memoryStats();
    for (let i = 0; i < 10_000; i++) {
      const t = empty([1 + (i % 97) * 1024], 'float32', { stream: s });
      t.dispose();
    }
    await s.synchronize();
    const after = memoryStats();
    expect(after.inUse).toBe(before.inUse);
    // The pool may grow once to hold the largest block, not once per cycle.
    expect(after.reserved - before.reserved).toBeLessThanOrEqual(64 << 20);
    s.destroy();
  });

  it('a tensor the program forgets is freed by the finalizer', async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    expect(gc, 'vitest.config.ts passes --expose-gc').toBeTypeOf('function');
    const before = memoryStats().inUse;
    (() => { tensor(new Float32Array(1 << 20), { shape: [1 << 20] }); })();
    for (let i = 0; i < 5; i++) { gc!(); await new Promise((r) => setTimeout(r, 10)); }
    expect(memoryStats().inUse).toBe(before);
  });
});
