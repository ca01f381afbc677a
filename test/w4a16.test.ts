// gemmW4A16 and the GPU quantizer/packer/importers, against the host
// reference (bit-exact) and a float64 reference product.
import { expect, it } from 'vitest';
import { fillBytes } from '../lib/tensor.js';
import { empty, fromAwq, fromGptq, gemmW4A16, quantizeW4, tensor, type QuantizedWeight } from '../lib/index.js';
import { AWQ_ORDER, referenceDequant } from '../lib/w4a16/checkpoint.js';
import { encodeFloat, FORMATS } from '../lib/convert.js';
import { dequantizeHost, quantizeHost, type ScaleDType } from '../lib/w4a16/host.js';
import { packScalesHost, packWeightHost } from '../lib/w4a16/layout.js';
import { describeGpu, errors, hostRandn } from './gpu.js';

/** float64 x[M,K] · W[N,K]ᵀ (+ bias): [M, N], or [M, cols.length] for only the listed columns. */
function reference(x: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number, bias?: ArrayLike<number>,
  cols: readonly number[] = Array.from({ length: n }, (_, j) => j)): Float64Array {
  const out = new Float64Array(m * cols.length);
  for (let i = 0; i < m; i++)
    cols.forEach((j, ci) => {
      let s = bias ? bias[j] : 0;
      for (let p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
      out[i * cols.length + ci] = s;
    });
  return out;
}

const TOL: Record<ScaleDType, number> = { float16: 1e-3, bfloat16: 8e-3 };
const MS = [1, 2, 3, 7, 16, 20, 32, 33, 64, 81, 128, 150, 200, 256, 257];

async function checkGemm(qw: QuantizedWeight, m: number, seed: number, bias?: boolean) {
  const { n, k, dtype } = qw;
  const x = tensor(hostRandn(m * k, seed), { shape: [m, k], dtype });
  const b = bias ? tensor(hostRandn(n, seed + 1), { shape: [n], dtype }) : undefined;
  const out = empty([m, n], dtype);
  fillBytes(out, 0xff); // NaN: any element the kernel misses fails the check
  gemmW4A16(x, qw, { out, bias: b });
  const w = qw.dequantize();
  const ref = reference(await x.toArray(), await w.toArray(), m, n, k, b ? await b.toArray() : undefined);
  const e = errors(await out.toArray(), ref);
  for (const t of [x, b, out, w]) t?.dispose();
  return e;
}

describeGpu('w4a16 quantizer and packer on the GPU', () => {
  for (const dtype of ['float16', 'bfloat16'] as ScaleDType[]) {
    for (const symmetric of [true, false]) {
      it(`${dtype} ${symmetric ? 'sym' : 'asym'}: device bytes equal the host packer's, for every group size`, async () => {
        for (const groupSize of [32, 64, 128, -1]) {
          const n = 200, k = 328;
          const w32 = Float32Array.from(hostRandn(n * k, groupSize + 100, 0.03));
          const wt = tensor(w32, { shape: [n, k], dtype });
          const host = quantizeHost(await wt.toArray(), { n, k, groupSize: Math.max(groupSize, 0), symmetric, dtype });
          const qw = quantizeW4(wt, { groupSize, symmetric });
          expect(qw.symmetric).toBe(symmetric);
          expect([qw.nPad, qw.kPad]).toEqual([host.nPad, host.kPad]);
          const packed = new Uint32Array((await qw.parts.packed.toRaw()).buffer);
          expect(packed).toEqual(packWeightHost(host.q, host.nPad, host.kPad));
          const groups = host.scales.length / host.nPad;
          expect(await qw.parts.scales.toRaw()).toEqual(packScalesHost(host.scales, groups, host.nPad));
          if (!symmetric) expect(await qw.parts.zeros!.toRaw()).toEqual(packScalesHost(host.zeros!, groups, host.nPad));
          const deq = qw.dequantize();
          expect(await deq.toArray()).toEqual(dequantizeHost(host));
          for (const t of [wt, deq]) t.dispose();
          qw.dispose();
        }
      });
    }
  }

  it('[K, N] weights and float32 / host input quantize like their [N, K] twin', async () => {
    const n = 96, k = 128;
    const w = Float32Array.from(hostRandn(n * k, 77));
    const t = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) t[j * n + i] = w[i * k + j];
    const a = quantizeW4(w, { shape: [n, k], groupSize: 64, symmetric: false });
    const b = quantizeW4(t, { shape: [k, n], layout: 'kn', groupSize: 64, symmetric: false });
    expect(await b.parts.packed.toRaw()).toEqual(await a.parts.packed.toRaw());
    expect(await b.dequantize().toArray()).toEqual(await a.dequantize().toArray());
    a.dispose();
    b.dispose();
  });
});

describeGpu('gemmW4A16 against a float64 reference', () => {
  for (const dtype of ['float16', 'bfloat16'] as ScaleDType[]) {
    for (const symmetric of [true, false]) {
      for (const groupSize of [32, 64, 128, -1]) {
        it(`${dtype} ${symmetric ? 'sym' : 'asym'} group ${groupSize}: every M, odd N and K`, async () => {
          const qw = quantizeW4(tensor(hostRandn(200 * 328, groupSize + 7, 0.05), { shape: [200, 328], dtype }), { groupSize, symmetric });
          for (const m of MS) {
            const e = await checkGemm(qw, m, m * 31 + groupSize);
            expect(e.rel, `M=${m}: rel ${e.rel.toExponential(2)} maxAbs ${e.maxAbs.toExponential(2)}`).toBeLessThan(TOL[dtype]);
          }
          qw.dispose();
        });
      }
    }
  }

  it('larger and smallest shapes, with bias', async () => {
    for (const [n, k, dtype, gs, sym] of [[1024, 1024, 'float16', 128, true], [1024, 2048, 'bfloat16', 64, false], [64, 64, 'float16', 32, true], [8, 8, 'bfloat16', 32, false], [4096, 256, 'float16', 128, false]] as [number, number, ScaleDType, number, boolean][]) {
      const qw = quantizeW4(tensor(hostRandn(n * k, n + k, 0.05), { shape: [n, k], dtype }), { groupSize: gs, symmetric: sym });
      for (const m of [1, 16, 64, 128, 256, 257]) {
        const e = await checkGemm(qw, m, m + n, true);
        expect(e.rel, `N=${n} K=${k} M=${m}: rel ${e.rel.toExponential(2)}`).toBeLessThan(TOL[dtype]);
      }
      qw.dispose();
    }
  });

  /** One [n, k] weight quantized with `opts`, multiplied at each (M, seed) with bias, against the float64 reference. */
  async function checkWeight(n: number, k: number, dtype: ScaleDType, opts: { groupSize: number; symmetric?: boolean }, cases: [number, number][]) {
    const qw = quantizeW4(tensor(hostRandn(n * k, n, 0.05), { shape: [n, k], dtype }), opts);
    for (const [m, seed] of cases) {
      const e = await checkGemm(qw, m, seed, true);
      expect(e.rel, `N=${n} K=${k} M=${m}: rel ${e.rel.toExponential(2)} maxAbs ${e.maxAbs.toExponential(2)}`).toBeLessThan(TOL[dtype]);
    }
    qw.dispose();
  }

  // (M = 7: x of 7 × 32 chunks is more than warp slices take, so K splits 8 ways.)
  it('a wide weight whose split-K partials meet through the scratch (on H100: 64 clusters of 8 do not fit)', async () => {
    await checkWeight(8192, 2048, 'float16', { groupSize: 128, symmetric: false }, [[7, 4], [8, 8], [16, 19]]);
  });

  // On 132-SM GPUs (H100/H200) M = 1 on symmetric weights runs in warp
  // slices: 8192 × 2048 in 8 slices with no K split, 3000 × 1000
  // per-channel in 8 (its last tile half past N), 4096 × 9216 (more K than
  // a CTA takes whole) in 8 slices whose two K splits meet (in a cluster on
  // sm_90).
  it('M = 1 in warp slices: no K split, per-channel, two splits that meet', async () => {
    await checkWeight(8192, 2048, 'bfloat16', { groupSize: 64 }, [[1, 41]]);
    await checkWeight(3000, 1000, 'float16', { groupSize: -1 }, [[1, 43]]);
    await checkWeightSampled(4096, 9216, 'float16', { groupSize: 32 }, [[1, 42]]);
  });

  // On 132-SM GPUs M = 2-6 whose x (M × K) is at most 24 KB runs in warp
  // slices with x in its fragments' order: 4096 × 2048 at M = 2, 3 and 6 in
  // 8 slices, 3000 × 1000 per-channel (its last tile half past N) at M = 5,
  // 1000 × 4104 (K zero-filled past 4104 within the last chunk) at M = 2;
  // asymmetric 4096 × 2048 at M = 1 and 2, group 64.
  it('M = 1-6 in warp slices: x in fragment order, rows past M discarded, zero points', async () => {
    await checkWeight(4096, 2048, 'bfloat16', { groupSize: 128 }, [[2, 51], [3, 52], [6, 53]]);
    await checkWeight(3000, 1000, 'float16', { groupSize: -1 }, [[5, 54]]);
    await checkWeight(1000, 4104, 'float16', { groupSize: 32 }, [[2, 55]]);
    await checkWeight(4096, 2048, 'float16', { groupSize: 64, symmetric: false }, [[1, 56], [2, 57]]);
  });

  /**
   * For weights too large for a whole float64 reference: every output must be
   * written (the output starts as NaN), and the first and last column of each
   * 64-column stretch must match the reference.
   */
  async function checkWeightSampled(n: number, k: number, dtype: ScaleDType, opts: { groupSize: number; symmetric?: boolean }, cases: [number, number][]) {
    // Encoding 10⁸ values one by one takes minutes: each element is one of
    // 4096 encoded random values, picked by a xorshift generator.
    const values = Uint16Array.from(hostRandn(4096, n, 0.05), (v) => encodeFloat(v, FORMATS[dtype]));
    const bits = new Uint16Array(n * k);
    let r = (n * 2654435761) >>> 0 || 1;
    for (let i = 0; i < bits.length; i++) {
      r ^= r << 13;
      r ^= r >>> 17;
      r ^= r << 5;
      bits[i] = values[(r >>> 0) & 4095];
    }
    const qw = quantizeW4(tensor(bits, { shape: [n, k], dtype }), opts);
    const w = qw.dequantize();
    const wa = await w.toArray();
    w.dispose();
    for (const [m, seed] of cases) {
      const x = tensor(hostRandn(m * k, seed), { shape: [m, k], dtype });
      const bias = tensor(hostRandn(n, seed + 1), { shape: [n], dtype });
      const out = empty([m, n], dtype);
      fillBytes(out, 0xff);
      gemmW4A16(x, qw, { out, bias });
      const [o, xa, ba] = [await out.toArray(), await x.toArray(), await bias.toArray()];
      const unwritten = o.findIndex((v) => !Number.isFinite(v));
      expect(unwritten, `N=${n} K=${k} M=${m}: output ${unwritten} not written`).toBe(-1);
      // Each 64-column block's ends, every 16th block whole (each column of a
      // 16-column tile has its own place in the kernels' fragments), and the
      // last 16 columns.
      const cols: number[] = [];
      for (let c0 = 0; c0 < n; c0 += 64) {
        cols.push(c0, Math.min(c0 + 63, n - 1));
        if (c0 % 1024 === 512) for (let c = c0 + 1; c < Math.min(c0 + 63, n); c++) cols.push(c);
      }
      for (let c = Math.max(0, n - 16); c < n; c++) cols.push(c);
      const got = Array.from({ length: m * cols.length }, (_, i) => o[Math.floor(i / cols.length) * n + cols[i % cols.length]]);
      const e = errors(got, reference(xa, wa, m, n, k, ba, cols));
      expect(e.rel, `N=${n} K=${k} M=${m}: rel ${e.rel.toExponential(2)} maxAbs ${e.maxAbs.toExponential(2)}`).toBeLessThan(TOL[dtype]);
      for (const t of [x, bias, out]) t.dispose();
    }
    qw.dispose();
  }

  // On 132-SM GPUs (H100/H200) M = 1 on 33800 × 8448 (265 column blocks of
  // whole tiles: half a wave) runs in warp shares: 528 CTAs whose warps each
  // take an equal run of all tiles' K chunks, a tile's pieces met in the
  // scratch, its last tile half past N. Two calls on one weight: the first
  // must leave sums and counters zero.
  it('M = 1 in warp shares: the pieces of a tile meet in the scratch, sym and asym, fp16 and bf16', async () => {
    await checkWeightSampled(33800, 8448, 'float16', { groupSize: 128 }, [[1, 51], [1, 52]]);
    await checkWeightSampled(33800, 8448, 'bfloat16', { groupSize: 64, symmetric: false }, [[1, 53]]);
  });

  // On 132-SM GPUs (H100/H200) these K ranges per CTA hold more x than shared
  // memory allows at four CTAs per SM, so x streams through the decode
  // kernel's ring (the harness's WF_RING=1 forces the ring on any shape).
  // (On Hopper M = 32 runs the wgmma kernel at 32 tokens instead.)
  it('x through the decode ring: M = 16 and 32, one K split per column block, bf16 asym group 64', async () => {
    await checkWeightSampled(67584, 1856, 'bfloat16', { groupSize: 64, symmetric: false }, [[16, 23], [32, 24]]);
  });

  it('x through the decode ring: M = 8, group 32 (a group ends mid-chunk), a K range ending in a partial round', async () => {
    await checkWeightSampled(67584, 3648, 'float16', { groupSize: 32 }, [[8, 29]]);
  });

  it('a weight wide enough for 192- and 256-token CTAs (H100/H200: 70 column blocks, K unsplit), M > 128, bf16 asym', async () => {
    await checkWeight(8960, 256, 'bfloat16', { groupSize: 64, symmetric: false }, [[160, 206], [200, 205], [256, 261], [512, 517]]);
  });

  it('two wgmma CTAs per SM at 48 and 64 tokens (H100/H200: 136 column blocks, more than one per SM), M = 33 and 64, bf16 asym', async () => {
    await checkWeight(17408, 384, 'bfloat16', { groupSize: 64, symmetric: false }, [[33, 34], [64, 65]]);
  });

  it('M = 9-16 on the wgmma kernel where its plan is whole tiles in one wave (H100/H200: 112 column blocks), bf16 asym', async () => {
    await checkWeight(14336, 256, 'bfloat16', { groupSize: 32, symmetric: false }, [[9, 52], [12, 53], [16, 54]]);
  });

  // The wgmma kernel writes its tiles through shared memory in 8-byte
  // quads where N is a multiple of 4, and element by element elsewhere.
  it('wgmma outputs with bias where N is a multiple of 4 (staged quads) and where it is not, M = 33, 128 and 257', async () => {
    await checkWeight(1000, 328, 'float16', { groupSize: 64 }, [[33, 61], [128, 62], [257, 63]]);
    await checkWeight(1002, 328, 'bfloat16', { groupSize: 32, symmetric: false }, [[33, 64], [128, 65], [257, 66]]);
    await checkWeight(1001, 4104, 'float16', { groupSize: 128, symmetric: false }, [[129, 67]]);
  });

  it('256-token CTAs whose two K splits meet in a cluster (H100/H200: 60 column blocks), M = 256', async () => {
    await checkWeight(7680, 1024, 'float16', { groupSize: 128 }, [[256, 11]]);
  });

  // Stream-K (one wave of CTAs sharing every tile's K chunks) where whole
  // tiles would leave SMs idle or take a second wave; on H100/H200 (132
  // SMs) the planner picks it for these shapes.
  it('stream-K: 86 column blocks of 96 and 128 tokens in 132 shares, M = 96, 100 and 128', async () => {
    await checkWeightSampled(11008, 4096, 'float16', { groupSize: 128 }, [[96, 48], [100, 41], [128, 42]]);
  });

  it('stream-K over three row blocks, bf16 asym group 32, M = 300', async () => {
    await checkWeightSampled(3000, 2560, 'bfloat16', { groupSize: 32, symmetric: false }, [[300, 43]]);
  });

  it('stream-K with two CTAs per SM at 64 tokens (136 column blocks), M = 49 and 64', async () => {
    await checkWeightSampled(17408, 2560, 'float16', { groupSize: 64, symmetric: false }, [[64, 44], [49, 45]]);
  });

  it('32-token wgmma CTAs, two per SM, stream-K (136 column blocks), M = 17 and 32, bf16 asym', async () => {
    await checkWeightSampled(17408, 2560, 'bfloat16', { groupSize: 64, symmetric: false }, [[32, 46], [17, 47]]);
  });

  it('one weight used concurrently from two streams gives both right answers (split-K scratch is per stream)', async () => {
    const { Stream } = await import('../lib/index.js');
    const qw = quantizeW4(tensor(hostRandn(4096 * 1024, 21, 0.05), { shape: [4096, 1024], dtype: 'float16' }), { groupSize: 128 });
    const w = await qw.dequantize().toArray();
    const streams = [new Stream(), new Stream()];
    const xs = streams.map((s, i) => tensor(hostRandn(8 * 1024, 30 + i), { shape: [8, 1024], dtype: 'float16', stream: s }));
    await Promise.all(streams.map((s) => s.synchronize()));
    const outs = xs.map((x, i) => {
      let y = gemmW4A16(x, qw, { stream: streams[i] });
      for (let rep = 0; rep < 20; rep++) { y.dispose(); y = gemmW4A16(x, qw, { stream: streams[i] }); }
      return y;
    });
    for (let i = 0; i < 2; i++) {
      const ref = reference(await xs[i].toArray(), w, 8, 4096, 1024);
      expect(errors(await outs[i].toArray({ stream: streams[i] }), ref).rel, `stream ${i}`).toBeLessThan(1e-3);
    }
    qw.dispose();
  });

  it('back-to-back GEMMs, each reading the one before\'s output, are each right (programmatic dependent launch on sm_90)', async () => {
    const k = 1024, layers = 5;
    const qws = Array.from({ length: layers }, (_, i) =>
      quantizeW4(tensor(hostRandn(k * k, 40 + i, 0.03), { shape: [k, k], dtype: 'float16' }), { groupSize: 128 }));
    const ws = await Promise.all(qws.map(async (q) => {
      const d = q.dequantize();
      try {
        return await d.toArray();
      } finally {
        d.dispose();
      }
    }));
    for (const m of [1, 16, 64]) {
      const x = tensor(hostRandn(m * k, 50 + m), { shape: [m, k], dtype: 'float16' });
      const ys = qws.map(() => empty([m, k], 'float16'));
      for (const y of ys) fillBytes(y, 0xff); // NaN until written
      ys.forEach((y, i) => gemmW4A16(i ? ys[i - 1] : x, qws[i], { out: y }));
      let prev = await x.toArray();
      for (let i = 0; i < layers; i++) {
        const got = await ys[i].toArray();
        const e = errors(got, reference(prev, ws[i], m, k, k));
        expect(e.rel, `M = ${m}, layer ${i}`).toBeLessThan(1e-3);
        prev = got;
      }
      for (const t of [x, ...ys]) t.dispose();
    }
    for (const q of qws) q.dispose();
  });

  it('batched activations [B, S, K] give [B, S, N]', async () => {
    const qw = quantizeW4(tensor(hostRandn(128 * 64, 3, 0.05), { shape: [128, 64], dtype: 'float16' }), { groupSize: 64 });
    const x = tensor(hostRandn(2 * 3 * 64, 4), { shape: [2, 3, 64], dtype: 'float16' });
    const y = gemmW4A16(x, qw);
    expect(y.shape).toEqual([2, 3, 128]);
    const ref = reference(await x.toArray(), await qw.dequantize().toArray(), 6, 128, 64);
    expect(errors(await y.toArray(), ref).rel).toBeLessThan(1e-3);
  });

  it('imports GPTQ (with act-order) and AWQ checkpoints exactly', async () => {
    const n = 128, k = 256, gs = 64, groups = k / gs;
    let seed = 1;
    const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24;
    const q = Uint8Array.from({ length: k * n }, () => Math.floor(r() * 16));
    const z = Uint8Array.from({ length: groups * n }, () => Math.floor(r() * 16));
    const scales = Uint16Array.from({ length: groups * n }, () => encodeFloat(0.002 + r() * 0.01, FORMATS.float16));
    const gIdx = Int32Array.from({ length: k }, (_, i) => Math.floor(i / gs));
    for (let i = k - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [gIdx[i], gIdx[j]] = [gIdx[j], gIdx[i]]; }
    const qweight = new Int32Array((k / 8) * n);
    for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) qweight[(kk >> 3) * n + j] |= q[kk * n + j] << (4 * (kk & 7));
    const qzeros = new Int32Array(groups * (n / 8));
    for (let g = 0; g < groups; g++) for (let j = 0; j < n; j++) qzeros[g * (n / 8) + (j >> 3)] |= ((z[g * n + j] - 1) & 0xf) << (4 * (j & 7));
    const qw = await fromGptq({
      qweight: tensor(qweight, { shape: [k / 8, n] }), qzeros: tensor(qzeros, { shape: [groups, n / 8] }),
      scales: tensor(scales, { shape: [groups, n], dtype: 'float16' }), gIdx: tensor(gIdx, { shape: [k] }), bits: 4,
    });
    expect(qw.actOrder).toBe(true);
    const ref = referenceDequant({ n, k, dtype: 'float16', scales, q: (kk, j) => q[kk * n + j], z: (g, j) => ((z[g * n + j] - 1) & 0xf) + 1, group: (kk) => gIdx[kk] });
    expect(await qw.dequantize().toArray()).toEqual(ref);
    for (const m of [1, 5, 64]) {
      const x = tensor(hostRandn(m * k, m), { shape: [m, k], dtype: 'float16' });
      const r = reference(await x.toArray(), ref, m, n, k);
      expect(errors(await gemmW4A16(x, qw).toArray(), r).rel, `act-order M=${m}`).toBeLessThan(1e-3);
      expect(errors(await gemmW4A16(x, qw, { dense: true }).toArray(), r).rel, `act-order, dense, M=${m}`).toBeLessThan(1e-3);
    }

    const packN = (get: (row: number, j: number) => number, rows: number) => {
      const out = new Int32Array(rows * (n / 8));
      for (let row = 0; row < rows; row++) for (let c = 0; c < n / 8; c++) for (let i = 0; i < 8; i++) out[row * (n / 8) + c] |= get(row, c * 8 + AWQ_ORDER[i]) << (4 * i);
      return out;
    };
    const aw = await fromAwq({
      qweight: tensor(packN((kk, j) => q[kk * n + j], k), { shape: [k, n / 8] }),
      qzeros: tensor(packN((g, j) => z[g * n + j], groups), { shape: [groups, n / 8] }),
      scales: tensor(scales, { shape: [groups, n], dtype: 'float16' }),
    });
    const aref = referenceDequant({ n, k, dtype: 'float16', scales, q: (kk, j) => q[kk * n + j], z: (g, j) => z[g * n + j], group: (kk) => Math.floor(kk / gs) });
    expect(await aw.dequantize().toArray()).toEqual(aref);
  });

  it('bad input gives typed errors', () => {
    const qw = quantizeW4(tensor(hostRandn(64 * 64, 1), { shape: [64, 64], dtype: 'float16' }));
    const x = tensor(hostRandn(2 * 64, 2), { shape: [2, 64], dtype: 'float16' });
    const xb = tensor(hostRandn(2 * 64, 2), { shape: [2, 64], dtype: 'bfloat16' });
    const x32 = tensor(hostRandn(2 * 32, 2), { shape: [2, 32], dtype: 'float16' });
    const code = (fn: () => unknown) => { try { fn(); } catch (e) { return (e as { code: string }).code; } return 'none'; };
    expect(code(() => gemmW4A16(xb, qw))).toBe('ERR_DTYPE');
    expect(code(() => gemmW4A16(x32, qw))).toBe('ERR_SHAPE');
    expect(code(() => gemmW4A16(x, qw, { bias: x32 }))).toBe('ERR_SHAPE');
    expect(code(() => gemmW4A16(x, qw, { bias: xb }))).toBe('ERR_DTYPE');
    expect(code(() => gemmW4A16(x, {} as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => gemmW4A16(x, qw, { dense: 'yes' as never }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => quantizeW4(tensor([1, 2, 3, 4], { shape: [1, 4], dtype: 'float16' })))).toBe('ERR_SHAPE'); // K % 8
    expect(code(() => quantizeW4(x, { groupSize: 96 }))).toBe('ERR_SHAPE');
    expect(code(() => quantizeW4(tensor([1, 2], { shape: [2], dtype: 'int32' })))).toBe('ERR_DTYPE');
    qw.dispose();
    expect(code(() => gemmW4A16(x, qw))).toBe('ERR_DISPOSED');
    x.dispose();
    const qw2 = quantizeW4(tensor(hostRandn(64 * 64, 1), { shape: [64, 64], dtype: 'float16' }));
    expect(code(() => gemmW4A16(x, qw2))).toBe('ERR_DISPOSED');
  });
});

describeGpu('gemmW4A16 on cuBLASLt over the dequantized weight (options.dense)', () => {
  it('dense: true matches the float64 reference: dtypes, groups, asymmetric, bias, batched x', async () => {
    const cases: [ScaleDType, number, boolean, number, number, number][] = [
      ['float16', 128, true, 1, 256, 512], ['float16', 32, false, 37, 200, 328], ['bfloat16', 64, false, 130, 136, 192], ['bfloat16', -1, true, 7, 64, 264],
    ];
    for (const [dtype, groupSize, symmetric, m, n, k] of cases) {
      const qw = quantizeW4(tensor(hostRandn(n * k, m + n, 0.05), { shape: [n, k], dtype }), { groupSize, symmetric });
      const x = tensor(hostRandn(m * k, m), { shape: [1, m, k], dtype });
      const b = tensor(hostRandn(n, n), { shape: [n], dtype });
      const out = empty([1, m, n], dtype);
      fillBytes(out, 0xff); // NaN: any element missed fails the check
      expect(gemmW4A16(x, qw, { out, bias: b, dense: true })).toBe(out);
      const w = qw.dequantize();
      const e = errors(await out.toArray(), reference(await x.toArray(), await w.toArray(), m, n, k, await b.toArray()));
      expect(e.rel, `${dtype} g${groupSize} ${symmetric ? 'sym' : 'asym'} M=${m}`).toBeLessThan(TOL[dtype]);
      for (const t of [x, b, out, w]) t.dispose();
      qw.dispose();
    }
  });

  it("'auto' takes cuBLASLt at prefill sizes and agrees with the INT4 kernel", async () => {
    const m = 4096, n = 4096, k = 4096;
    const qw = quantizeW4(tensor(hostRandn(n * k, 5, 0.05), { shape: [n, k], dtype: 'float16' }), { groupSize: 128 });
    const x = tensor(hostRandn(m * k, 6), { shape: [m, k], dtype: 'float16' });
    const auto = gemmW4A16(x, qw);
    const dense = gemmW4A16(x, qw, { dense: true });
    const int4 = gemmW4A16(x, qw, { dense: false });
    const [a, d, i4] = [await auto.toArray(), await dense.toArray(), await int4.toArray()];
    // (errors(), not toEqual: a failing toEqual's diff of 16M elements runs the worker out of memory)
    expect(errors(a, d).rel).toBeLessThan(1e-5);
    expect(errors(a, i4).rel).toBeLessThan(1e-3);
    // Rows 0, 1234 and 4095 against float64.
    const w = qw.dequantize();
    const rows = [0, 1234, 4095], xs = await x.toArray(), ws = await w.toArray();
    const xr = new Float32Array(rows.length * k);
    rows.forEach((r, j) => xr.set(xs.subarray(r * k, (r + 1) * k), j * k));
    const got = new Float32Array(rows.length * n);
    rows.forEach((r, j) => got.set(a.subarray(r * n, (r + 1) * n), j * n));
    expect(errors(got, reference(xr, ws, rows.length, n, k)).rel).toBeLessThan(1e-3);
    for (const t of [x, w, auto, dense, int4]) t.dispose();
    qw.dispose();
  });
});
