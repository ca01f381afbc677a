/**
 * Element types. The numeric ids are shared with cuda/common/dtype.h (a test
 * checks that the addon reports the same table).
 */
import { expect } from './validate.js';

export type DType =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float8_e4m3'
  | 'float8_e5m2'
  | 'int8'
  | 'uint8'
  | 'int32'
  | 'int4';

interface DTypeInfo {
  id: number;
  bits: number;
  float: boolean;
}

export const DTYPES: Readonly<Record<DType, DTypeInfo>> = {
  float32: { id: 0, bits: 32, float: true },
  float16: { id: 1, bits: 16, float: true },
  bfloat16: { id: 2, bits: 16, float: true },
  float8_e4m3: { id: 3, bits: 8, float: true },
  float8_e5m2: { id: 4, bits: 8, float: true },
  int8: { id: 5, bits: 8, float: false },
  uint8: { id: 6, bits: 8, float: false },
  int32: { id: 7, bits: 32, float: false },
  int4: { id: 8, bits: 4, float: false },
};

export const DTYPE_NAMES = Object.keys(DTYPES) as DType[];

export function expectDType(d: unknown, what: string, allowed: readonly DType[] = DTYPE_NAMES): asserts d is DType {
  expect(typeof d === 'string' && (allowed as readonly string[]).includes(d), 'ERR_DTYPE', what,
    `one of ${allowed.join(', ')}`, d);
}

export function byteLength(dtype: DType, count: number): number {
  return Math.ceil((count * DTYPES[dtype].bits) / 8);
}

export const isFloat = (d: DType): boolean => DTYPES[d].float;
