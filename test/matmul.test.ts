// matmul (cuBLASLt) against a float64 host reference on the same rounded
// inputs, at odd sizes, with the output poisoned first.
import { expect, it } from 'vitest';
import { fillBytes } from '../lib/tensor.js';
import { empty, matmul, tensor, type DType } from '../lib/index.js';
import { describeGpu, errors, hostRandn } from './gpu.js';

function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transB: boolean): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * (transB ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  return c;
}

// Output rounding dominates: about half an ulp of the output type.
const TOL: Record<string, number> = { float32: 1e-5, float16: 1e-3, bfloat16: 8e-3 };

describeGpu('matmul (cuBLASLt)', () => {
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [7, 64, 129], [127, 129, 65], [257, 33, 300], [16, 8192, 64]];
  for (const dtype of ['float32', 'float16', 'bfloat16'] as DType[]) {
    for (const transB of [false, true]) {
      it(`${dtype}${transB ? ' (b transposed)' : ''} matches a float64 reference`, async () => {
        for (const [m, n, k] of shapes) {
          const a = tensor(hostRandn(m * k, m * 7 + k), { shape: [m, k], dtype });
          const b = tensor(hostRandn(k * n, n * 13 + k), { shape: transB ? [n, k] : [k, n], dtype });
          const out = empty([m, n], dtype);
          fillBytes(out, 0xff); // NaN in every float dtype: an unwritten element fails
          matmul(a, b, { out, transposeB: transB });
          const ref = reference((await a.toArray()) as Float32Array, (await b.toArray()) as Float32Array, m, n, k, transB);
          const got = await out.toArray();
          const e = errors(got, ref);
          expect(e.rel, `M=${m} N=${n} K=${k}: rel ${e.rel} maxAbs ${e.maxAbs}`).toBeLessThan(TOL[dtype]);
          for (const t of [a, b, out]) t.dispose();
        }
      });
    }
  }

  it('batched (3-D) with alpha multiplies every batch entry', async () => {
    for (const [dtype, transB] of [['float16', true], ['bfloat16', false], ['float32', true]] as [DType, boolean][]) {
      const [batch, m, n, k] = [3, 17, 33, 40];
      const a = tensor(hostRandn(batch * m * k, 31), { shape: [batch, m, k], dtype });
      const b = tensor(hostRandn(batch * k * n, 32), { shape: transB ? [batch, n, k] : [batch, k, n], dtype });
      const out = empty([batch, m, n], dtype);
      fillBytes(out, 0xff);
      matmul(a, b, { out, transposeB: transB, alpha: 0.25 });
      const [ha, hb, got] = [(await a.toArray()) as Float32Array, (await b.toArray()) as Float32Array, await out.toArray()];
      for (let i = 0; i < batch; i++) {
        const ref = reference(ha.subarray(i * m * k, (i + 1) * m * k), hb.subarray(i * k * n, (i + 1) * k * n), m, n, k, transB).map((x) => x * 0.25);
        const e = errors(got.subarray(i * m * n, (i + 1) * m * n), ref);
        expect(e.rel, `${dtype} batch ${i}: rel ${e.rel}`).toBeLessThan(TOL[dtype]);
      }
      expect(() => matmul(a, tensor(hostRandn(2 * k * n, 3), { shape: [2, k, n], dtype }))).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
      for (const t of [a, b, out]) t.dispose();
    }
  });

  it('adds a bias to every row', async () => {
    for (const dtype of ['float16', 'bfloat16', 'float32'] as DType[]) {
      const [m, n, k] = [5, 24, 40];
      const a = tensor(hostRandn(m * k, 1), { shape: [m, k], dtype });
      const b = tensor(hostRandn(n * k, 2), { shape: [n, k], dtype });
      const bias = tensor(hostRandn(n, 3), { shape: [n], dtype });
      const out = matmul(a, b, { transposeB: true, bias });
      const ref = reference((await a.toArray()) as Float32Array, (await b.toArray()) as Float32Array, m, n, k, true);
      const bv = await bias.toArray();
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) ref[i * n + j] += bv[j];
      expect(errors(await out.toArray(), ref).rel, dtype).toBeLessThan(TOL[dtype]);
      expect(() => matmul(a, b, { transposeB: true, bias: a })).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    }
  });

  it('allocates the output when none is given', async () => {
    const a = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'float16' });
    const b = tensor([5, 6, 7, 8], { shape: [2, 2], dtype: 'float16' });
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 2]);
    expect(Array.from(await c.toArray())).toEqual([19, 22, 43, 50]);
  });

  it('rejects bad operands with typed errors', () => {
    const a = tensor(hostRandn(12, 1), { shape: [3, 4], dtype: 'float16' });
    const b = tensor(hostRandn(10, 2), { shape: [5, 2], dtype: 'float16' });
    const bf = tensor(hostRandn(8, 3), { shape: [4, 2], dtype: 'bfloat16' });
    const i8 = tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'int8' });
    const v = tensor(hostRandn(4, 4), { shape: [4], dtype: 'float16' });
    expect(() => matmul(a, b)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => matmul(a, bf)).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
    expect(() => matmul(i8, i8)).toThrow(expect.objectContaining({ code: 'ERR_DTYPE' }));
    expect(() => matmul(a, v)).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    const out = empty([3, 3], 'float16');
    const b2 = tensor(hostRandn(8, 5), { shape: [4, 2], dtype: 'float16' });
    expect(() => matmul(a, b2, { out })).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    b2.dispose();
    expect(() => matmul(a, b2)).toThrow(expect.objectContaining({ code: 'ERR_DISPOSED' }));
    expect(() => matmul(a, {} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
