/**
 * fromGptq / fromAwq: existing 4-bit checkpoints into a QuantizedWeight that
 * dequantizes to exactly what the checkpoint's own dequantization gives.
 * Tensors are read back to the host, unpacked there (checkpoint.ts), and
 * repacked on the GPU.
 */
import type { Stream } from '../stream.js';
import { expectTensor, type Tensor } from '../tensor.js';
import { expect, worded } from '../validate.js';
import { awqToNatural, gptqToNatural } from './checkpoint.js';
import type { ScaleDType } from './host.js';
import { uploadNatural, type QuantizedWeight } from './qweight.js';

function shapeOf(t: Tensor, rank: number, dtype: string | string[], what: string): number[] {
  expectTensor(t, what);
  const ok = Array.isArray(dtype) ? dtype.includes(t.dtype) : t.dtype === dtype;
  expect(ok, 'ERR_DTYPE', what, Array.isArray(dtype) ? dtype.join(' or ') : dtype, t.dtype);
  expect(t.shape.length === rank, 'ERR_SHAPE', what, `a ${rank}-D tensor`, worded(`shape [${t.shape.join(', ')}]`));
  return [...t.shape];
}

export interface GptqTensors {
  qweight: Tensor; // int32 [K/8, N]
  qzeros: Tensor; // int32 [G, N/8]
  scales: Tensor; // float16/bfloat16 [G, N]
  gIdx?: Tensor; // int32 [K]
  bits?: 4;
  /** Zero-point offset: 1 for AutoGPTQ checkpoints (default), 0 for the GPTQ "v2" format. */
  zeroOffset?: 0 | 1;
  stream?: Stream;
}

export async function fromGptq(c: GptqTensors): Promise<QuantizedWeight> {
  expect(c.bits === undefined || c.bits === 4, 'ERR_INVALID_ARGUMENT', 'fromGptq({ bits })', '4', c.bits);
  const [k8, n] = shapeOf(c.qweight, 2, 'int32', 'fromGptq({ qweight })');
  const [groups, n8] = shapeOf(c.qzeros, 2, 'int32', 'fromGptq({ qzeros })');
  const [sg, sn] = shapeOf(c.scales, 2, ['float16', 'bfloat16'], 'fromGptq({ scales })');
  const k = k8 * 8;
  expect(n % 8 === 0 && n8 === n / 8, 'ERR_SHAPE', 'fromGptq({ qzeros })', `[G, ${n / 8}] (N/8)`, worded(`shape [${c.qzeros.shape.join(', ')}]`));
  expect(sg === groups && sn === n, 'ERR_SHAPE', 'fromGptq({ scales })', `[${groups}, ${n}]`, worded(`shape [${c.scales.shape.join(', ')}]`));
  if (c.gIdx) {
    const [gk] = shapeOf(c.gIdx, 1, 'int32', 'fromGptq({ gIdx })');
    expect(gk === k, 'ERR_SHAPE', 'fromGptq({ gIdx })', `[${k}] (K)`, worded(`shape [${gk}]`));
  }
  const [qweight, qzeros, scales, gIdx] = await Promise.all([
    c.qweight.toRaw(), c.qzeros.toRaw(), c.scales.toRaw(), c.gIdx ? c.gIdx.toArray() : Promise.resolve(undefined),
  ]);
  const { natural, perm } = gptqToNatural({
    qweight: new Int32Array((qweight as Uint32Array).buffer), qzeros: new Int32Array((qzeros as Uint32Array).buffer),
    scales: scales as Uint16Array, gIdx: gIdx as Int32Array | undefined, n, k, groups,
    dtype: c.scales.dtype as ScaleDType, zeroOffset: c.zeroOffset ?? 1,
  });
  return uploadNatural(natural, perm, c.qweight.device, c.stream);
}

export interface AwqTensors {
  qweight: Tensor; // int32 [K, N/8]
  qzeros: Tensor; // int32 [G, N/8]
  scales: Tensor; // float16/bfloat16 [G, N]
  stream?: Stream;
}

export async function fromAwq(c: AwqTensors): Promise<QuantizedWeight> {
  const [k, n8] = shapeOf(c.qweight, 2, 'int32', 'fromAwq({ qweight })');
  const [groups, zn8] = shapeOf(c.qzeros, 2, 'int32', 'fromAwq({ qzeros })');
  const [sg, n] = shapeOf(c.scales, 2, ['float16', 'bfloat16'], 'fromAwq({ scales })');
  expect(n === n8 * 8, 'ERR_SHAPE', 'fromAwq({ scales })', `[G, ${n8 * 8}] (8 × qweight's columns)`, worded(`shape [${c.scales.shape.join(', ')}]`));
  expect(zn8 === n8 && sg === groups, 'ERR_SHAPE', 'fromAwq({ qzeros })', `[${sg}, ${n8}]`, worded(`shape [${c.qzeros.shape.join(', ')}]`));
  const [qweight, qzeros, scales] = await Promise.all([c.qweight.toRaw(), c.qzeros.toRaw(), c.scales.toRaw()]);
  const natural = awqToNatural({
    qweight: new Int32Array((qweight as Uint32Array).buffer), qzeros: new Int32Array((qzeros as Uint32Array).buffer),
    scales: scales as Uint16Array, n, k, groups, dtype: c.scales.dtype as ScaleDType,
  });
  return uploadNatural(natural, null, c.qweight.device, c.stream);
}
