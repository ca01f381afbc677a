/**
 * The shape of warpforge.node's exports. Only lib/ calls these, after
 * validating arguments; native code re-checks what could corrupt memory.
 */
export interface NativeBuffer {
  free(): void;
}
export interface NativeStream {
  synchronize(): Promise<void>;
  waitEvent(e: NativeEvent): void;
  query(): boolean;
  destroy(): void;
}
export interface NativeEvent {
  record(s: NativeStream): void;
  synchronize(): Promise<void>;
  query(): boolean;
  elapsed(start: NativeEvent): number;
  destroy(): void;
}
export interface NativeDeviceInfo {
  index: number;
  name: string;
  major: number;
  minor: number;
  multiProcessorCount: number;
  totalMemory: number;
  l2CacheBytes: number;
  sharedMemoryPerBlockOptin: number;
  pciBusId: string;
  brokenBy?: string;
}
export interface NativeBinding {
  napiVersion: number;
  dtypeIds: Record<string, number>;
  setErrorClass(ctor: unknown): void;
  probeDevices(): { devices: NativeDeviceInfo[]; driverVersion: number; runtimeVersion: number; error?: string };
  brokenDevices(): Record<string, string>;
  memInfo(device: number): { free: number; total: number };
  buildInfo(): { cudaArchs: string; cudartVersion: number; napiVersion: number };
  alloc(bytes: number, stream: NativeStream): NativeBuffer;
  memoryStats(device: number): { inUse: number; reserved: number; peakInUse: number; peakReserved: number; pinnedCached: number };
  emptyCache(device: number): void;
  upload(dst: NativeBuffer, src: ArrayBufferView, stream: NativeStream): void;
  download(src: NativeBuffer, stream: NativeStream): Promise<ArrayBuffer>;
  fillBytes(dst: NativeBuffer, byte: number, stream: NativeStream): void;
  copy(dst: NativeBuffer, src: NativeBuffer, stream: NativeStream): void;
  createStream(device: number, priority?: number): NativeStream;
  createEvent(device: number, timing?: boolean): NativeEvent;
  spin(stream: NativeStream, microseconds: number): void;
  rand(dst: NativeBuffer, dtype: number, numel: number, seed: number, dist: number, a: number, b: number, stream: NativeStream): void;
  matmul(a: NativeBuffer, b: NativeBuffer, c: NativeBuffer, m: number, n: number, k: number, transB: boolean, dtype: number, stream: NativeStream,
    bias?: NativeBuffer | null, batch?: number, alpha?: number): void;
  cublasLtInfo(): { loaded: boolean; path?: string; version?: number; error?: string };
  w4a16: {
    layoutVersion: number;
    quantize(w: NativeBuffer, wDtype: number, kMajor: boolean, n: number, k: number, nPad: number, kPad: number, groupSize: number,
      symmetric: boolean, dtype: number, q: NativeBuffer, scales: NativeBuffer, zeros: NativeBuffer | null, stream: NativeStream): void;
    pack(q: NativeBuffer, scales: NativeBuffer, zeros: NativeBuffer | null, nPad: number, kPad: number, groupSize: number, dtype: number,
      w: NativeBuffer, scalesPacked: NativeBuffer, zerosPacked: NativeBuffer | null, stream: NativeStream): void;
    dequantize(w: NativeBuffer, scales: NativeBuffer, zeros: NativeBuffer | null, perm: NativeBuffer | null, n: number, k: number,
      nPad: number, kPad: number, groupSize: number, dtype: number, out: NativeBuffer, stream: NativeStream): void;
    gemm(x: NativeBuffer, w: NativeBuffer, scales: NativeBuffer, zeros: NativeBuffer | null, bias: NativeBuffer | null, out: NativeBuffer,
      m: number, n: number, k: number, nPad: number, kPad: number, groupSize: number, dtype: number, scratch: NativeBuffer, stream: NativeStream): void;
    gather(x: NativeBuffer, perm: NativeBuffer, out: NativeBuffer, m: number, k: number, dtype: number, stream: NativeStream): void;
  };
  attention: {
    /** Returns the number of K/V splits it ran. */
    forward(o: {
      q: NativeBuffer; k: NativeBuffer; v: NativeBuffer; out: NativeBuffer; lse: NativeBuffer | null;
      qStrides: number[]; kStrides: number[]; vStrides: number[]; oStrides: number[];
      batch: number; heads: number; kvHeads: number; d: number; seqlenQ: number; seqlenK: number;
      cuSeqlensQ: NativeBuffer | null; cuSeqlensK: NativeBuffer | null; totalQ: number; totalK: number;
      sequsedK: NativeBuffer | null; sequsedKAdd: number;
      blockTable: NativeBuffer | null; blockTableStride: number; pageSize: number; numPages: number;
      scale: number; softcap: number; windowLeft: number; windowRight: number; portable: boolean;
      dtype: number; decode: boolean; splits: number; stream: NativeStream;
    }): number;
    appendKv(o: {
      kNew: NativeBuffer; vNew: NativeBuffer; knStrides: number[]; vnStrides: number[];
      kCache: NativeBuffer; vCache: NativeBuffer; kStrides: number[]; vStrides: number[];
      seqused: NativeBuffer; blockTable: NativeBuffer | null; blockTableStride: number; pageSize: number; numPages: number;
      batch: number; sNew: number; kvHeads: number; d: number; capacity: number; dtype: number; stream: NativeStream;
    }): void;
    softmaxRows(x: NativeBuffer, rows: number, sq: number, sk: number, causal: boolean, dtype: number, stream: NativeStream): void;
  };
}
