export { WarpforgeError, type ErrorCode } from './errors.js';
export { DTYPES, DTYPE_NAMES, type DType } from './dtype.js';
export { devices, isAvailable, unavailableReason, memoryStats, emptyCache, type DeviceInfo, type MemoryStats } from './device.js';
export { Stream, Event } from './stream.js';
export { Tensor, tensor, empty, zeros, rand, randn, type TensorOptions, type RandOptions, type PlacementOptions } from './tensor.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { doctor, type DoctorReport } from './doctor.js';
export { quantizeW4, fromGptq, fromAwq, gemmW4A16, QuantizedWeight, type QuantizeW4Options, type GptqTensors, type AwqTensors, type GemmW4A16Options } from './w4a16/index.js';
export { attention, attentionVarlen, decodeAttention, MAX_DECODE_QUERIES, type AttentionOptions, type AttentionVarlenOptions, type DecodeAttentionOptions, type AttentionResult, type MaskOptions } from './attention/index.js';
