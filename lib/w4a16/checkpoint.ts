/**
 * Reading GPTQ and AWQ checkpoint tensors into the natural (unpacked) form.
 * Pure host code: the public importers in import.ts download the tensors,
 * call these, then pack on the GPU.
 *
 * GPTQ: qweight int32 [K/8, N], 8 rows of K per word, row 8i+j in bits 4j;
 *   qzeros int32 [G, N/8], column 8c+j in bits 4j; scales [G, N];
 *   W[n][k] = s[g][n] · (q[k][n] − (z[g][n] + offset)), g = gIdx[k] (or k / gs),
 *   offset 1 in the AutoGPTQ ("v1") format, 0 in "v2".
 * AWQ: qweight int32 [K, N/8] and qzeros [G, N/8] packed along N in the order
 *   [0, 2, 4, 6, 1, 3, 5, 7] (nibble i holds column 8c + ORDER[i]);
 *   W[n][k] = s[g][n] · (q[k][n] − z[g][n]), g = k / gs.
 */
import { decodeFloat, encodeFloat, FORMATS } from '../convert.js';
import { WarpforgeError } from '../errors.js';
import { expect, worded } from '../validate.js';
import type { NaturalW4, ScaleDType } from './host.js';
import { groupCount, paddedK, paddedN } from './layout.js';

export const AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7];

const SUPPORTED_GROUPS = [32, 64, 128];

/** Our group-size code (0 = per-channel) for G groups over K rows. */
export function groupSizeFor(k: number, groups: number, what: string): number {
  if (groups === 1) return 0;
  const gs = k / groups;
  expect(Number.isInteger(gs) && SUPPORTED_GROUPS.includes(gs), 'ERR_SHAPE', what,
    'groups of 32, 64 or 128 rows of K, or one group (per-channel)', worded(`${groups} groups over K=${k}`));
  return gs;
}

interface Unpacked {
  n: number;
  k: number;
  groups: number;
  /** q[k][n] values 0..15 */
  qKN: (k: number, n: number) => number;
  /** zero point (already offset) of group g, column n */
  zero: (g: number, n: number) => number;
  scales: Uint16Array; // [G][N] bits
  dtype: ScaleDType;
}

/**
 * Act-order: packed position k' holds original row perm[k'], chosen so the
 * groups become contiguous runs of gs rows. Throws if gIdx is not a
 * GPTQ act-order assignment of exactly gs rows per group.
 */
export function actOrderPermutation(gIdx: Int32Array, groups: number, gs: number): Int32Array | null {
  const k = gIdx.length;
  let trivial = true;
  for (let i = 0; i < k; i++) if (gIdx[i] !== Math.floor(i / gs)) { trivial = false; break; }
  if (trivial) return null;
  const perm = Int32Array.from({ length: k }, (_, i) => i).sort((a, b) => gIdx[a] - gIdx[b] || a - b);
  for (let i = 0; i < k; i++) {
    if (gIdx[perm[i]] !== Math.floor(i / gs) || gIdx[perm[i]] >= groups) {
      throw new WarpforgeError('ERR_SHAPE', `expected every group of g_idx to hold exactly ${gs} rows for fromGptq({ gIdx }) but received an uneven assignment (group ${gIdx[perm[i]]} at sorted row ${i})`);
    }
  }
  return perm;
}

function toNatural(u: Unpacked, perm: Int32Array | null): NaturalW4 {
  const gs = groupSizeFor(u.k, u.groups, 'the checkpoint');
  const nPad = paddedN(u.n), kPad = paddedK(u.k, gs);
  const groups = groupCount(kPad, gs);
  const fmt = FORMATS[u.dtype];
  const q = new Uint8Array(nPad * kPad);
  const scales = new Uint16Array(groups * nPad);
  const zeros = new Uint16Array(groups * nPad).fill(encodeFloat(8, fmt));
  let symmetric = true;
  for (let g = 0; g < u.groups; g++) {
    for (let n = 0; n < u.n; n++) {
      scales[g * nPad + n] = u.scales[g * u.n + n];
      const z = u.zero(g, n);
      zeros[g * nPad + n] = encodeFloat(z, fmt);
      if (z !== 8) symmetric = false;
    }
  }
  for (let kp = 0; kp < u.k; kp++) {
    const k = perm ? perm[kp] : kp;
    for (let n = 0; n < u.n; n++) q[n * kPad + kp] = u.qKN(k, n);
  }
  // Padding rows (k >= K) meet zero-filled activations; any finite value works.
  return { n: u.n, k: u.k, nPad, kPad, groupSize: gs, dtype: u.dtype, q, scales, zeros: symmetric ? null : zeros };
}

export interface GptqHost {
  qweight: Int32Array; // [K/8, N]
  qzeros: Int32Array; // [G, N/8]
  scales: Uint16Array; // [G, N] bits
  gIdx?: Int32Array; // [K]
  n: number;
  k: number;
  groups: number;
  dtype: ScaleDType;
  zeroOffset: 0 | 1;
}

export function gptqToNatural(c: GptqHost): { natural: NaturalW4; perm: Int32Array | null } {
  const { n, k, groups } = c;
  const gs = groupSizeFor(k, groups, 'fromGptq(scales)');
  const perm = c.gIdx ? actOrderPermutation(c.gIdx, groups, gs > 0 ? gs : k) : null;
  const natural = toNatural({
    n, k, groups, dtype: c.dtype, scales: c.scales,
    qKN: (r, col) => (c.qweight[(r >> 3) * n + col] >>> (4 * (r & 7))) & 0xf,
    zero: (g, col) => ((c.qzeros[g * (n / 8) + (col >> 3)] >>> (4 * (col & 7))) & 0xf) + c.zeroOffset,
  }, perm);
  return { natural, perm };
}

export interface AwqHost {
  qweight: Int32Array; // [K, N/8]
  qzeros: Int32Array; // [G, N/8]
  scales: Uint16Array; // [G, N]
  n: number;
  k: number;
  groups: number;
  dtype: ScaleDType;
}

// Position of column 8c + j inside its word, the inverse of AWQ_ORDER.
const AWQ_SLOT = AWQ_ORDER.map((_, j) => AWQ_ORDER.indexOf(j));

export function awqToNatural(c: AwqHost): NaturalW4 {
  const { n, k, groups } = c;
  groupSizeFor(k, groups, 'fromAwq(scales)');
  return toNatural({
    n, k, groups, dtype: c.dtype, scales: c.scales,
    qKN: (r, col) => (c.qweight[r * (n / 8) + (col >> 3)] >>> (4 * AWQ_SLOT[col & 7])) & 0xf,
    zero: (g, col) => (c.qzeros[g * (n / 8) + (col >> 3)] >>> (4 * AWQ_SLOT[col & 7])) & 0xf,
  }, null);
}

/** The checkpoint's own dequantization, W[N][K] rounded to dtype: the import's ground truth in tests. */
export function referenceDequant(u: { n: number; k: number; dtype: ScaleDType; scales: Uint16Array; q: (k: number, n: number) => number; z: (g: number, n: number) => number; group: (k: number) => number }): Float32Array {
  const fmt = FORMATS[u.dtype];
  const out = new Float32Array(u.n * u.k);
  for (let n = 0; n < u.n; n++)
    for (let k = 0; k < u.k; k++) {
      const g = u.group(k);
      const s = decodeFloat(u.scales[g * u.n + n], fmt);
      out[n * u.k + k] = decodeFloat(encodeFloat((u.q(k, n) - u.z(g, n)) * s, fmt), fmt);
    }
  return out;
}
