/**
 * Host mirror of cuda/w4a16/layout.h: the packed INT4 layout the w4a16
 * kernel reads. See that header for the picture; tests require the host and
 * device packers to produce identical bytes.
 */
export const LAYOUT = 'warpforge.w4a16';
export const LAYOUT_VERSION = 1;
const TILE_N = 16;
const TILE_K = 64;
const PAD_N = 64;

const roundUp = (v: number, m: number) => Math.ceil(v / m) * m;

/** groupSize 0 = one group over all of K (per-channel). */
export function paddedK(k: number, groupSize: number): number {
  const kp = roundUp(k, TILE_K);
  return groupSize > 0 ? roundUp(kp, Math.max(groupSize, TILE_K)) : kp;
}
export const paddedN = (n: number): number => roundUp(n, PAD_N);
export const groupCount = (kPad: number, groupSize: number): number => (groupSize > 0 ? kPad / groupSize : 1);

/** Word index and bit shift of element (n, k). */
export function weightPos(n: number, k: number, kPad: number): { word: number; shift: number } {
  const nt = Math.floor(n / TILE_N), kc = Math.floor(k / TILE_K);
  const nl = n % TILE_N, kl = k % TILE_K;
  const j = kl >> 4, kk = kl % 16;
  const g = nl % 8, h = nl >> 3;
  const t = (kk % 8) >> 1, e = kk % 2, hi = kk >> 3;
  const lane = g * 4 + t;
  const p = 2 * h + hi;
  return { word: ((nt * (kPad / TILE_K) + kc) * 32 + lane) * 4 + j, shift: 4 * (p + 4 * e) };
}

export function scaleIndex(grp: number, n: number, nPad: number): number {
  const nt = Math.floor(n / TILE_N), nl = n % TILE_N;
  return ((grp * (nPad / TILE_N) + nt) * 8 + (nl % 8)) * 2 + (nl >> 3);
}

/** q: [nPad][kPad] values 0..15 -> packed words. */
export function packWeightHost(q: Uint8Array, nPad: number, kPad: number): Uint32Array {
  const w = new Uint32Array((nPad * kPad) / 8);
  for (let n = 0; n < nPad; n++) {
    for (let k = 0; k < kPad; k++) {
      const { word, shift } = weightPos(n, k, kPad);
      w[word] |= (q[n * kPad + k] & 0xf) << shift;
    }
  }
  return w;
}

export function unpackWeightHost(w: Uint32Array, nPad: number, kPad: number): Uint8Array {
  const q = new Uint8Array(nPad * kPad);
  for (let n = 0; n < nPad; n++) {
    for (let k = 0; k < kPad; k++) {
      const { word, shift } = weightPos(n, k, kPad);
      q[n * kPad + k] = (w[word] >>> shift) & 0xf;
    }
  }
  return q;
}

/** [groups][nPad] 16-bit values -> packed order. */
export function packScalesHost(src: Uint16Array, groups: number, nPad: number): Uint16Array {
  const out = new Uint16Array(groups * nPad);
  for (let g = 0; g < groups; g++) for (let n = 0; n < nPad; n++) out[scaleIndex(g, n, nPad)] = src[g * nPad + n];
  return out;
}

/** Columns per GEMM CTA (kGemmBlockN in cuda/w4a16/w4a16.h). */
export const GEMM_BLOCK_N = 256;

/** Columns per CTA of the decode kernel at its most warp slices (kDecodeBlockN / kDecodeMaxSlices). */
export const DECODE_MIN_BLOCK_N = 16;

/** Stream-K flags after the split-K counters (kStreamKFlags). */
export const STREAM_K_FLAGS = 1024;

/** Split-K arrival counters a GEMM of up to `m` rows may need, rounded to 4, then the stream-K flags (gemm_counter_bound). */
export const gemmCounterBound = (m: number, nPad: number): number =>
  Math.ceil(Math.max(Math.ceil(m / 16) * Math.ceil(nPad / GEMM_BLOCK_N), Math.ceil(nPad / DECODE_MIN_BLOCK_N)) / 4) * 4 + STREAM_K_FLAGS;

/** M up to this may split K, summing partials in the zeroed scratch (kWgmmaMaxRows). */
export const ZEROED_SUM_MAX_ROWS = 128;

/** Bytes of a GEMM's persistent zeroed scratch for up to `m` rows (gemm_scratch_bytes). */
export const gemmScratchBytes = (m: number, nPad: number): number =>
  (gemmCounterBound(m, nPad) + Math.ceil(Math.min(m, ZEROED_SUM_MAX_ROWS) / 16) * 16 * nPad) * 4;
