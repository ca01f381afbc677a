/**
 * quantizeW4: round-to-nearest INT4 quantization on the GPU, straight into
 * the kernel's packed layout.
 */
import { native } from '../binding.js';
import type { HostArray } from '../convert.js';
import { DTYPES, expectDType, type DType } from '../dtype.js';
import { streamFor, type Stream } from '../stream.js';
import { empty, expectTensor, tensor, Tensor } from '../tensor.js';
import { expect, worded } from '../validate.js';
import type { ScaleDType } from './host.js';
import { groupCount, paddedK, paddedN } from './layout.js';
import { packOnDevice, QuantizedWeight } from './qweight.js';

export interface QuantizeW4Options {
  /** 32, 64, 128 (default) or -1 for per-channel scales. */
  groupSize?: number;
  /** Zero point 8 and scale absmax/7 (default), or per-group zero points (AWQ style). */
  symmetric?: boolean;
  /** 'nk' (default): [N, K] as a PyTorch Linear weight; 'kn': [K, N]. */
  layout?: 'nk' | 'kn';
  /** Scale dtype = the activations' dtype. Default: the weight's if 16-bit, else float16. */
  dtype?: ScaleDType;
  /** For host data: its shape ([N, K] or [K, N] per layout) and dtype (default float32). */
  shape?: number[];
  weightDType?: DType;
  device?: number;
  stream?: Stream;
}

const GROUPS = [32, 64, 128, -1];

export function quantizeW4(weight: Tensor | HostArray, opts: QuantizeW4Options = {}): QuantizedWeight {
  const groupSize = opts.groupSize ?? 128;
  expect(GROUPS.includes(groupSize), 'ERR_SHAPE', 'quantizeW4() options.groupSize', '32, 64, 128 or -1 (per-channel)', groupSize);
  const layout = opts.layout ?? 'nk';
  expect(layout === 'nk' || layout === 'kn', 'ERR_INVALID_ARGUMENT', 'quantizeW4() options.layout', "'nk' or 'kn'", layout);
  let w: Tensor;
  let owned = false;
  if (weight instanceof Tensor) {
    expectTensor(weight, 'quantizeW4(weight)');
    w = weight;
  } else {
    expect(opts.shape !== undefined, 'ERR_SHAPE', 'quantizeW4() options.shape', 'the shape of host weight data', undefined);
    w = tensor(weight, { shape: opts.shape, dtype: opts.weightDType ?? 'float32', device: opts.device, stream: opts.stream });
    owned = true;
  }
  try {
    expectDType(w.dtype, 'quantizeW4(weight)', ['float32', 'float16', 'bfloat16']);
    expect(w.shape.length === 2, 'ERR_SHAPE', 'quantizeW4(weight)', `a 2-D weight (${layout === 'nk' ? '[N, K]' : '[K, N]'})`, worded(`shape [${w.shape.join(', ')}]`));
    const [n, k] = layout === 'nk' ? w.shape : [w.shape[1], w.shape[0]];
    expect(n > 0 && k > 0, 'ERR_SHAPE', 'quantizeW4(weight)', 'non-empty dimensions', worded(`shape [${w.shape.join(', ')}]`));
    expect(k % 8 === 0, 'ERR_SHAPE', 'quantizeW4(weight) K', 'a multiple of 8 (activations are read 8 at a time)', k);
    const dtype: ScaleDType = opts.dtype ?? (w.dtype === 'bfloat16' ? 'bfloat16' : 'float16');
    expectDType(dtype, 'quantizeW4() options.dtype', ['float16', 'bfloat16']);
    const symmetric = opts.symmetric ?? true;
    const gs = groupSize > 0 ? groupSize : 0;
    const nPad = paddedN(n), kPad = paddedK(k, gs), groups = groupCount(kPad, gs);
    const place = { device: w.device, stream: opts.stream };
    const q = empty([nPad, kPad], 'uint8', place);
    const s = empty([groups, nPad], dtype, place);
    const z = symmetric ? null : empty([groups, nPad], dtype, place);
    native().w4a16.quantize(w.buffer, DTYPES[w.dtype].id, layout === 'kn', n, k, nPad, kPad, gs, symmetric, DTYPES[dtype].id,
      q.buffer, s.buffer, z?.buffer ?? null, streamFor(opts.stream, w.device, 'quantizeW4() options.stream'));
    const qw = packOnDevice({ n, k, nPad, kPad, groupSize: gs, dtype, device: w.device }, q, s, z, null, opts.stream);
    for (const t of [q, s, z]) t?.dispose();
    return qw;
  } finally {
    if (owned) w.dispose();
  }
}
