import { expect, it } from 'vitest';

it('test workers run with --expose-gc (the finalizer test depends on it)', () => {
  expect(typeof (globalThis as { gc?: unknown }).gc).toBe('function');
});
