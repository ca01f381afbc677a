// Tensors on the GPU: every dtype round-trips, factories fill correctly,
// disposal and bad input give typed errors.
import { expect, it } from 'vitest';
import { decodeFloat, FORMATS } from '../lib/convert.js';
import { empty, rand, randn, tensor, WarpforgeError, zeros, type DType } from '../lib/index.js';
import { describeGpu, hostRandn } from './gpu.js';

const EDGE = [0, -0, 1, -1, 0.5, 1e-3, -2.75, 65504, 448, 57344, 1e-7, Infinity, -Infinity, NaN];

describeGpu('tensor round trips', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2'] as DType[]) {
    it(`${dtype}: values come back as the host encoding says, edge cases included`, async () => {
      const values = [...EDGE, ...hostRandn(1000, 11, 3)];
      const t = tensor(values, { shape: [values.length], dtype });
      const back = await t.toArray();
      const raw = await t.toRaw();
      expect(back).toBeInstanceOf(Float32Array);
      expect(back.length).toBe(values.length);
      for (let i = 0; i < values.length; i++) {
        const expected = dtype === 'float32' ? Math.fround(values[i]) : decodeFloat(raw[i], FORMATS[dtype as keyof typeof FORMATS]);
        if (Number.isNaN(expected)) expect(Number.isNaN(back[i])).toBe(true);
        else expect(back[i], `i=${i} v=${values[i]}`).toBe(expected);
      }
      // A raw upload of those bits reproduces the tensor exactly.
      if (dtype !== 'float32') {
        const again = tensor(raw as Uint16Array, { shape: [values.length], dtype });
        expect(Array.from(await again.toRaw())).toEqual(Array.from(raw));
        again.dispose();
      }
      t.dispose();
    });
  }

  for (const [dtype, values] of [['int8', [-128, -1, 0, 7, 127]], ['uint8', [0, 1, 200, 255]], ['int32', [-(2 ** 31), -5, 0, 2 ** 31 - 1]]] as [DType, number[]][]) {
    it(`${dtype} round-trips exactly`, async () => {
      const t = tensor(values, { shape: [values.length], dtype });
      expect(Array.from(await t.toArray())).toEqual(values);
      t.dispose();
    });
  }

  it('2-D shapes, odd sizes, zeros and clone', async () => {
    const v = hostRandn(3 * 17, 5);
    const t = tensor(Float32Array.from(v), { shape: [3, 17] });
    expect(t.shape).toEqual([3, 17]);
    expect(t.nbytes).toBe(3 * 17 * 4);
    const c = t.clone();
    expect(Array.from(await c.toArray())).toEqual(Array.from(Float32Array.from(v)));
    const z = zeros([129], 'bfloat16');
    expect(Array.from(await z.toArray()).every((x) => x === 0)).toBe(true);
    const e = empty([0], 'float16');
    expect((await e.toArray()).length).toBe(0);
    for (const x of [t, c, z, e]) x.dispose();
  });

  it('rand and randn: right range, right moments, reproducible by seed', async () => {
    const u = await rand([1 << 20], { seed: 1, low: -2, high: 3 }).toArray();
    let min = Infinity, max = -Infinity, sum = 0;
    for (const x of u) { min = Math.min(min, x); max = Math.max(max, x); sum += x; }
    expect(min).toBeGreaterThanOrEqual(-2);
    expect(max).toBeLessThan(3);
    expect(sum / u.length).toBeCloseTo(0.5, 2);
    const n = await randn([1 << 20], { seed: 2, mean: 1, std: 2, dtype: 'bfloat16' }).toArray();
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    const sd = Math.sqrt(n.reduce((a, b) => a + (b - mean) ** 2, 0) / n.length);
    expect(mean).toBeCloseTo(1, 1);
    expect(sd).toBeCloseTo(2, 1);
    const again = await randn([1 << 20], { seed: 2, mean: 1, std: 2, dtype: 'bfloat16' }).toArray();
    expect(Buffer.from(again.buffer).equals(Buffer.from(n.buffer))).toBe(true);
    const ints = await rand([10000], { dtype: 'int32', low: -3, high: 4, seed: 9 }).toArray();
    expect(new Set(ints)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
  });

  it('a disposed tensor throws ERR_DISPOSED; dispose is idempotent', async () => {
    const t = tensor([1, 2], { shape: [2] });
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    await expect(t.toArray()).rejects.toMatchObject({ code: 'ERR_DISPOSED' });
    expect(() => t.clone()).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
  });

  it('out-of-memory and bad device are typed errors', () => {
    expect(() => empty([2 ** 50], 'uint8')).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_MEMORY' }));
    expect(() => empty([4], 'float32', { device: 99 })).toThrow(expect.objectContaining({ code: 'ERR_DEVICE' }));
    // The process is still healthy afterwards.
    const t = zeros([4]);
    t.dispose();
    try {
      empty([2 ** 50], 'uint8');
    } catch (e) {
      expect(e).toBeInstanceOf(WarpforgeError);
      expect((e as Error).message).toMatch(/out of device memory/);
    }
  });
});
