/**
 * Device tensors: dense, contiguous, row-major. A tensor owns one device
 * buffer taken from the stream-ordered pool on its stream; `dispose()` (or
 * the FinalizationRegistry, for tensors nobody disposed) returns it in stream
 * order, so work already queued that reads the tensor still sees valid memory.
 */
import { randomInt } from 'node:crypto';
import { native } from './binding.js';
import { decode, encode, type HostArray } from './convert.js';
import { resolveDevice } from './device.js';
import { byteLength, DTYPES, expectDType, isFloat, type DType } from './dtype.js';
import { WarpforgeError } from './errors.js';
import type { NativeBuffer, NativeStream } from './native.js';
import { Stream, streamFor } from './stream.js';
import { expect, expectShape, numel, worded } from './validate.js';

const registry = new FinalizationRegistry<NativeBuffer>((buf) => buf.free());

export interface PlacementOptions {
  device?: number;
  /** The stream the tensor is allocated on, written on, and freed on. */
  stream?: Stream;
}

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: number;
  readonly numel: number;
  readonly nbytes: number;
  /** @internal the native stream this tensor was allocated on */
  readonly homeStream: NativeStream;
  #buf: NativeBuffer | null;

  /** @internal use tensor(), empty(), zeros(), rand() or randn(). */
  constructor(shape: readonly number[], dtype: DType, device: number, stream: NativeStream) {
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.device = device;
    this.numel = numel(shape);
    this.nbytes = byteLength(dtype, this.numel);
    this.homeStream = stream;
    this.#buf = native().alloc(this.nbytes, stream);
    registry.register(this, this.#buf, this);
  }

  get disposed(): boolean {
    return this.#buf === null;
  }

  /** @internal the native buffer; throws ERR_DISPOSED once disposed. */
  get buffer(): NativeBuffer {
    if (!this.#buf) throw new WarpforgeError('ERR_DISPOSED', `expected a live tensor but received a disposed ${this.dtype} tensor [${this.shape.join(', ')}]`);
    return this.#buf;
  }

  /** Values on the host: float dtypes as Float32Array, integers as their own arrays. */
  async toArray(opts: { stream?: Stream } = {}): Promise<Float32Array | Int8Array | Uint8Array | Int32Array> {
    expect(this.dtype !== 'int4', 'ERR_DTYPE', 'tensor.toArray()', 'a tensor of unpacked dtype (read int4 with toRaw())', this.dtype);
    return decode(await this.#download(opts.stream), this.dtype);
  }

  /** The stored bits: Uint16Array for 16-bit dtypes, Uint32Array for 32-bit, Uint8Array otherwise. */
  async toRaw(opts: { stream?: Stream } = {}): Promise<Uint8Array | Uint16Array | Uint32Array> {
    const bytes = await this.#download(opts.stream);
    const bits = DTYPES[this.dtype].bits;
    return bits === 16 ? new Uint16Array(bytes) : bits === 32 ? new Uint32Array(bytes) : new Uint8Array(bytes);
  }

  #download(stream?: Stream): Promise<ArrayBuffer> {
    const buf = this.buffer;
    return native().download(buf, stream ? streamFor(stream, this.device) : this.homeStream);
  }

  /** A new tensor with the same contents (device-to-device copy). */
  clone(opts: { stream?: Stream } = {}): Tensor {
    const s = opts.stream ? streamFor(opts.stream, this.device) : this.homeStream;
    const out = new Tensor(this.shape, this.dtype, this.device, s);
    native().copy(out.buffer, this.buffer, s);
    return out;
  }

  /** Overwrites this tensor with `src` (same dtype and element count), device to device. */
  copyFrom(src: Tensor, opts: { stream?: Stream } = {}): this {
    expectTensor(src, 'tensor.copyFrom(src)');
    expect(src.dtype === this.dtype, 'ERR_DTYPE', 'tensor.copyFrom(src)', this.dtype, src.dtype);
    expect(src.numel === this.numel, 'ERR_SHAPE', 'tensor.copyFrom(src)', `${this.numel} elements`, worded(`${src.numel} elements`));
    expect(src.device === this.device, 'ERR_DEVICE', 'tensor.copyFrom(src)', `a tensor on device ${this.device}`, worded(`device ${src.device}`));
    native().copy(this.buffer, src.buffer, opts.stream ? streamFor(opts.stream, this.device) : this.homeStream);
    return this;
  }

  /** Frees the device memory in stream order. Using the tensor afterwards throws ERR_DISPOSED. */
  dispose(): void {
    if (!this.#buf) return;
    registry.unregister(this);
    this.#buf.free();
    this.#buf = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  describe(): string {
    return `${this.disposed ? 'a disposed ' : 'a '}${this.dtype} tensor [${this.shape.join(', ')}] on device ${this.device}`;
  }

  toString(): string {
    return `Tensor(${this.describe()})`;
  }
}

function place(opts: PlacementOptions, what: string): { device: number; stream: NativeStream } {
  const device = opts.stream instanceof Stream && opts.device === undefined ? opts.stream.device : resolveDevice(opts.device, `${what} options.device`);
  return { device, stream: streamFor(opts.stream, device, `${what} options.stream`) };
}

export interface TensorOptions extends PlacementOptions {
  shape: number[];
  dtype?: DType;
}

function defaultDType(data: unknown): DType {
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint8Array) return 'uint8';
  return 'float32';
}

/**
 * Copies host data to a new device tensor. Values are converted to `dtype`
 * (rounded to nearest even; NaN and ±Inf kept where the format has them).
 * A Uint16Array given for float16/bfloat16, or a Uint8Array for a float8
 * dtype, is taken as the stored bits, unconverted.
 */
export function tensor(data: HostArray, opts: TensorOptions): Tensor {
  expect(Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView)), 'ERR_INVALID_ARGUMENT', 'tensor(data)', 'a TypedArray or number[]', data);
  expect(opts && typeof opts === 'object', 'ERR_INVALID_ARGUMENT', 'tensor(data, opts)', 'an options object with shape', opts);
  expectShape(opts.shape, 'tensor() options.shape');
  const dtype = opts.dtype ?? defaultDType(data);
  expectDType(dtype, 'tensor() options.dtype');
  expect(dtype !== 'int4', 'ERR_DTYPE', 'tensor() options.dtype', 'an unpacked dtype (int4 tensors come from quantizers)', dtype);
  const n = numel(opts.shape);
  const len = (data as ArrayLike<number>).length;
  expect(len === n, 'ERR_SHAPE', 'tensor(data)', `${n} elements for shape [${opts.shape.join(', ')}]`, worded(`${len} elements`));
  if (Array.isArray(data)) {
    expect(data.every((v) => typeof v === 'number'), 'ERR_INVALID_ARGUMENT', 'tensor(data)', 'an array of numbers', worded('an array with a non-number element'));
  }
  const raw = (data instanceof Uint16Array && DTYPES[dtype].bits === 16 && isFloat(dtype)) || (data instanceof Uint8Array && dtype.startsWith('float8'));
  const bytes = raw ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : encode(data, dtype);
  const { device, stream } = place(opts, 'tensor()');
  const t = new Tensor(opts.shape, dtype, device, stream);
  native().upload(t.buffer, bytes, stream);
  return t;
}

/** An uninitialised tensor. */
export function empty(shape: number[], dtype: DType = 'float32', opts: PlacementOptions = {}): Tensor {
  expectShape(shape, 'empty(shape)');
  expectDType(dtype, 'empty(shape, dtype)');
  const { device, stream } = place(opts, 'empty()');
  return new Tensor(shape, dtype, device, stream);
}

export function zeros(shape: number[], dtype: DType = 'float32', opts: PlacementOptions = {}): Tensor {
  const t = empty(shape, dtype, opts);
  native().fillBytes(t.buffer, 0, t.homeStream);
  return t;
}

/** @internal fills every byte with `byte` (tests poison outputs with 0xff = NaN for floats). */
export function fillBytes(t: Tensor, byte: number): void {
  native().fillBytes(t.buffer, byte, t.homeStream);
}

export interface RandOptions extends PlacementOptions {
  dtype?: DType;
  /** Same seed, same values on any GPU. Default: a fresh seed per call. */
  seed?: number;
}

let seedCounter = randomInt(2 ** 40);
const nextSeed = () => seedCounter++;

function fillRandom(shape: number[], o: RandOptions, dist: 0 | 1, a: number, b: number, what: string): Tensor {
  expectShape(shape, `${what}(shape)`);
  const dtype = o.dtype ?? 'float32';
  expectDType(dtype, `${what}() options.dtype`, dist === 1 ? ['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2'] : ['float32', 'float16', 'bfloat16', 'float8_e4m3', 'float8_e5m2', 'int8', 'uint8', 'int32']);
  const seed = o.seed ?? nextSeed();
  expect(Number.isSafeInteger(seed) && seed >= 0, 'ERR_INVALID_ARGUMENT', `${what}() options.seed`, 'a non-negative integer', seed);
  expect(Number.isFinite(a) && Number.isFinite(b), 'ERR_INVALID_ARGUMENT', `${what}() range`, 'finite numbers', [a, b]);
  const t = empty(shape, dtype, o);
  native().rand(t.buffer, DTYPES[dtype].id, t.numel, seed, dist, a, b, t.homeStream);
  return t;
}

/** Uniform in [low, high) (default [0, 1)); integer dtypes draw integers in [low, high). */
export function rand(shape: number[], opts: RandOptions & { low?: number; high?: number } = {}): Tensor {
  const low = opts.low ?? 0;
  const high = opts.high ?? (opts.dtype && !isFloat(opts.dtype) ? 100 : 1);
  expect(high > low, 'ERR_INVALID_ARGUMENT', 'rand() options.high', `a number above low (${low})`, high);
  return fillRandom(shape, opts, 0, low, high, 'rand');
}

/** Normal with the given mean and standard deviation (default 0, 1). */
export function randn(shape: number[], opts: RandOptions & { mean?: number; std?: number } = {}): Tensor {
  const std = opts.std ?? 1;
  expect(std >= 0, 'ERR_INVALID_ARGUMENT', 'randn() options.std', 'a non-negative number', std);
  return fillRandom(shape, opts, 1, opts.mean ?? 0, std, 'randn');
}

/** Checks that `t` is a live tensor; ops call this for every tensor argument. */
export function expectTensor(t: unknown, what: string): asserts t is Tensor {
  expect(t instanceof Tensor, 'ERR_INVALID_ARGUMENT', what, 'a Tensor', t);
  if (t.disposed) throw new WarpforgeError('ERR_DISPOSED', `expected a live tensor for ${what} but received ${t.describe()}`);
}

/**
 * An op's output: the caller's `out` checked (a live tensor of `dtype` on
 * `device` with `shape`; with `anyRows`, any shape of as many elements
 * that ends in the same last dimension, as a batched GEMM accepts), or a
 * fresh tensor of that shape.
 */
export function outputTensor(out: unknown, what: string, shape: number[], dtype: DType, device: number,
  opts: { stream?: Stream; anyRows?: boolean } = {}): Tensor {
  if (out === undefined) return empty(shape, dtype, { device, stream: opts.stream });
  expectTensor(out, what);
  expect(out.dtype === dtype, 'ERR_DTYPE', what, dtype, out.dtype);
  expect(out.device === device, 'ERR_DEVICE', what, `a tensor on device ${device}`, worded(`device ${out.device}`));
  const fits = opts.anyRows
    ? out.numel === numel(shape) && out.shape[out.shape.length - 1] === shape[shape.length - 1]
    : out.shape.length === shape.length && out.shape.every((d, i) => d === shape[i]);
  expect(fits, 'ERR_SHAPE', what, `shape [${shape.join(', ')}]`, worded(`shape [${out.shape.join(', ')}]`));
  return out;
}

/** Checks a bias-like vector: a live 1-D tensor of `n` elements, of `dtype`, on `device`. */
export function expectVector(t: unknown, what: string, n: number, dtype: DType, device: number): asserts t is Tensor {
  expectTensor(t, what);
  expect(t.dtype === dtype, 'ERR_DTYPE', what, dtype, t.dtype);
  expect(t.shape.length === 1 && t.shape[0] === n, 'ERR_SHAPE', what, `[${n}]`, worded(`shape [${t.shape.join(', ')}]`));
  expect(t.device === device, 'ERR_DEVICE', what, `a tensor on device ${device}`, worded(`device ${t.device}`));
}
