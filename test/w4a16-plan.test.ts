// The W4A16 planner's invariants (grid covers M, N, K; no empty K split; the
// split-K scratch is only used where it holds the sums) over a sweep of
// shapes and GPU sizes, with no GPU: test/native/w4a16_plan_check.cpp linked
// against the kernel library the build made.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const cxx = process.env.CXX ?? 'c++';
const cuda = process.env.CUDA_HOME ?? '/usr/local/cuda';
const lib = path.join(root, 'build', 'libwarpforge_kernels.a');
const missing = [
  spawnSync(cxx, ['--version']).status === 0 ? '' : `no C++ compiler (${cxx})`,
  existsSync(lib) ? '' : 'no build/libwarpforge_kernels.a (run the build first)',
  existsSync(path.join(cuda, 'lib64', 'libcudart_static.a')) ? '' : `no static CUDA runtime under ${cuda}`,
].filter(Boolean).join('; ');

describe.skipIf(missing !== '')(`w4a16 planner invariants${missing ? ` [skipped: ${missing}]` : ''}`, () => {
  it('every plan covers its GEMM and meets K splits only where the sums fit', () => {
    const exe = path.join(mkdtempSync(path.join(tmpdir(), 'wf-plan-')), 'plan');
    execFileSync(cxx, ['-std=c++17', '-O1', `-I${path.join(cuda, 'include')}`, '-o', exe,
      path.join(root, 'test', 'native', 'w4a16_plan_check.cpp'), lib,
      `-L${path.join(cuda, 'lib64')}`, '-lcudart_static', '-ldl', '-lpthread', '-lrt']);
    const r = spawnSync(exe, { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('FAIL')), r.stdout).toEqual([]);
    const summary = /checked (\d+) plans, (\d+) failed/.exec(lines[lines.length - 1] ?? '');
    expect(summary, r.stdout).not.toBeNull();
    expect(Number(summary![1])).toBeGreaterThan(10000);
    expect(Number(summary![2])).toBe(0);
    expect(r.status).toBe(0);
  });
});
