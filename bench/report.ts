/**
 * Output of a benchmark run: a table per suite on stdout, one JSON file with
 * every sample, and one HTML page with an SVG bar chart per suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Summary } from './stats.js';

export interface ImplResult {
  impl: string;
  baseline: boolean;
  samplesMs: number[];
  us: Summary;
  tflops?: number;
  gbps?: number;
  speedup?: number;
  /** Achieved GB/s over the device's measured copy bandwidth. */
  copyFraction?: number;
  error?: string;
}

export interface CaseResult {
  label: string;
  params: Record<string, number | string | boolean>;
  flops: number;
  bytes: number;
  results: ImplResult[];
}

export interface SuiteResult {
  suite: string;
  description: string;
  cases: CaseResult[];
}

export interface RunReport {
  date: string;
  command: string;
  device: Record<string, unknown>;
  versions: Record<string, unknown>;
  timing: { warmup: number; iters: number; chain: number; method: string };
  suites: SuiteResult[];
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export function table(s: SuiteResult): string {
  const head = ['case', 'impl', 'median µs', 'min µs', 'max µs', 'TFLOP/s', 'GB/s', '% copy', 'vs baseline'];
  const rows: string[][] = [];
  for (const c of s.cases) {
    for (const r of c.results) {
      rows.push(r.error
        ? [c.label, r.impl, `error: ${r.error}`, '', '', '', '', '', '']
        : [c.label, r.impl, fmt(r.us.median), fmt(r.us.min), fmt(r.us.max), c.flops ? fmt(r.tflops) : '—', fmt(r.gbps, 0),
            r.copyFraction === undefined ? '—' : `${(100 * r.copyFraction).toFixed(0)}%`,
            r.baseline ? 'baseline' : r.speedup ? `${r.speedup.toFixed(2)}×` : '—']);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [`## ${s.suite}: ${s.description}`, line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948'];

/** Horizontal bars of median time per case and implementation (shorter is faster). */
export function svgChart(s: SuiteResult): string {
  const impls = [...new Set(s.cases.flatMap((c) => c.results.map((r) => r.impl)))];
  const bar = 14, gap = 10, labelW = 220, plotW = 520;
  const max = Math.max(...s.cases.flatMap((c) => c.results.map((r) => r.us.median).filter(Number.isFinite)), 1e-9);
  let y = 30;
  const parts: string[] = [];
  for (const c of s.cases) {
    parts.push(`<text x="0" y="${y + bar}" font-size="12">${esc(c.label)}</text>`);
    for (const r of c.results) {
      const w = Number.isFinite(r.us.median) ? (r.us.median / max) * plotW : 0;
      const color = COLORS[impls.indexOf(r.impl) % COLORS.length];
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${color}"><title>${esc(r.impl)}: ${fmt(r.us.median)} µs</title></rect>`);
      parts.push(`<text x="${labelW + w + 4}" y="${y + bar - 3}" font-size="11">${fmt(r.us.median)} µs${r.speedup && !r.baseline ? ` (${r.speedup.toFixed(2)}×)` : ''}</text>`);
      y += bar + 2;
    }
    y += gap;
  }
  const legend = impls.map((name, i) => `<rect x="${labelW + i * 160}" y="4" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${labelW + i * 160 + 16}" y="14" font-size="12">${esc(name)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + plotW + 160}" height="${y + 10}" font-family="sans-serif">${legend.join('')}${parts.join('')}</svg>`;
}

export function writeReport(report: RunReport, dir: string): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.date.replace(/[:.]/g, '-');
  const json = path.join(dir, `bench-${stamp}.json`);
  const html = path.join(dir, `bench-${stamp}.html`);
  writeFileSync(json, JSON.stringify(report, null, 1));
  const body = report.suites
    .map((s) => `<h2>${esc(s.suite)}</h2><p>${esc(s.description)} — median of ${report.timing.iters} runs, ${esc(report.timing.method)}</p>${svgChart(s)}<pre>${esc(table(s))}</pre>`)
    .join('\n');
  writeFileSync(html, `<!doctype html><meta charset="utf-8"><title>warpforge bench ${esc(report.date)}</title>
<h1>warpforge benchmark</h1><p>${esc(String(report.device.name ?? ''))} · ${esc(report.date)} · <code>${esc(report.command)}</code></p>${body}`);
  return { json, html };
}
