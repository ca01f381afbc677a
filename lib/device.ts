/**
 * GPUs, their default streams, and the memory pool's statistics.
 */
import { native, bindingPath } from './binding.js';
import { WarpforgeError } from './errors.js';
import type { NativeStream } from './native.js';
import { expect, expectInt } from './validate.js';

export interface DeviceInfo {
  index: number;
  name: string;
  /** e.g. "9.0" for Hopper. */
  computeCapability: string;
  major: number;
  minor: number;
  multiProcessorCount: number;
  totalMemory: number;
  l2CacheBytes: number;
  sharedMemoryPerBlockOptin: number;
  pciBusId: string;
  /** CUDA driver version as CUDA encodes it (13000 = 13.0); 0 without a driver. */
  driverVersion: number;
  runtimeVersion: number;
  /** Whether this build carries machine code for this GPU. */
  supported: boolean;
  /** Set when a sticky CUDA error made the device unusable in this process. */
  brokenBy?: string;
}

interface Probe {
  devices: DeviceInfo[];
  reason?: string;
}

let probe: Probe | undefined;

/** Whether a GPU of capability major.minor runs this build's kernels. */
export function archSupported(major: number, minor: number, archs = native().buildInfo().cudaArchs): boolean {
  // "90a" runs only on 9.0 exactly; "80" runs on 8.x with x >= 0 (same major).
  return archs.split(',').some((a) => {
    const m = /^(\d+)(\d)(a?)$/.exec(a.trim());
    if (!m) return false;
    const [maj, min, specific] = [Number(m[1]), Number(m[2]), m[3] === 'a'];
    return specific ? maj === major && min === minor : maj === major && minor >= min;
  });
}

function runProbe(): Probe {
  let b;
  try {
    b = native();
  } catch (e) {
    return { devices: [], reason: (e as Error).message };
  }
  const r = b.probeDevices();
  const archs = b.buildInfo().cudaArchs;
  const devices = r.devices.map((d) => ({
    ...d,
    computeCapability: `${d.major}.${d.minor}`,
    driverVersion: r.driverVersion,
    runtimeVersion: r.runtimeVersion,
    supported: archSupported(d.major, d.minor, archs),
  }));
  if (r.error) return { devices, reason: `no usable CUDA driver or GPU (${r.error})` };
  if (devices.length === 0) return { devices, reason: 'the CUDA driver reports no GPU' };
  return { devices };
}

/** Every GPU CUDA can see; [] with no GPU, no driver or no binary. Never throws. */
export function devices(): DeviceInfo[] {
  probe ??= runProbe();
  // Broken-device marks change at run time; refresh them from native state
  // (a map read: every op resolves its device through here).
  if (probe.devices.length > 0) {
    const broken = native().brokenDevices();
    for (const d of probe.devices) d.brokenBy = broken[d.index];
  }
  return probe.devices;
}

export function isAvailable(): boolean {
  return devices().some((d) => d.supported && !d.brokenBy);
}

/** Why no GPU can be used, or undefined when one can. */
export function unavailableReason(): string | undefined {
  const list = devices();
  if (probe?.reason) return probe.reason;
  if (!list.some((d) => d.supported)) {
    return `no GPU matches this build's targets (${native().buildInfo().cudaArchs}); found ${list
      .map((d) => `${d.name} (sm_${d.major}${d.minor})`)
      .join(', ')}; rebuild with WARPFORGE_CUDA_ARCHS including it`;
  }
  if (!list.some((d) => !d.brokenBy)) return 'every GPU hit a sticky CUDA error in this process';
  return undefined;
}

/** Checks a device index and returns it; throws ERR_NO_DEVICE / ERR_DEVICE / ERR_UNSUPPORTED_ARCH. */
export function resolveDevice(device: unknown, what = 'device'): number {
  const list = devices();
  if (list.length === 0) throw new WarpforgeError('ERR_NO_DEVICE', `no GPU available: ${probe?.reason ?? 'unknown reason'}`);
  const index = device ?? 0;
  expectInt(index, what, 0);
  expect(index < list.length, 'ERR_DEVICE', what, `a device index below ${list.length}`, index);
  const d = list[index];
  if (!d.supported) {
    throw new WarpforgeError('ERR_UNSUPPORTED_ARCH',
      `expected a GPU this build supports (${native().buildInfo().cudaArchs}) for ${what} but received ${d.name} (sm_${d.major}${d.minor})`);
  }
  return index;
}

const defaultStreams = new Map<number, NativeStream>();

/** The stream ops use when none is given: one non-blocking stream per device. */
export function defaultNativeStream(device: number): NativeStream {
  let s = defaultStreams.get(device);
  if (!s) {
    s = native().createStream(device);
    defaultStreams.set(device, s);
  }
  return s;
}

export interface MemoryStats {
  /** Bytes held by live tensors (and queued frees not yet reached). */
  inUse: number;
  /** Bytes the pool holds from the driver, in use or cached. */
  reserved: number;
  peakInUse: number;
  peakReserved: number;
  /** Page-locked host memory cached for device-to-host copies. */
  pinnedCached: number;
}

export function memoryStats(device?: number): MemoryStats {
  return native().memoryStats(resolveDevice(device));
}

/** Returns cached, unused pool memory to the driver (synchronizes the device). */
export function emptyCache(device?: number): void {
  native().emptyCache(resolveDevice(device));
}

export { bindingPath };
