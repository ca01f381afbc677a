export { attention, attentionVarlen, type AttentionOptions, type AttentionVarlenOptions } from './attention.js';
export { decodeAttention, type DecodeAttentionOptions, MAX_DECODE_QUERIES } from './decode.js';
export type { AttentionResult, MaskOptions } from './common.js';
