/**
 * Every failure warpforge reports is a WarpforgeError with a stable `code`.
 * Native code constructs this same class (lib/binding.ts hands it over at
 * load time), so errors from promises and from synchronous calls match.
 */
export type ErrorCode =
  | 'ERR_NO_DEVICE'
  | 'ERR_SHAPE'
  | 'ERR_DTYPE'
  | 'ERR_DEVICE'
  | 'ERR_DISPOSED'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_UNSUPPORTED_ARCH'
  | 'ERR_CUDA'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_BINDING'
  | 'ERR_LIBRARY_MISSING'
  | 'ERR_LIBRARY'
  | 'ERR_NOT_READY'
  | 'ERR_INTERNAL';

export class WarpforgeError extends Error {
  readonly code: ErrorCode;
  /** The CUDA error name (`cudaErrorIllegalAddress`…) when code is a CUDA failure. */
  cudaError?: string;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WarpforgeError';
    this.code = code;
  }
}
