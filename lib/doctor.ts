/**
 * What works on this machine and what to do about what does not:
 * `npx warpforge doctor`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bindingCandidates, packageRoot, tryLoad } from './binding.js';
import { archSupported } from './device.js';

export interface DoctorReport {
  ok: boolean;
  lines: string[];
}

const ver = (v: number) => (v ? `${Math.floor(v / 1000)}.${(v % 1000) / 10}` : 'none');

export function doctor(): DoctorReport {
  const lines: string[] = [];
  const problems: string[] = [];
  const root = packageRoot();
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  lines.push(`warpforge ${pkg.version} (node ${process.version}, ${process.platform}-${process.arch}, Node-API ${process.versions.napi})`);
  const r = tryLoad(bindingCandidates());
  for (const a of r.attempts) lines.push(`  binary candidate ${a.path}: ${a.error}`);
  if (!r.binding) {
    problems.push('no native binary loaded: run `npm run build` (needs nvcc and CMake) or set WARPFORGE_BINDING');
    lines.push(...problems.map((p) => `PROBLEM: ${p}`));
    return { ok: false, lines };
  }
  const b = r.binding;
  const build = b.buildInfo();
  lines.push(`binary: ${r.path}`);
  lines.push(`  built for sm_${build.cudaArchs.split(',').join(', sm_')}; CUDA runtime ${ver(build.cudartVersion)} (static); Node-API ${build.napiVersion}`);
  const probe = b.probeDevices();
  lines.push(`driver: CUDA ${ver(probe.driverVersion)}${probe.driverVersion === 0 ? ' (no NVIDIA driver found)' : ''}`);
  if (probe.error) problems.push(`CUDA reports: ${probe.error}`);
  if (probe.devices.length === 0 && !probe.error) problems.push('the driver reports no GPU');
  for (const d of probe.devices) {
    const ok = archSupported(d.major, d.minor, build.cudaArchs);
    lines.push(`GPU ${d.index}: ${d.name}, sm_${d.major}${d.minor}, ${d.multiProcessorCount} SMs, ${(d.totalMemory / 2 ** 30).toFixed(1)} GiB, L2 ${(d.l2CacheBytes / 2 ** 20).toFixed(0)} MiB — ${ok ? 'supported' : 'NOT supported by this build'}`);
    if (!ok) problems.push(`GPU ${d.index} (sm_${d.major}${d.minor}) is not among this build's targets: rebuild with WARPFORGE_CUDA_ARCHS="${d.major}${d.minor}${d.major === 9 ? 'a' : ''}" npm run build`);
  }
  const lt = b.cublasLtInfo();
  lines.push(lt.loaded ? `cuBLASLt: ${lt.path} (version ${lt.version})` : `cuBLASLt: missing — ${lt.error}`);
  if (!lt.loaded) problems.push('matmul() and the benchmark baselines need cuBLASLt: install the CUDA toolkit libraries (libcublasLt.so.13)');
  lines.push(...problems.map((p) => `PROBLEM: ${p}`));
  return { ok: problems.length === 0, lines };
}
