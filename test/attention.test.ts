// attention / attentionVarlen / decodeAttention on the GPU, against the
// float64 host reference; the kernel's error must stay within 2× of the
// unfused half-precision path's (cuBLAS QKᵀ → softmax → ·V) on the same data.
import { expect, it } from 'vitest';
import { fillBytes } from '../lib/tensor.js';
import { attention, attentionVarlen, decodeAttention, tensor, empty, WarpforgeError, type Tensor } from '../lib/index.js';
import { referenceAttention, type ReferenceProblem } from '../lib/attention/reference.js';
import { attentionUnfused } from '../lib/attention/unfused.js';
import { decodeFloat, encodeFloat, FORMATS } from '../lib/convert.js';
import { describeGpu, errors, hostRandn } from './gpu.js';

type Half = 'float16' | 'bfloat16';
const MAX_ABS: Record<Half, number> = { float16: 2e-3, bfloat16: 1.6e-2 };
const rounder = (dt: Half) => (x: number) => decodeFloat(encodeFloat(x, FORMATS[dt]), FORMATS[dt]);

let seed = 1;
function randTensor(shape: number[], dtype: Half): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(hostRandn(n, seed++), { shape, dtype });
}

/** Rows [s0, s1) of a [.., S, H, D] (per-batch) host array. */
const rowsOf = (a: Float32Array | ArrayLike<number>, offset: number, rows: number, width: number) =>
  Array.prototype.slice.call(a, offset * width, (offset + rows) * width) as number[];

interface Check {
  out: Float32Array | number[];
  lse?: Float32Array | number[];
  exact: ReferenceProblem[];            // one per sequence, with the kernel's layout offsets
  outOffset: number[];                  // row offset of each sequence in out
  lseAt?: (seq: number, head: number, row: number) => number;
  h: number;
  d: number;
  dtype: Half;
}

/** Compares every sequence; returns the worst numbers for the message. */
function check(c: Check) {
  let worst = { maxAbs: 0, rel: 0, unfused: 0, lse: 0 };
  let num = 0, den = 0;
  c.exact.forEach((prob, si) => {
    const ref = referenceAttention(prob);
    const unf = referenceAttention({ ...prob, round: rounder(c.dtype) });
    const got = rowsOf(c.out, c.outOffset[si], prob.sq, c.h * c.d);
    const e = errors(got, ref.out);
    const eu = errors(Array.from(unf.out), ref.out);
    for (let i = 0; i < got.length; i++) {
      num += (got[i] - ref.out[i]) ** 2;
      den += ref.out[i] ** 2;
    }
    worst = { ...worst, maxAbs: Math.max(worst.maxAbs, e.maxAbs), unfused: Math.max(worst.unfused, eu.maxAbs) };
    expect(e.maxAbs, `sequence ${si}: max abs error`).toBeLessThanOrEqual(MAX_ABS[c.dtype]);
    expect(e.maxAbs, `sequence ${si}: max abs error vs the unfused path's ${eu.maxAbs}`).toBeLessThanOrEqual(2 * eu.maxAbs + 1e-5);
    if (c.lse && c.lseAt) {
      for (let hh = 0; hh < c.h; hh++)
        for (let i = 0; i < prob.sq; i++) {
          const want = ref.lse[hh * prob.sq + i], have = c.lse[c.lseAt(si, hh, i)];
          if (want === -Infinity) expect(have).toBe(-Infinity);
          else {
            worst.lse = Math.max(worst.lse, Math.abs(have - want));
            expect(Math.abs(have - want)).toBeLessThanOrEqual(c.dtype === 'float16' ? 2e-3 : 2e-2);
          }
        }
    }
  });
  worst.rel = Math.sqrt(num / (den || 1));
  return worst;
}

interface Case {
  b: number; sq: number; sk: number; h: number; hkv: number; d: number; dtype?: Half;
  causal?: boolean; window?: [number, number]; softcap?: number; layout?: 'bshd' | 'bhsd'; scale?: number;
  kernel?: 'auto' | 'portable';
}

async function runAttention(c: Case) {
  const dtype = c.dtype ?? 'float16';
  const layout = c.layout ?? 'bshd';
  const shape = (s: number, h: number) => (layout === 'bshd' ? [c.b, s, h, c.d] : [c.b, h, s, c.d]);
  const q = randTensor(shape(c.sq, c.h), dtype), k = randTensor(shape(c.sk, c.hkv), dtype), v = randTensor(shape(c.sk, c.hkv), dtype);
  const out = empty(shape(c.sq, c.h), dtype);
  fillBytes(out, 0xff); // NaN: an element the kernel misses fails the check
  const r = attention(q, k, v, { causal: c.causal, window: c.window, softcap: c.softcap, layout, scale: c.scale, kernel: c.kernel, out, returnLse: true });
  expect(r.out).toBe(out);
  expect(r.lse.shape).toEqual([c.b, c.h, c.sq]);
  // Back to [B, S, H, D] on the host for the reference.
  const toBshd = (a: Float32Array, s: number, h: number) => {
    if (layout === 'bshd') return a;
    const t = new Float32Array(a.length);
    for (let b = 0; b < c.b; b++) for (let hh = 0; hh < h; hh++) for (let i = 0; i < s; i++) for (let x = 0; x < c.d; x++)
      t[((b * s + i) * h + hh) * c.d + x] = a[((b * h + hh) * s + i) * c.d + x];
    return t;
  };
  const [hq, hk, hv, ho] = [toBshd(await q.toArray() as Float32Array, c.sq, c.h), toBshd(await k.toArray() as Float32Array, c.sk, c.hkv),
    toBshd(await v.toArray() as Float32Array, c.sk, c.hkv), toBshd(await out.toArray() as Float32Array, c.sq, c.h)];
  const lse = await r.lse.toArray() as Float32Array;
  const windowLeft = c.window?.[0] ?? -1;
  const windowRight = c.causal ? 0 : (c.window?.[1] ?? -1);
  const exact: ReferenceProblem[] = [];
  for (let b = 0; b < c.b; b++)
    exact.push({
      q: rowsOf(hq, b * c.sq, c.sq, c.h * c.d), k: rowsOf(hk, b * c.sk, c.sk, c.hkv * c.d), v: rowsOf(hv, b * c.sk, c.sk, c.hkv * c.d),
      sq: c.sq, sk: c.sk, h: c.h, hkv: c.hkv, d: c.d, scale: c.scale ?? 1 / Math.sqrt(c.d), softcap: c.softcap, windowLeft, windowRight,
    });
  const res = check({ out: ho, lse, exact, outOffset: exact.map((_, b) => b * c.sq), lseAt: (b, hh, i) => (b * c.h + hh) * c.sq + i, h: c.h, d: c.d, dtype });
  for (const t of [q, k, v, out, r.lse]) t.dispose();
  return res;
}

const label = (c: Case) =>
  `${c.dtype ?? 'float16'} B${c.b} Sq${c.sq} Sk${c.sk} H${c.h}/${c.hkv} D${c.d}${c.causal ? ' causal' : ''}` +
  `${c.window ? ` window [${c.window}]` : ''}${c.softcap ? ` softcap ${c.softcap}` : ''}${c.layout === 'bhsd' ? ' bhsd' : ''}` +
  `${c.kernel === 'portable' ? ' (portable kernel)' : ''}`;

// On Hopper 'auto' runs the wgmma kernel and 'portable' the mma.sync one;
// elsewhere both are the mma.sync kernel.
for (const kernel of ['auto', 'portable'] as const)
describeGpu(`attention (prefill, kernel ${kernel}) against the float64 reference`, () => {
  const cases: Case[] = [];
  for (const d of [64, 128, 256])
    for (const causal of [false, true]) cases.push({ b: 2, sq: 129, sk: 129, h: 2, hkv: 2, d, causal });
  for (const d of [8, 40, 72, 96, 200]) cases.push({ b: 1, sq: 65, sk: 77, h: 2, hkv: 1, d, causal: d % 16 === 8 });
  for (const s of [1, 17, 127, 1000]) cases.push({ b: 1, sq: s, sk: s, h: 1, hkv: 1, d: 64, causal: true });
  cases.push({ b: 1, sq: 17, sk: 4097, h: 1, hkv: 1, d: 64 });
  cases.push({ b: 1, sq: 17, sk: 4097, h: 1, hkv: 1, d: 128, causal: true });
  cases.push({ b: 2, sq: 17, sk: 129, h: 4, hkv: 1, d: 128, causal: true }); // Sq < Sk, MQA
  cases.push({ b: 2, sq: 129, sk: 17, h: 8, hkv: 2, d: 64, causal: true }); // Sq > Sk: the first rows see no key
  cases.push({ b: 1, sq: 200, sk: 200, h: 8, hkv: 1, d: 64 }); // GQA 8
  cases.push({ b: 1, sq: 300, sk: 310, h: 4, hkv: 1, d: 128, window: [32, 8] });
  cases.push({ b: 1, sq: 150, sk: 150, h: 2, hkv: 2, d: 128, causal: true, window: [40, -1] });
  cases.push({ b: 1, sq: 100, sk: 130, h: 2, hkv: 2, d: 64, softcap: 5, scale: 0.5 });
  cases.push({ b: 2, sq: 70, sk: 90, h: 4, hkv: 2, d: 128, causal: true, layout: 'bhsd' });
  for (const d of [64, 128, 256]) cases.push({ b: 1, sq: 130, sk: 130, h: 2, hkv: 1, d, dtype: 'bfloat16', causal: d !== 128 });
  for (const c of cases) c.kernel = kernel;
  for (const c of cases) {
    it(label(c), async () => {
      const r = await runAttention(c);
      console.log(`attention ${label(c)}: rel ${r.rel.toExponential(2)}, max abs ${r.maxAbs.toExponential(2)} (unfused ${r.unfused.toExponential(2)}), lse ${r.lse.toExponential(2)}`);
    });
  }
});

describeGpu('attention: empty sequences and unbounded windows', () => {
  it('Sk = 0 gives zeros and lse -Infinity; Sq = 0 gives an empty output', async () => {
    const q = randTensor([2, 5, 4, 64], 'float16');
    const k0 = empty([2, 0, 2, 64], 'float16'), v0 = empty([2, 0, 2, 64], 'float16');
    const r = attention(q, k0, v0, { returnLse: true });
    expect(Array.from(await r.out.toArray()).every((x) => x === 0)).toBe(true);
    expect(Array.from(await r.lse.toArray()).every((x) => x === -Infinity)).toBe(true);
    const q0 = empty([2, 0, 4, 64], 'float16'), k = randTensor([2, 7, 2, 64], 'float16');
    const o0 = attention(q0, k, k);
    expect(o0.shape).toEqual([2, 0, 4, 64]);
    for (const t of [q, k0, v0, r.out, r.lse, q0, k, o0]) t.dispose();
  });
  it('a window wider than the sequences equals no window', async () => {
    const q = randTensor([1, 40, 2, 64], 'float16'), k = randTensor([1, 50, 2, 64], 'float16'), v = randTensor([1, 50, 2, 64], 'float16');
    const full = await attention(q, k, v).toArray();
    const wide = await attention(q, k, v, { window: [2147483647, 2147483647] }).toArray();
    const causal = await attention(q, k, v, { causal: true }).toArray();
    const wideCausal = await attention(q, k, v, { causal: true, window: [2147483647, -1] }).toArray();
    expect(wide).toEqual(full);
    expect(wideCausal).toEqual(causal);
    for (const t of [q, k, v]) t.dispose();
  });
});

describeGpu('the unfused baseline (cuBLASLt QKᵀ, softmax, cuBLASLt PV)', () => {
  for (const causal of [false, true]) {
    it(`matches the fused kernel and the reference${causal ? ' (causal, Sq < Sk)' : ''}`, async () => {
      const [b, h, sq, sk, d] = [2, 3, 70, 90, 64];
      const q = randTensor([b, h, sq, d], 'float16'), k = randTensor([b, h, sk, d], 'float16'), v = randTensor([b, h, sk, d], 'float16');
      const un = attentionUnfused(q, k, v, { causal });
      const fu = attention(q, k, v, { causal, layout: 'bhsd' });
      const [hq, hk, hv, hu, hf] = await Promise.all([q, k, v, un, fu].map((t) => t.toArray()));
      let worst = 0;
      for (let bb = 0; bb < b; bb++) {
        // [H, S, D] slices to the reference's [S, H, D]
        const perm = (a: ArrayLike<number>, s: number) => {
          const t = new Float64Array(h * s * d);
          for (let hh = 0; hh < h; hh++) for (let i = 0; i < s; i++) for (let x = 0; x < d; x++)
            t[(i * h + hh) * d + x] = a[((bb * h + hh) * s + i) * d + x];
          return t;
        };
        const ref = referenceAttention({ q: perm(hq, sq), k: perm(hk, sk), v: perm(hv, sk), sq, sk, h, hkv: h, d, scale: 1 / Math.sqrt(d), windowRight: causal ? 0 : -1 });
        const eu = errors(perm(hu, sq), ref.out), ef = errors(perm(hf, sq), ref.out);
        expect(eu.maxAbs).toBeLessThan(MAX_ABS.float16);
        expect(ef.maxAbs).toBeLessThan(MAX_ABS.float16);
        worst = Math.max(worst, eu.maxAbs);
      }
      console.log(`unfused baseline${causal ? ' causal' : ''}: max abs ${worst.toExponential(2)}`);
      for (const t of [q, k, v, un, fu]) t.dispose();
    });
  }
});

describeGpu('attentionVarlen against the float64 reference', () => {
  for (const dtype of ['float16', 'bfloat16'] as Half[]) {
    it(`${dtype}: empty and length-1 sequences, causal, GQA, host and tensor offsets`, async () => {
      const lensQ = [5, 0, 1, 130, 17], lensK = [5, 0, 1, 150, 200];
      const cu = (l: number[]) => l.reduce((a, x) => [...a, a[a.length - 1] + x], [0]);
      const [cq, ck] = [cu(lensQ), cu(lensK)];
      const h = 4, hkv = 2, d = 128;
      const totalQ = cq[cq.length - 1], totalK = ck[ck.length - 1];
      const q = randTensor([totalQ, h, d], dtype), k = randTensor([totalK, hkv, d], dtype), v = randTensor([totalK, hkv, d], dtype);
      const [hq, hk, hv] = [await q.toArray(), await k.toArray(), await v.toArray()];
      for (const offsets of ['host', 'tensor'] as const) {
        const out = empty([totalQ, h, d], dtype);
        fillBytes(out, 0xff);
        const cuQ = offsets === 'host' ? cq : tensor(Int32Array.from(cq), { shape: [cq.length], dtype: 'int32' });
        const cuK = offsets === 'host' ? ck : tensor(Int32Array.from(ck), { shape: [ck.length], dtype: 'int32' });
        const r = attentionVarlen(q, k, v, { cuSeqlensQ: cuQ, cuSeqlensK: cuK, maxSeqlenQ: 130, maxSeqlenK: 200, causal: true, out, returnLse: true });
        expect(r.lse.shape).toEqual([h, totalQ]);
        const exact = lensQ.map((sq, i) => ({
          q: rowsOf(hq, cq[i], sq, h * d), k: rowsOf(hk, ck[i], lensK[i], hkv * d), v: rowsOf(hv, ck[i], lensK[i], hkv * d),
          sq, sk: lensK[i], h, hkv, d, scale: 1 / Math.sqrt(d), windowLeft: -1, windowRight: 0,
        }));
        const lse = await r.lse.toArray();
        const res = check({ out: await out.toArray(), lse, exact, outOffset: cq, lseAt: (si, hh, i) => hh * totalQ + cq[si] + i, h, d, dtype });
        console.log(`attentionVarlen ${dtype} (${offsets} offsets): rel ${res.rel.toExponential(2)}, max abs ${res.maxAbs.toExponential(2)}`);
        for (const t of [out, r.lse]) t.dispose();
        if (cuQ instanceof Object && 'dispose' in cuQ) (cuQ as Tensor).dispose();
        if (cuK instanceof Object && 'dispose' in cuK) (cuK as Tensor).dispose();
      }
      for (const t of [q, k, v]) t.dispose();
    });
  }
});

interface DecodeCase {
  b: number; sq: number; h: number; hkv: number; d: number; smax: number; lens: number[]; dtype?: Half;
  causal?: boolean; splits?: number; append?: number; pageSize?: number; lensOnGpu?: boolean;
}

async function runDecode(c: DecodeCase) {
  const dtype = c.dtype ?? 'float16';
  const q = randTensor([c.b, c.sq, c.h, c.d], dtype);
  // Paged: the same logical cache scattered over shuffled pages.
  const pages = c.pageSize ? Math.ceil(c.smax / c.pageSize) : 0;
  const kc = c.pageSize ? randTensor([c.b * pages + 3, c.pageSize, c.hkv, c.d], dtype) : randTensor([c.b, c.smax, c.hkv, c.d], dtype);
  const vc = c.pageSize ? randTensor(kc.shape as number[], dtype) : randTensor([c.b, c.smax, c.hkv, c.d], dtype);
  let table: Int32Array | undefined;
  if (c.pageSize) {
    const ids = Array.from({ length: c.b * pages + 3 }, (_, i) => i);
    for (let i = ids.length - 1; i > 0; i--) { const j = (i * 7919 + 13) % (i + 1); [ids[i], ids[j]] = [ids[j], ids[i]]; }
    table = Int32Array.from(ids.slice(0, c.b * pages));
  }
  const kn = c.append ? randTensor([c.b, c.append, c.hkv, c.d], dtype) : undefined;
  const vn = c.append ? randTensor([c.b, c.append, c.hkv, c.d], dtype) : undefined;
  const blockTable = table ? tensor(table, { shape: [c.b, pages], dtype: 'int32' }) : undefined;
  const lens = c.lensOnGpu ? tensor(Int32Array.from(c.lens), { shape: [c.b], dtype: 'int32' }) : c.lens;
  const out = empty([c.b, c.sq, c.h, c.d], dtype);
  fillBytes(out, 0xff);
  const r = decodeAttention(q, kc, vc, lens, { causal: c.causal, numSplits: c.splits, kNew: kn, vNew: vn, blockTable, out, returnLse: true });
  // The logical cache of sequence b after the append, rows [0, len + append).
  const [hq, hkc, hvc, ho, lse] = [await q.toArray(), await kc.toArray(), await vc.toArray(), await out.toArray(), await r.lse.toArray()];
  const [hkn, hvn] = kn && vn ? [await kn.toArray(), await vn.toArray()] : [undefined, undefined];
  const row = c.hkv * c.d;
  const logical = (cache: ArrayLike<number>, fresh: ArrayLike<number> | undefined, b: number, n: number) => {
    const out: number[] = [];
    for (let j = 0; j < n; j++) {
      if (fresh && j >= c.lens[b]) { out.push(...rowsOf(fresh, b * (c.append ?? 0) + j - c.lens[b], 1, row)); continue; }
      const at = table ? table[b * pages + Math.floor(j / c.pageSize!)] * c.pageSize! + (j % c.pageSize!) : b * c.smax + j;
      out.push(...rowsOf(cache, at, 1, row));
    }
    return out;
  };
  const exact = c.lens.map((len, b) => {
    const sk = len + (c.append ?? 0);
    return {
      q: rowsOf(hq, b * c.sq, c.sq, c.h * c.d), k: logical(hkc, hkn, b, sk), v: logical(hvc, hvn, b, sk),
      sq: c.sq, sk, h: c.h, hkv: c.hkv, d: c.d, scale: 1 / Math.sqrt(c.d), windowLeft: -1, windowRight: c.causal ? 0 : -1,
    };
  });
  const res = check({ out: ho, lse, exact, outOffset: exact.map((_, b) => b * c.sq), lseAt: (b, hh, i) => (b * c.h + hh) * c.sq + i, h: c.h, d: c.d, dtype });
  for (const t of [q, kc, vc, out, r.lse, kn, vn, blockTable]) t?.dispose();
  if (!Array.isArray(lens)) lens.dispose();
  return res;
}

describeGpu('decodeAttention against the float64 reference', () => {
  const cases: DecodeCase[] = [
    { b: 4, sq: 1, h: 8, hkv: 2, d: 128, smax: 300, lens: [0, 1, 157, 300] },
    { b: 4, sq: 1, h: 8, hkv: 2, d: 128, smax: 300, lens: [0, 1, 157, 300], splits: 1 },
    { b: 4, sq: 1, h: 8, hkv: 2, d: 128, smax: 300, lens: [0, 1, 157, 300], splits: 3 },
    { b: 2, sq: 4, h: 8, hkv: 8, d: 64, smax: 1000, lens: [999, 400], causal: true },
    { b: 1, sq: 16, h: 32, hkv: 8, d: 128, smax: 2100, lens: [2100], causal: true },
    { b: 3, sq: 1, h: 4, hkv: 1, d: 256, smax: 700, lens: [700, 3, 650], lensOnGpu: true },
    { b: 2, sq: 1, h: 8, hkv: 2, d: 96, smax: 500, lens: [77, 480], dtype: 'bfloat16' },
    { b: 3, sq: 2, h: 8, hkv: 2, d: 128, smax: 256, lens: [0, 100, 254], append: 2, causal: true },
    { b: 3, sq: 1, h: 8, hkv: 2, d: 128, smax: 320, lens: [5, 160, 319], pageSize: 16 },
    { b: 2, sq: 3, h: 4, hkv: 2, d: 64, smax: 512, lens: [200, 509], pageSize: 64, append: 3, causal: true, splits: 4 },
  ];
  for (const c of cases) {
    const name = `${c.dtype ?? 'float16'} B${c.b} Sq${c.sq} H${c.h}/${c.hkv} D${c.d} lens [${c.lens}]${c.causal ? ' causal' : ''}` +
      `${c.splits ? ` splits ${c.splits}` : ''}${c.append ? ` +${c.append} appended` : ''}${c.pageSize ? ` paged ${c.pageSize}` : ''}${c.lensOnGpu ? ' (lengths on GPU)' : ''}`;
    it(name, async () => {
      const r = await runDecode(c);
      console.log(`decodeAttention ${name}: rel ${r.rel.toExponential(2)}, max abs ${r.maxAbs.toExponential(2)} (unfused ${r.unfused.toExponential(2)})`);
    });
  }
  it('lengths on the GPU beyond the cache are clamped, never read out of bounds', async () => {
    const q = randTensor([2, 1, 4, 64], 'float16'), kc = randTensor([2, 50, 2, 64], 'float16'), vc = randTensor([2, 50, 2, 64], 'float16');
    const lens = tensor(Int32Array.from([1 << 30, -5]), { shape: [2], dtype: 'int32' });
    const out = decodeAttention(q, kc, vc, lens);
    const o = await out.toArray();
    expect(o.every((x) => Number.isFinite(x))).toBe(true);
    expect(Array.from(o.slice(4 * 64)).every((x) => x === 0)).toBe(true); // length -5 → 0 rows → zeros
    for (const t of [q, kc, vc, lens, out]) t.dispose();
  });
});

describeGpu('attention: bad input is a typed error', () => {
  const code = (fn: () => unknown) => {
    try { fn(); } catch (e) { expect(e).toBeInstanceOf(WarpforgeError); return (e as WarpforgeError).code; }
    return 'no error';
  };
  it('shapes, dtypes, head dims, lengths, disposed tensors', () => {
    const q = randTensor([1, 8, 4, 64], 'float16'), k = randTensor([1, 8, 3, 64], 'float16'), v = randTensor([1, 8, 3, 64], 'float16');
    const k2 = randTensor([1, 8, 2, 64], 'float16'), v2 = randTensor([1, 8, 2, 64], 'float16');
    expect(code(() => attention(q, k, v))).toBe('ERR_SHAPE'); // 4 heads over 3 K/V heads
    const q12 = randTensor([1, 8, 4, 12], 'float16'), k12 = randTensor([1, 8, 2, 12], 'float16');
    expect(code(() => attention(q12, k12, k12))).toBe('ERR_SHAPE'); // D not a multiple of 8
    const q264 = randTensor([1, 2, 1, 264], 'float16');
    expect(code(() => attention(q264, q264, q264))).toBe('ERR_SHAPE'); // D > 256
    const q32 = tensor(new Float32Array(8 * 4 * 64), { shape: [1, 8, 4, 64], dtype: 'float32' });
    expect(code(() => attention(q32, k2, v2))).toBe('ERR_DTYPE');
    const kb = randTensor([1, 8, 2, 64], 'bfloat16');
    expect(code(() => attention(q, kb, v2))).toBe('ERR_DTYPE');
    expect(code(() => attention(q, k2, v2, { out: randTensor([1, 8, 4, 32], 'float16') }))).toBe('ERR_SHAPE');
    expect(code(() => attention(q, k2, v2, { window: [1, 2, 3] as unknown as [number, number] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => attention(q, k2, v2, { softcap: -1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => attention(q, k2, v2, { layout: 'sbhd' as 'bshd' }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => attention(q.shape as unknown as Tensor, k2, v2))).toBe('ERR_INVALID_ARGUMENT');
    // decode: cache too small, lengths out of range, too many queries
    const dq = randTensor([2, 1, 4, 64], 'float16'), kc = randTensor([2, 16, 2, 64], 'float16');
    expect(code(() => decodeAttention(dq, kc, kc, [3, 17]))).toBe('ERR_SHAPE');
    expect(code(() => decodeAttention(dq, kc, kc, [3, -1]))).toBe('ERR_SHAPE');
    expect(code(() => decodeAttention(dq, kc, kc, [3]))).toBe('ERR_SHAPE');
    const kn = randTensor([2, 2, 2, 64], 'float16');
    expect(code(() => decodeAttention(dq, kc, kc, [3, 15], { kNew: kn, vNew: kn }))).toBe('ERR_SHAPE'); // 15 + 2 > 16
    const q17 = randTensor([1, 17, 4, 64], 'float16');
    expect(code(() => decodeAttention(q17, kc, kc, [1]))).toBe('ERR_SHAPE');
    // varlen offsets
    const vq = randTensor([10, 4, 64], 'float16'), vk = randTensor([12, 2, 64], 'float16');
    expect(code(() => attentionVarlen(vq, vk, vk, { cuSeqlensQ: [0, 4, 9], cuSeqlensK: [0, 5, 12] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => attentionVarlen(vq, vk, vk, { cuSeqlensQ: [0, 6, 4, 10], cuSeqlensK: [0, 5, 6, 12] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => attentionVarlen(vq, vk, vk, { cuSeqlensQ: [0, 4, 10], cuSeqlensK: [0, 12] }))).toBe('ERR_SHAPE');
    k2.dispose();
    expect(code(() => attention(q, k2, v2))).toBe('ERR_DISPOSED');
    for (const t of [q, k, v, v2, q12, k12, q264, q32, kb, dq, kc, kn, q17, vq, vk]) t.dispose();
  });
});
