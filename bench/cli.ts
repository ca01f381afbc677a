#!/usr/bin/env node
/**
 * npm run bench [-- <suite>... [--m 1,16] [--iters 100] [--warmup 10] [--chain 20] [--out dir]]
 * With no suite named, runs the default set (copy, matmul, w4a16, w4a16-quantize, w4a16-dequantize).
 */
import { Stream, devices, empty, isAvailable, unavailableReason } from '../lib/index.js';
import { native } from '../lib/binding.js';
import { allSuites, suite, type Options } from './registry.js';
import { table, writeReport, type CaseResult, type RunReport, type SuiteResult } from './report.js';
import { gbps, summarize, tflops } from './stats.js';
import { timeIterations } from './timing.js';
import './suites/index.js';

const DEFAULT_SUITES = ['copy', 'matmul', 'w4a16', 'w4a16-quantize', 'w4a16-dequantize'];

function parseArgs(argv: string[]): { names: string[]; opts: Options } {
  const names: string[] = [];
  const opts: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [key, inline] = a.slice(2).split('=', 2);
      opts[key] = inline ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true');
    } else names.push(a);
  }
  return { names, opts };
}

/** The memory-bandwidth ceiling: a 1 GiB device-to-device copy, bytes read + written. */
async function measureCopyGbps(ctx: { device: number; stream: Stream; l2Bytes: number }): Promise<number> {
  const bytes = 1 << 30;
  const bufs = [0, 1].map(() => empty([bytes], 'uint8', { stream: ctx.stream }));
  try {
    const ms = await timeIterations({ run: (i) => void bufs[i % 2].copyFrom(bufs[(i + 1) % 2], { stream: ctx.stream }), dispose() {} }, ctx, { warmup: 3, iters: 20 });
    return gbps(2 * bytes, summarize(ms).median);
  } finally {
    bufs.forEach((b) => b.dispose());
  }
}

function usage(): string {
  return ['usage: npm run bench -- [suite...] [--iters N] [--warmup N] [--chain N] [--out DIR] [suite options]',
    '  --chain N  time N back-to-back iterations per event pair (a decoder\'s layers) instead of one', 'suites:',
    ...allSuites().map((s) => `  ${s.name.padEnd(10)} ${s.description}\n${Object.entries(s.options).map(([k, v]) => `      --${k}  ${v}`).join('\n')}`)].join('\n');
}

async function main(): Promise<number> {
  const { names, opts } = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(usage());
    return 0;
  }
  const chosen = (names.length ? names : DEFAULT_SUITES).map((n) => {
    const s = suite(n);
    if (!s) throw new Error(`unknown suite "${n}"\n${usage()}`);
    return s;
  });
  if (!isAvailable()) {
    console.error(`bench: no usable GPU — ${unavailableReason()}`);
    console.error('bench: the benchmark needs an NVIDIA GPU this build supports (see `npx warpforge doctor`).');
    return 1;
  }
  const dev = devices()[0];
  const warmup = Number(opts.warmup ?? 10);
  const iters = Number(opts.iters ?? 100);
  const chain = Number(opts.chain ?? 1);
  if (!Number.isSafeInteger(chain) || chain < 1) throw new Error(`expected a positive integer for --chain but received ${JSON.stringify(opts.chain)}`);
  const stream = new Stream({ device: dev.index });
  const ctx = { device: dev.index, stream, l2Bytes: dev.l2CacheBytes };
  const lt = native().cublasLtInfo();
  const report: RunReport = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    device: { ...dev },
    versions: { node: process.version, cublasLt: lt.version ?? lt.error, build: native().buildInfo() },
    timing: { warmup, iters, chain, method: chain > 1
      ? `CUDA events around each chain of ${chain} back-to-back iterations on one stream (sample = chain time / ${chain}); inputs rotated past 3× L2`
      : 'CUDA events around each iteration on one stream; inputs rotated past 3× L2' },
    suites: [],
  };
  console.log(`bench: ${dev.name} (sm_${dev.major}${dev.minor}, ${dev.multiProcessorCount} SMs, L2 ${(dev.l2CacheBytes / 2 ** 20).toFixed(0)} MiB), ${iters} timed ${chain > 1 ? `chains of ${chain} back-to-back runs` : 'runs'} after ${warmup} warm-up`);
  const copyGbps = await measureCopyGbps(ctx);
  report.versions.copyGbps = copyGbps;
  console.log(`bench: device copy bandwidth ${copyGbps.toFixed(0)} GB/s (read + write); the "% copy" column is against it`);
  for (const s of chosen) {
    const sr: SuiteResult = { suite: s.name, description: s.description, cases: [] };
    const cases = s.cases(opts);
    for (const [ci, c] of cases.entries()) {
      const cr: CaseResult = { label: c.label, params: c.params, flops: c.flops, bytes: c.bytes, results: [] };
      for (const impl of c.impls) {
        process.stderr.write(`\r[${s.name} ${ci + 1}/${cases.length}] ${c.label} · ${impl.name}`.padEnd(80));
        try {
          const p = impl.prepare(ctx);
          try {
            const ms = await timeIterations(p, ctx, { warmup, iters, chain });
            const us = summarize(ms.map((v) => v * 1000));
            const bw = gbps(impl.bytes ?? c.bytes, us.median / 1000);
            cr.results.push({ impl: impl.name, baseline: !!impl.baseline, samplesMs: ms, us,
              tflops: c.flops ? tflops(c.flops, us.median / 1000) : undefined, gbps: bw,
              copyFraction: copyGbps ? bw / copyGbps : undefined });
          } finally {
            p.dispose();
          }
        } catch (e) {
          cr.results.push({ impl: impl.name, baseline: !!impl.baseline, samplesMs: [], us: summarize([]), error: (e as Error).message.split('\n')[0] });
        }
      }
      const base = cr.results.find((r) => r.baseline && !r.error);
      for (const r of cr.results) if (base && !r.error) r.speedup = base.us.median / r.us.median;
      sr.cases.push(cr);
    }
    s.teardown?.();
    process.stderr.write('\r'.padEnd(81) + '\r');
    report.suites.push(sr);
    console.log(`\n${table(sr)}`);
  }
  const out = writeReport(report, opts.out ?? process.env.WARPFORGE_BENCH_OUT ?? 'bench/out');
  console.log(`\nbench: wrote ${out.json} and ${out.html}`);
  stream.destroy();
  return 0;
}

main().then((code) => (process.exitCode = code), (e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 2;
});
