// Host-side attention pieces, run everywhere (no GPU): the float64 reference
// against identities of softmax attention, mask geometry, option parsing.
import { describe, expect, it } from 'vitest';
import { referenceAttention, visibleKeys } from '../lib/attention/reference.js';
import { offsetsFor, parseMask, strides4 } from '../lib/attention/common.js';
import { WarpforgeError } from '../lib/index.js';
import { hostRandn } from './gpu.js';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol);
};

describe('attention reference (float64)', () => {
  it('one visible key returns that value row; lse is the scaled score', () => {
    const d = 16, q = hostRandn(d, 1), k = hostRandn(d, 2), v = hostRandn(d, 3);
    const r = referenceAttention({ q, k, v, sq: 1, sk: 1, h: 1, hkv: 1, d, scale: 0.3 });
    close(r.out, v);
    let dot = 0;
    for (let i = 0; i < d; i++) dot += q[i] * k[i];
    expect(r.lse[0]).toBeCloseTo(0.3 * dot, 12);
  });

  it('equals an explicit softmax over the visible keys (causal, window, softcap)', () => {
    const sq = 5, sk = 9, d = 8, q = hostRandn(sq * d, 4), k = hostRandn(sk * d, 5), v = hostRandn(sk * d, 6);
    const r = referenceAttention({ q, k, v, sq, sk, h: 1, hkv: 1, d, scale: 0.7, softcap: 2, windowLeft: 3, windowRight: 0 });
    for (let i = 0; i < sq; i++) {
      // bottom-right aligned: row i's last key is i + sk - sq; window keeps 3 more to the left
      const keys = [...Array(sk).keys()].filter((j) => j <= i + sk - sq && j >= i + sk - sq - 3);
      const s = keys.map((j) => {
        let dot = 0;
        for (let c = 0; c < d; c++) dot += q[i * d + c] * k[j * d + c];
        return 2 * Math.tanh((0.7 * dot) / 2);
      });
      const z = s.reduce((a, x) => a + Math.exp(x), 0);
      const want = new Float64Array(d);
      keys.forEach((j, n) => { for (let c = 0; c < d; c++) want[c] += (Math.exp(s[n]) / z) * v[j * d + c]; });
      close(r.out.subarray(i * d, (i + 1) * d), want, 1e-12);
      expect(r.lse[i]).toBeCloseTo(Math.log(z), 12);
    }
  });

  it('GQA reads K/V head h / (H / Hkv): the same as repeating K/V per head', () => {
    const sq = 3, sk = 4, d = 8, h = 4, hkv = 2;
    const q = hostRandn(sq * h * d, 7), k = hostRandn(sk * hkv * d, 8), v = hostRandn(sk * hkv * d, 9);
    const rep = (a: Float64Array) => {
      const out = new Float64Array(sk * h * d);
      for (let j = 0; j < sk; j++) for (let hh = 0; hh < h; hh++) for (let c = 0; c < d; c++)
        out[(j * h + hh) * d + c] = a[(j * hkv + Math.floor(hh / 2)) * d + c];
      return out;
    };
    const a = referenceAttention({ q, k, v, sq, sk, h, hkv, d, scale: 0.5 });
    const b = referenceAttention({ q, k: rep(k), v: rep(v), sq, sk, h, hkv: h, d, scale: 0.5 });
    close(a.out, b.out);
    close(a.lse, b.lse);
  });

  it('rows that see no key output zeros and lse -Infinity (causal, Sq > Sk)', () => {
    const sq = 4, sk = 2, d = 8;
    const r = referenceAttention({ q: hostRandn(sq * d, 10), k: hostRandn(sk * d, 11), v: hostRandn(sk * d, 12), sq, sk, h: 1, hkv: 1, d, scale: 1, windowRight: 0 });
    expect(Array.from(r.lse.subarray(0, 2))).toEqual([-Infinity, -Infinity]);
    expect(Array.from(r.out.subarray(0, 2 * d)).every((x) => x === 0)).toBe(true);
    expect(Number.isFinite(r.lse[2]) && Number.isFinite(r.lse[3])).toBe(true);
  });

  it('visible key ranges are bottom-right aligned', () => {
    expect(visibleKeys(0, 3, 5, -1, 0)).toEqual([0, 3]);
    expect(visibleKeys(2, 3, 5, -1, 0)).toEqual([0, 5]);
    expect(visibleKeys(0, 5, 3, -1, 0)).toEqual([0, 0]);
    expect(visibleKeys(4, 5, 5, 1, 1)).toEqual([3, 5]);
    expect(visibleKeys(1, 4, 4, -1, -1)).toEqual([0, 4]);
  });
});

describe('attention options', () => {
  it('causal sets the right window edge to 0; scale defaults to 1/sqrt(D)', () => {
    expect(parseMask({ causal: true }, 64, 'attention')).toEqual({ scale: 0.125, softcap: 0, windowLeft: -1, windowRight: 0, portable: false });
    expect(parseMask({ causal: true, window: [16, 4] }, 64, 'attention')).toMatchObject({ windowLeft: 16, windowRight: 0 });
    expect(parseMask({ window: [16, 4], softcap: 30, scale: 2 }, 64, 'attention')).toEqual({ scale: 2, softcap: 30, windowLeft: 16, windowRight: 4, portable: false });
    expect(parseMask({ kernel: 'portable' }, 64, 'attention')).toMatchObject({ portable: true });
  });

  it('bad options are typed errors', () => {
    for (const bad of [{ scale: NaN }, { scale: 0 }, { scale: -0.1 }, { scale: 1e39 }, { softcap: -1 }, { window: [1] }, { window: [-2, 0] }, { window: [1.5, 0] },
      { kernel: 'wgmma' }]) {
      expect(() => parseMask(bad as never, 64, 'attention')).toThrow(WarpforgeError);
      try { parseMask(bad as never, 64, 'attention'); } catch (e) { expect((e as WarpforgeError).code).toBe('ERR_INVALID_ARGUMENT'); }
    }
  });

  it('strides of the two layouts address the same element', () => {
    const [B, S, H, D] = [2, 5, 3, 8];
    const bshd = strides4([B, S, H, D], 'bshd'), bhsd = strides4([B, H, S, D], 'bhsd');
    expect(bshd).toEqual([S * H * D, H * D, D]);
    expect(bhsd).toEqual([H * S * D, D, S * D]);
  });

  it('host row offsets are checked before anything is uploaded', () => {
    const code = (v: unknown, batchPlusOne?: number) => {
      try { offsetsFor(v, 'cuSeqlensQ', batchPlusOne, 10, 0, undefined); } catch (e) { return (e as WarpforgeError).code; }
      return 'no error';
    };
    expect(code([1, 4, 10])).toBe('ERR_INVALID_ARGUMENT'); // does not start at 0
    expect(code([0, 4, 9])).toBe('ERR_INVALID_ARGUMENT'); // does not end at the row count
    expect(code([0, 6, 4, 10])).toBe('ERR_INVALID_ARGUMENT'); // decreases
    expect(code([0])).toBe('ERR_SHAPE'); // no sequence
    expect(code([0, 4, 10], 4)).toBe('ERR_SHAPE'); // batch differs from q's offsets
    expect(code('0,4,10')).toBe('ERR_INVALID_ARGUMENT');
  });
});
