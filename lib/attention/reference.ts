/**
 * Host reference for one sequence of attention: float64 throughout, or,
 * with `round`, the unfused half-precision path (scores, probabilities and
 * output each rounded to the storage dtype, as cuBLAS QKᵀ → softmax → ·V
 * produces them). Tests compare the kernel's error with the unfused path's.
 */
export interface ReferenceProblem {
  /** [sq, h, d], [sk, hkv, d], [sk, hkv, d] row-major. */
  q: ArrayLike<number>;
  k: ArrayLike<number>;
  v: ArrayLike<number>;
  sq: number;
  sk: number;
  h: number;
  hkv: number;
  d: number;
  scale: number;
  softcap?: number;
  /** -1 = unbounded; causal is right = 0. Bottom-right aligned. */
  windowLeft?: number;
  windowRight?: number;
  round?: (x: number) => number;
}

export interface ReferenceResult {
  /** [sq, h, d] */
  out: Float64Array;
  /** [h, sq], natural log; -Infinity where a row sees no key. */
  lse: Float64Array;
}

/** Keys [lo, hi) that query row i sees. */
export function visibleKeys(i: number, sq: number, sk: number, left = -1, right = -1): [number, number] {
  const diag = sk - sq;
  const hi = right >= 0 ? Math.min(sk, i + diag + right + 1) : sk;
  const lo = left >= 0 ? Math.max(0, i + diag - left) : 0;
  return [lo, Math.max(lo, hi)];
}

export function referenceAttention(p: ReferenceProblem): ReferenceResult {
  const { sq, sk, h, hkv, d, scale } = p;
  const round = p.round ?? ((x: number) => x);
  const cap = p.softcap ?? 0;
  const group = h / hkv;
  const out = new Float64Array(sq * h * d);
  const lse = new Float64Array(h * sq);
  const s = new Float64Array(sk);
  for (let hh = 0; hh < h; hh++) {
    const kh = Math.floor(hh / group);
    for (let i = 0; i < sq; i++) {
      const [lo, hi] = visibleKeys(i, sq, sk, p.windowLeft, p.windowRight);
      if (hi <= lo) {
        lse[hh * sq + i] = -Infinity;
        continue;
      }
      let mx = -Infinity;
      const qo = (i * h + hh) * d;
      for (let j = lo; j < hi; j++) {
        const ko = (j * hkv + kh) * d;
        let dot = 0;
        for (let c = 0; c < d; c++) dot += p.q[qo + c] * p.k[ko + c];
        let x = round(dot * scale);
        if (cap > 0) x = cap * Math.tanh(x / cap);
        s[j] = x;
        if (x > mx) mx = x;
      }
      let sum = 0;
      for (let j = lo; j < hi; j++) sum += s[j] = Math.exp(s[j] - mx);
      lse[hh * sq + i] = mx + Math.log(sum);
      const oo = (i * h + hh) * d;
      for (let j = lo; j < hi; j++) {
        const pj = round(s[j] / sum);
        const vo = (j * hkv + kh) * d;
        for (let c = 0; c < d; c++) out[oo + c] += pj * p.v[vo + c];
      }
      if (p.round) for (let c = 0; c < d; c++) out[oo + c] = round(out[oo + c]);
    }
  }
  return { out, lse };
}
