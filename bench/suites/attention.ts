/**
 * Attention: the fused kernel against the unfused path (cuBLASLt S = QKᵀ,
 * row softmax, cuBLASLt P·V, writing the whole score matrix) in the same run.
 *   prefill: B·S = 16k tokens, H·D = 2048, S ∈ {512 … 16k}, D ∈ {64, 128, 256}, causal and not
 *   decode:  one new token, H = 32, Hkv = 8, D = 128, B ∈ {1, 8, 64}, cache 1k … 32k,
 *            reported as K/V bytes read per second against the copy bandwidth
 * FLOP counts follow FlashAttention's: 4·B·H·Sq·Sk·D, halved when causal.
 */
import { attention, decodeAttention, empty, randn, tensor, type Tensor } from '../../lib/index.js';
import { attentionUnfused } from '../../lib/attention/unfused.js';
import { intList, register, type BenchContext, type Case, type Impl } from '../registry.js';
import { rotationCount } from '../stats.js';

const TOKENS = 16384;
const HIDDEN = 2048;

function prefillImpls(b: number, s: number, h: number, d: number, causal: boolean): Impl[] {
  // 'auto' is what users get (wgmma on Hopper); 'portable' the mma.sync
  // kernel every GPU runs (on other GPUs the two rows are the same kernel).
  const fused = (kernel: 'auto' | 'portable'): Impl => ({
    name: kernel === 'auto' ? 'warpforge fused' : 'warpforge fused (portable mma.sync)',
    prepare(ctx: BenchContext) {
      const [q, k, v] = [1, 2, 3].map((seed) => randn([b, s, h, d], { dtype: 'float16', seed, stream: ctx.stream }));
      const out = randn([b, s, h, d], { dtype: 'float16', stream: ctx.stream });
      return {
        run: () => void attention(q, k, v, { causal, out, kernel, stream: ctx.stream }),
        dispose: () => { for (const t of [q, k, v, out]) t.dispose(); },
      };
    },
  });
  const unfused: Impl = {
    name: 'unfused cuBLASLt + softmax',
    baseline: true,
    prepare(ctx: BenchContext) {
      const [q, k, v] = [1, 2, 3].map((seed) => randn([b, h, s, d], { dtype: 'float16', seed, stream: ctx.stream }));
      const out = randn([b, h, s, d], { dtype: 'float16', stream: ctx.stream });
      let scores: Tensor | undefined;
      try {
        scores = empty([b, h, s, s], 'float16', { stream: ctx.stream });
      } catch (e) {
        for (const t of [q, k, v, out]) t.dispose();
        throw e; // the score matrix does not fit: reported as this row's error
      }
      const sc = scores;
      return {
        run: () => void attentionUnfused(q, k, v, { causal, scores: sc, out, stream: ctx.stream }),
        dispose: () => { for (const t of [q, k, v, out, sc]) t.dispose(); },
      };
    },
  };
  return [unfused, fused('portable'), fused('auto')];
}

function decodeImpl(b: number, s: number, h: number, hkv: number, d: number): Impl {
  const kvBytes = 2 * b * s * hkv * d * 2;
  return {
    name: 'warpforge decode',
    baseline: true,
    bytes: kvBytes,
    prepare(ctx: BenchContext) {
      const sets = rotationCount(kvBytes, ctx.l2Bytes, 64);
      const caches = Array.from({ length: sets }, (_, i) => [
        randn([b, s, hkv, d], { dtype: 'float16', seed: 2 * i, stream: ctx.stream }),
        randn([b, s, hkv, d], { dtype: 'float16', seed: 2 * i + 1, stream: ctx.stream }),
      ]);
      const q = randn([b, 1, h, d], { dtype: 'float16', stream: ctx.stream });
      const out = randn([b, 1, h, d], { dtype: 'float16', stream: ctx.stream });
      const lens = tensor(new Int32Array(b).fill(s), { shape: [b], dtype: 'int32', stream: ctx.stream });
      return {
        run: (i) => { const [kc, vc] = caches[i % sets]; decodeAttention(q, kc, vc, lens, { out, stream: ctx.stream }); },
        dispose: () => { for (const t of [q, out, lens, ...caches.flat()]) t.dispose(); },
      };
    },
  };
}

register({
  name: 'attention',
  description: 'fused attention (fp16, [B,S,H,D]) vs unfused cuBLASLt QKᵀ + softmax + PV; decode over a KV cache',
  options: {
    mode: 'prefill, decode or both (default both)',
    s: 'prefill sequence lengths (list; B = 16384 / S)',
    d: 'prefill head dims (list; H = 2048 / D)',
    causal: 'prefill masks: 0, 1 or 0,1',
    b: 'decode batch sizes (list)',
    cache: 'decode cache lengths (list)',
  },
  cases(o) {
    const mode = o.mode ?? 'both';
    const cases: Case[] = [];
    if (mode === 'prefill' || mode === 'both') {
      for (const d of intList(o.d, [64, 128, 256], 'd'))
        for (const causal of (o.causal ?? '0,1').split(',').map((x) => x.trim() === '1'))
          for (const s of intList(o.s, [512, 1024, 2048, 4096, 8192, 16384], 's')) {
            const b = Math.max(1, Math.floor(TOKENS / s)), h = HIDDEN / d;
            cases.push({
              label: `prefill B=${b} S=${s} H=${h} D=${d}${causal ? ' causal' : ''}`,
              params: { mode: 'prefill', b, s, h, d, causal },
              flops: (4 * b * h * s * s * d) / (causal ? 2 : 1),
              bytes: 4 * b * s * h * d * 2,
              impls: prefillImpls(b, s, h, d, causal),
            });
          }
    }
    if (mode === 'decode' || mode === 'both') {
      const [h, hkv, d] = [32, 8, 128];
      for (const b of intList(o.b, [1, 8, 64], 'b'))
        for (const s of intList(o.cache, [1024, 4096, 8192, 16384, 32768], 'cache'))
          cases.push({
            label: `decode B=${b} cache=${s} H=${h}/${hkv} D=${d}`,
            params: { mode: 'decode', b, s, h, hkv, d },
            flops: 4 * b * h * s * d,
            bytes: 2 * b * s * hkv * d * 2,
            impls: [decodeImpl(b, s, h, hkv, d)],
          });
    }
    return cases;
  },
});
