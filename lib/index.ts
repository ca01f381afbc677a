export { WarpforgeError, type ErrorCode } from './errors.js';
export { DTYPES, DTYPE_NAMES, type DType } from './dtype.js';
export { devices, isAvailable, unavailableReason, memoryStats, emptyCache, type DeviceInfo, type MemoryStats } from './device.js';
export { Stream, Event } from './stream.js';
export { Tensor, tensor, empty, zeros, rand, randn, type TensorOptions, type RandOptions, type PlacementOptions } from './tensor.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { doctor, type DoctorReport } from './doctor.js';
