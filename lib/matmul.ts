/**
 * Dense matrix multiply through cuBLASLt (loaded at run time): the reference
 * that warpforge's own kernels are checked and benchmarked against.
 */
import { native } from './binding.js';
import { DTYPES, type DType } from './dtype.js';
import { streamFor, type Stream } from './stream.js';
import { empty, expectTensor, expectVector, type Tensor } from './tensor.js';
import { expect, worded } from './validate.js';

export interface MatmulOptions {
  /** Written in place; must be [M, N] of the inputs' dtype on their device. */
  out?: Tensor;
  /** b is [N, K] (a Linear layer's weight) and is used transposed. */
  transposeB?: boolean;
  /** [N] of the inputs' dtype, added to every row of the output. */
  bias?: Tensor;
  stream?: Stream;
}

const MATMUL_DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16'];

/** out[M, N] = a[M, K] · b[K, N] (or · b[N, K]ᵀ with transposeB), float32 accumulation. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  expectTensor(a, 'matmul(a)');
  expectTensor(b, 'matmul(b)');
  expect(MATMUL_DTYPES.includes(a.dtype), 'ERR_DTYPE', 'matmul(a)', `one of ${MATMUL_DTYPES.join(', ')}`, a.dtype);
  expect(b.dtype === a.dtype, 'ERR_DTYPE', 'matmul(b)', `${a.dtype} (the dtype of a)`, b.dtype);
  expect(a.shape.length === 2, 'ERR_SHAPE', 'matmul(a)', 'a 2-D tensor [M, K]', worded(`shape [${a.shape.join(', ')}]`));
  expect(b.shape.length === 2, 'ERR_SHAPE', 'matmul(b)', 'a 2-D tensor', worded(`shape [${b.shape.join(', ')}]`));
  expect(b.device === a.device, 'ERR_DEVICE', 'matmul(b)', `a tensor on device ${a.device}`, worded(`device ${b.device}`));
  const [m, k] = a.shape;
  const t = !!opts.transposeB;
  const [bk, n] = t ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  expect(bk === k, 'ERR_SHAPE', 'matmul(b)', t ? `[N, ${k}] (K of a, transposed)` : `[${k}, N] (K of a)`, worded(`shape [${b.shape.join(', ')}]`));
  expect(m > 0 && n > 0 && k > 0, 'ERR_SHAPE', 'matmul sizes', 'M, N and K above 0', worded(`M=${m} N=${n} K=${k}`));
  if (opts.bias !== undefined) expectVector(opts.bias, 'matmul() options.bias', n, a.dtype, a.device);
  const stream = streamFor(opts.stream, a.device, 'matmul() options.stream');
  let out = opts.out;
  if (out !== undefined) {
    expectTensor(out, 'matmul() options.out');
    expect(out.dtype === a.dtype, 'ERR_DTYPE', 'matmul() options.out', a.dtype, out.dtype);
    expect(out.device === a.device, 'ERR_DEVICE', 'matmul() options.out', `a tensor on device ${a.device}`, worded(`device ${out.device}`));
    expect(out.shape.length === 2 && out.shape[0] === m && out.shape[1] === n, 'ERR_SHAPE', 'matmul() options.out', `shape [${m}, ${n}]`, worded(`shape [${out.shape.join(', ')}]`));
  } else {
    out = empty([m, n], a.dtype, { device: a.device, stream: opts.stream });
  }
  native().matmul(a.buffer, b.buffer, out.buffer, m, n, k, t, DTYPES[a.dtype].id, stream, opts.bias?.buffer ?? null);
  return out;
}
