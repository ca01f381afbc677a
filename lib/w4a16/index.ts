export { quantizeW4, type QuantizeW4Options } from './quantize.js';
export { fromGptq, fromAwq, type GptqTensors, type AwqTensors } from './import.js';
export { gemmW4A16, type GemmW4A16Options } from './gemm.js';
export { QuantizedWeight } from './qweight.js';
