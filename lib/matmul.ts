/**
 * Dense matrix multiply through cuBLASLt (loaded at run time): the reference
 * that warpforge's own kernels are checked and benchmarked against.
 */
import { native } from './binding.js';
import { DTYPES, type DType } from './dtype.js';
import { streamFor, type Stream } from './stream.js';
import { expectTensor, expectVector, outputTensor, type Tensor } from './tensor.js';
import { expect, worded } from './validate.js';

export interface MatmulOptions {
  /** Written in place; must be [M, N] (or [batch, M, N]) of the inputs' dtype on their device. */
  out?: Tensor;
  /** b is [N, K] (a Linear layer's weight) and is used transposed. */
  transposeB?: boolean;
  /** [N] of the inputs' dtype, added to every row of the output. */
  bias?: Tensor;
  /** Scales the product: out = alpha · a · b (+ bias). Default 1. */
  alpha?: number;
  stream?: Stream;
}

const MATMUL_DTYPES: readonly DType[] = ['float32', 'float16', 'bfloat16'];

/**
 * out[M, N] = a[M, K] · b[K, N] (or · b[N, K]ᵀ with transposeB), float32
 * accumulation. With 3-D a [batch, M, K] and b [batch, K, N] (or
 * [batch, N, K]) every batch entry is multiplied: out [batch, M, N].
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  expectTensor(a, 'matmul(a)');
  expectTensor(b, 'matmul(b)');
  expect(MATMUL_DTYPES.includes(a.dtype), 'ERR_DTYPE', 'matmul(a)', `one of ${MATMUL_DTYPES.join(', ')}`, a.dtype);
  expect(b.dtype === a.dtype, 'ERR_DTYPE', 'matmul(b)', `${a.dtype} (the dtype of a)`, b.dtype);
  const rank = a.shape.length;
  expect(rank === 2 || rank === 3, 'ERR_SHAPE', 'matmul(a)', 'a 2-D [M, K] or 3-D [batch, M, K] tensor', worded(`shape [${a.shape.join(', ')}]`));
  expect(b.shape.length === rank, 'ERR_SHAPE', 'matmul(b)', `a ${rank}-D tensor (as a)`, worded(`shape [${b.shape.join(', ')}]`));
  expect(b.device === a.device, 'ERR_DEVICE', 'matmul(b)', `a tensor on device ${a.device}`, worded(`device ${b.device}`));
  const batch = rank === 3 ? a.shape[0] : 1;
  expect(rank === 2 || b.shape[0] === batch, 'ERR_SHAPE', 'matmul(b)', `batch ${batch} (as a)`, worded(`shape [${b.shape.join(', ')}]`));
  const alpha = opts.alpha ?? 1;
  expect(typeof alpha === 'number' && Number.isFinite(alpha), 'ERR_INVALID_ARGUMENT', 'matmul() options.alpha', 'a finite number', opts.alpha);
  const [am, bm] = [a.shape.slice(-2), b.shape.slice(-2)];
  const [m, k] = am;
  const t = !!opts.transposeB;
  const [bk, n] = t ? [bm[1], bm[0]] : [bm[0], bm[1]];
  expect(bk === k, 'ERR_SHAPE', 'matmul(b)', t ? `[N, ${k}] (K of a, transposed)` : `[${k}, N] (K of a)`, worded(`shape [${b.shape.join(', ')}]`));
  expect(m > 0 && n > 0 && k > 0 && batch > 0, 'ERR_SHAPE', 'matmul sizes', 'M, N, K and batch above 0', worded(`M=${m} N=${n} K=${k} batch ${batch}`));
  const outShape = rank === 3 ? [batch, m, n] : [m, n];
  if (opts.bias !== undefined) expectVector(opts.bias, 'matmul() options.bias', n, a.dtype, a.device);
  const stream = streamFor(opts.stream, a.device, 'matmul() options.stream');
  const out = outputTensor(opts.out, 'matmul() options.out', outShape, a.dtype, a.device, { stream: opts.stream });
  native().matmul(a.buffer, b.buffer, out.buffer, m, n, k, t, DTYPES[a.dtype].id, stream, opts.bias?.buffer ?? null, batch, alpha);
  return out;
}
