// The packed W4A16 layout exists twice: cuda/w4a16/layout.h (kernels) and
// lib/w4a16/layout.ts (host packer, importers). A host build of the header
// prints its mapping; this test requires the TypeScript mirror to agree. The
// split-K scratch the host allocates is mirrored the same way.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { gemmCounterBound, gemmScratchBytes, paddedK, paddedN, scaleIndex, weightPos } from '../lib/w4a16/layout.js';

const cxx = process.env.CXX ?? 'c++';
const haveCxx = spawnSync(cxx, ['--version']).status === 0;

describe.skipIf(!haveCxx)(`layout.h and layout.ts agree${haveCxx ? '' : ` [skipped: no C++ compiler (${cxx})]`}`, () => {
  it('padding, nibble positions and scale indices match', () => {
    const exe = path.join(mkdtempSync(path.join(tmpdir(), 'wf-layout-')), 'dump');
    execFileSync(cxx, ['-std=c++17', '-O1', '-o', exe, fileURLToPath(new URL('./native/w4a16_layout_dump.cpp', import.meta.url))]);
    const lines = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
    let checked = 0;
    for (const line of lines) {
      const [kind, ...v] = line.split(' ');
      const x = v.map(Number);
      if (kind === 'padded_k') expect(paddedK(x[0], x[1]), line).toBe(x[2]);
      else if (kind === 'padded_n') expect(paddedN(x[0]), line).toBe(x[1]);
      else if (kind === 'pos') expect(weightPos(x[0], x[1], 192), line).toEqual({ word: x[2], shift: x[3] });
      else if (kind === 'scale') expect(scaleIndex(x[0], x[1], 128), line).toBe(x[2]);
      else throw new Error(`unexpected line: ${line}`);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });
});

// w4a16.h includes the CUDA runtime's headers (no library is linked).
const cudaInclude = path.join(process.env.CUDA_HOME ?? '/usr/local/cuda', 'include');
const haveCuda = haveCxx && existsSync(path.join(cudaInclude, 'cuda_runtime_api.h'));

describe.skipIf(!haveCuda)(`w4a16.h and layout.ts size the GEMM scratch alike${haveCuda ? '' : ` [skipped: no C++ compiler or no ${cudaInclude}]`}`, () => {
  it('counters and fp32 sums', () => {
    const exe = path.join(mkdtempSync(path.join(tmpdir(), 'wf-scratch-')), 'dump');
    execFileSync(cxx, ['-std=c++17', '-O1', `-I${cudaInclude}`, '-o', exe, fileURLToPath(new URL('./native/w4a16_scratch_dump.cpp', import.meta.url))]);
    const lines = execFileSync(exe, { encoding: 'utf8' }).trim().split('\n');
    for (const line of lines) {
      const [kind, m, nPad, counters, bytes] = line.split(' ');
      expect(kind).toBe('scratch');
      expect(gemmCounterBound(Number(m), Number(nPad)), line).toBe(Number(counters));
      expect(gemmScratchBytes(Number(m), Number(nPad)), line).toBe(Number(bytes));
      // the sums start 16-byte aligned (vector REDs)
      expect(Number(counters) % 4, line).toBe(0);
    }
    expect(lines.length).toBe(55);
  });
});
