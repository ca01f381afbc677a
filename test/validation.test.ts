// Argument validation happens in TypeScript before any native call, so these
// errors are the same with or without a GPU.
import { describe, expect, it } from 'vitest';
import { empty, rand, randn, tensor, WarpforgeError, type ErrorCode } from '../lib/index.js';
import { describe as describeValue, expect as expectArg } from '../lib/validate.js';

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WarpforgeError);
    return (e as WarpforgeError).code;
  }
  return undefined;
}

describe('validation helper', () => {
  it('words every message the same way', () => {
    try {
      expectArg(false, 'ERR_SHAPE', 'matmul(b)', '[4, N]', [3, 5]);
    } catch (e) {
      expect((e as Error).message).toBe('expected [4, N] for matmul(b) but received [3, 5]');
      expect((e as WarpforgeError).code).toBe('ERR_SHAPE');
      expect((e as Error).name).toBe('WarpforgeError');
    }
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue('x')).toBe('"x"');
    expect(describeValue(undefined)).toBe('undefined');
  });
});

describe('tensor() and factories reject bad input with typed errors', () => {
  it('shape', () => {
    expect(codeOf(() => tensor([1, 2, 3], { shape: [2, 2] }))).toBe('ERR_SHAPE');
    expect(codeOf(() => tensor([1, 2], { shape: [-2] }))).toBe('ERR_SHAPE');
    expect(codeOf(() => tensor([1, 2], { shape: [1.5] as number[] }))).toBe('ERR_SHAPE');
    expect(codeOf(() => tensor([1, 2], { shape: 'abc' as unknown as number[] }))).toBe('ERR_SHAPE');
    expect(codeOf(() => empty(null as unknown as number[]))).toBe('ERR_SHAPE');
  });

  it('dtype', () => {
    expect(codeOf(() => tensor([1], { shape: [1], dtype: 'float64' as never }))).toBe('ERR_DTYPE');
    expect(codeOf(() => tensor([1], { shape: [1], dtype: 'int4' }))).toBe('ERR_DTYPE');
    expect(codeOf(() => randn([4], { dtype: 'int32' }))).toBe('ERR_DTYPE');
    expect(codeOf(() => empty([4], 'half' as never))).toBe('ERR_DTYPE');
  });

  it('data and options', () => {
    expect(codeOf(() => tensor('abc' as never, { shape: [3] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => tensor([1, 'a' as never], { shape: [2] }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => tensor([1], undefined as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => rand([4], { low: 2, high: 1 }))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => randn([4], { std: -1 }))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('the message names the argument, what was expected and what came', () => {
    try {
      tensor([1, 2, 3], { shape: [2, 2] });
    } catch (e) {
      expect((e as Error).message).toBe('expected 4 elements for shape [2, 2] for tensor(data) but received 3 elements');
    }
  });
});
