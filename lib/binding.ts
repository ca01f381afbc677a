/**
 * Finds and loads warpforge.node. Candidates, in order:
 *   1. WARPFORGE_BINDING=/path/to/warpforge.node (exclusive: if set, only it)
 *   2. the local build, build/Release/warpforge.node (`npm run build`)
 *   3. prebuilds/<platform>-<arch>/warpforge.node inside the package
 * Loading is lazy: importing warpforge never fails, and `devices()` /
 * `doctor` can report a missing binary instead of crashing.
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WarpforgeError } from './errors.js';
import type { NativeBinding } from './native.js';

const require = createRequire(import.meta.url);

/** The package root: the nearest folder above this file whose package.json is warpforge's. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'warpforge') return dir;
      } catch {
        /* keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new WarpforgeError('ERR_BINDING', `cannot find warpforge's package.json above ${from}`);
    dir = up;
  }
}

export function bindingCandidates(env: NodeJS.ProcessEnv = process.env, root = packageRoot()): string[] {
  if (env.WARPFORGE_BINDING) return [path.resolve(env.WARPFORGE_BINDING)];
  return [
    path.join(root, 'build', 'Release', 'warpforge.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'warpforge.node'),
  ];
}

export interface LoadAttempt {
  path: string;
  error: string;
}

/** Tries each candidate; returns the binding or every failure. */
export function tryLoad(candidates: string[]): { binding?: NativeBinding; path?: string; attempts: LoadAttempt[] } {
  const attempts: LoadAttempt[] = [];
  for (const p of candidates) {
    if (!existsSync(p)) {
      attempts.push({ path: p, error: 'not found' });
      continue;
    }
    try {
      const binding = require(p) as NativeBinding;
      if (typeof binding.probeDevices !== 'function') throw new Error('not a warpforge addon (no probeDevices export)');
      binding.setErrorClass(WarpforgeError); // native code calls new WarpforgeError(code, message)
      return { binding, path: p, attempts };
    } catch (e) {
      attempts.push({ path: p, error: (e as Error).message.split('\n')[0] });
    }
  }
  return { attempts };
}

export function explainLoadFailure(attempts: LoadAttempt[]): string {
  const lines = attempts.map((a) => `  - ${a.path}: ${a.error}`);
  return [
    'warpforge could not load its native addon (warpforge.node). Tried:',
    ...lines,
    'Build it with `npm run build` (needs CUDA nvcc and CMake), or point WARPFORGE_BINDING at a built warpforge.node.',
  ].join('\n');
}

let cached: { binding?: NativeBinding; path?: string; error?: WarpforgeError } | undefined;

/** The loaded binding, or throws ERR_BINDING listing every candidate tried. */
export function native(): NativeBinding {
  if (!cached) {
    const r = tryLoad(bindingCandidates());
    cached = r.binding
      ? { binding: r.binding, path: r.path }
      : { error: new WarpforgeError('ERR_BINDING', explainLoadFailure(r.attempts)) };
  }
  if (cached.error) throw cached.error;
  return cached.binding!;
}

export function bindingPath(): string | undefined {
  try {
    native();
  } catch {
    return undefined;
  }
  return cached?.path;
}
