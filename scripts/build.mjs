#!/usr/bin/env node
// Builds the addon (cmake-js, incremental) and the TypeScript output.
//   node scripts/build.mjs            addon + TS
//   node scripts/build.mjs --ts-only  TS only (no nvcc needed)
// WARPFORGE_CUDA_ARCHS (default 90a) picks the GPU targets.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const archs = process.env.WARPFORGE_CUDA_ARCHS || '90a';

function run(cmd, argv) {
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.status !== 0) {
    console.error(`build: ${path.basename(cmd)} ${argv.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  return Date.now() - t0;
}

if (!args.includes('--ts-only')) {
  if (!process.env.CUDACXX && !process.env.PATH.split(':').some((p) => p.endsWith('cuda/bin'))) {
    process.env.PATH = `/usr/local/cuda/bin:${process.env.PATH}`;
  }
  const jobs = String(Math.max(1, os.availableParallelism?.() ?? os.cpus().length));
  const cmakeJs = path.join(root, 'node_modules/cmake-js/bin/cmake-js');
  // configure every time (seconds): options and arch changes must take effect;
  // the build itself stays incremental.
  const ms = run(process.execPath, [cmakeJs, 'configure',
    `--CDWARPFORGE_CUDA_ARCHS=${archs}`,
    ...(process.env.WARPFORGE_PTXAS_VERBOSE ? ['--CDWARPFORGE_PTXAS_VERBOSE=ON'] : []),
    `--CDWARPFORGE_HARNESS=${process.env.WARPFORGE_HARNESS ? 'ON' : 'OFF'}`,
  ]) + run(process.execPath, [cmakeJs, 'build', '--parallel', jobs]);
  console.log(`build: addon for sm_${archs} in ${(ms / 1000).toFixed(1)} s`);
}
run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
