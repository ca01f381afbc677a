/**
 * Benchmark suites register here, one line each. A suite turns command-line
 * options into cases; a case lists implementations of the same computation,
 * one of them the baseline the others are compared against.
 */
import type { Stream } from '../lib/index.js';

export interface Prepared {
  /** Launches one iteration on `stream` using input set `i % sets`. */
  run(i: number): void;
  /** Frees what prepare() allocated. */
  dispose(): void;
}

export interface Impl {
  name: string;
  baseline?: boolean;
  /** Bytes this implementation must move, when not the case's (e.g. packed INT4 weights). */
  bytes?: number;
  /** Allocates inputs (rotated so they never sit in L2) and returns the runner. */
  prepare(ctx: BenchContext): Prepared;
}

export interface Case {
  /** Short label for the table, e.g. "M=16 N=8192 K=8192". */
  label: string;
  params: Record<string, number | string | boolean>;
  /** Floating-point operations of one iteration (0 when not meaningful). */
  flops: number;
  /** The fewest bytes one iteration must move through device memory. */
  bytes: number;
  impls: Impl[];
}

export interface BenchContext {
  device: number;
  stream: Stream;
  l2Bytes: number;
}

export type Options = Record<string, string>;

export interface Suite {
  name: string;
  description: string;
  /** Options this suite reads, for --help. */
  options: Record<string, string>;
  cases(opts: Options): Case[];
  /** Frees what the suite's cases shared (weights reused across cases). */
  teardown?(): void;
}

const suites = new Map<string, Suite>();

export function register(s: Suite): void {
  suites.set(s.name, s);
}

export function suite(name: string): Suite | undefined {
  return suites.get(name);
}

export function allSuites(): Suite[] {
  return [...suites.values()];
}

/** "1,16,128" -> [1, 16, 128]; throws on anything that is not a positive integer list. */
export function intList(value: string | undefined, fallback: number[], what: string): number[] {
  if (value === undefined) return fallback;
  const out = value.split(',').map((v) => Number(v.trim()));
  if (out.length === 0 || out.some((v) => !Number.isSafeInteger(v) || v <= 0)) {
    throw new Error(`expected a comma-separated list of positive integers for --${what} but received ${JSON.stringify(value)}`);
  }
  return out;
}

/** Weight shapes [N, K]: every pair of --n and --k (each defaulting to 8192) where either is given, else `fallback`. */
export function nkShapes(o: { n?: string; k?: string }, fallback: [number, number][]): [number, number][] {
  if (!o.n && !o.k) return fallback;
  return intList(o.n, [8192], 'n').flatMap((n) => intList(o.k, [8192], 'k').map((k) => [n, k] as [number, number]));
}
