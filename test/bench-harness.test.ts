// The benchmark's statistics and report writers (the timing itself needs a GPU).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { intList } from '../bench/registry.js';
import { svgChart, table, writeReport, type SuiteResult } from '../bench/report.js';
import { gbps, quantile, rotationCount, summarize, tflops } from '../bench/stats.js';

describe('bench statistics', () => {
  it('median, min, max and quantiles', () => {
    const s = summarize([5, 1, 4, 2, 3]);
    expect(s).toMatchObject({ n: 5, median: 3, min: 1, max: 5, mean: 3 });
    expect(summarize([1, 2, 3, 4]).median).toBe(2.5);
    expect(quantile([0, 10], 0.1)).toBeCloseTo(1);
    expect(Number.isNaN(summarize([]).median)).toBe(true);
  });

  it('rotation keeps a pass over the inputs at least 3× L2', () => {
    expect(rotationCount(128 << 20, 50 << 20)).toBe(2);
    expect(rotationCount(1 << 20, 50 << 20)).toBe(64); // capped
    expect(rotationCount(10 << 20, 50 << 20)).toBe(15);
    expect(rotationCount(0, 50 << 20)).toBe(1);
  });

  it('throughput units', () => {
    expect(tflops(2e12, 1000)).toBeCloseTo(2);
    expect(gbps(3e9, 1)).toBeCloseTo(3000);
  });

  it('parses list options and rejects bad ones', () => {
    expect(intList('1, 16,128', [], 'm')).toEqual([1, 16, 128]);
    expect(intList(undefined, [7], 'm')).toEqual([7]);
    expect(() => intList('1,x', [], 'm')).toThrow(/--m/);
    expect(() => intList('0', [], 'm')).toThrow(/positive/);
  });
});

describe('bench report', () => {
  const suite: SuiteResult = {
    suite: 'demo',
    description: 'demo suite',
    cases: [{
      label: 'M=1',
      params: { m: 1 },
      flops: 2e9,
      bytes: 1e9,
      results: [
        { impl: 'base', baseline: true, samplesMs: [1, 1.1], us: summarize([1000, 1100]), tflops: 1.9, gbps: 950, speedup: 1 },
        { impl: 'fast', baseline: false, samplesMs: [0.5], us: summarize([500]), tflops: 4, gbps: 2000, speedup: 2.1 },
      ],
    }],
  };

  it('prints a table with a speedup column', () => {
    const t = table(suite);
    expect(t).toContain('| M=1');
    expect(t).toContain('baseline');
    expect(t).toContain('2.10×');
  });

  it('draws one bar per implementation and writes JSON + HTML', () => {
    const svg = svgChart(suite);
    expect(svg.match(/<title>/g)?.length).toBe(2);
    expect(svg).toContain("fast: 500.0 µs");
    const dir = mkdtempSync(path.join(tmpdir(), 'wf-bench-'));
    const out = writeReport({ date: '2026-01-01T00:00:00.000Z', command: 'x', device: { name: 'GPU' }, versions: {},
      timing: { warmup: 1, iters: 2, method: 'events' }, suites: [suite] }, dir);
    const json = JSON.parse(readFileSync(out.json, 'utf8'));
    expect(json.suites[0].cases[0].results[1].speedup).toBe(2.1);
    expect(readFileSync(out.html, 'utf8')).toContain('<svg');
  });
});
