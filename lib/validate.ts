/**
 * The one validation helper. Every argument check in lib/ goes through
 * `expect`, so every message reads the same way:
 *   expected <what is allowed> for <argument> but received <what came>
 */
import { WarpforgeError, type ErrorCode } from './errors.js';

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return value.length <= 8 ? `[${value.map(describe).join(', ')}]` : `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<unknown>).length ?? value.byteLength}`;
  if (typeof value === 'object') {
    const d = (value as { describe?: () => string }).describe;
    if (typeof d === 'function') return d.call(value);
    return `an object (${value.constructor?.name ?? 'Object'})`;
  }
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

export function fail(code: ErrorCode, what: string, expected: string, received: unknown): never {
  const got = typeof received === 'string' && received.startsWith('\u0000') ? received.slice(1) : describe(received);
  throw new WarpforgeError(code, `expected ${expected} for ${what} but received ${got}`);
}

/** Throws `fail(...)` unless `ok`. `received` may be a value or, prefixed with \0, a pre-worded description. */
export function expect(ok: unknown, code: ErrorCode, what: string, expected: string, received: unknown): asserts ok {
  if (!ok) fail(code, what, expected, received);
}

/** A pre-worded description for `expect`'s `received`. */
export const worded = (text: string): string => `\u0000${text}`;

export function isShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
}

export function expectShape(shape: unknown, what: string): asserts shape is number[] {
  expect(isShape(shape), 'ERR_SHAPE', what, 'an array of non-negative integers', shape);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function expectInt(v: unknown, what: string, min = -Infinity, max = Infinity): asserts v is number {
  expect(Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, 'ERR_INVALID_ARGUMENT', what,
    `an integer${min > -Infinity ? ` ≥ ${min}` : ''}${max < Infinity ? ` and ≤ ${max}` : ''}`, v);
}
