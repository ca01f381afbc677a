#include "errors.h"

#include "addon.h"

namespace wf::node {

namespace {

// Errors after which the CUDA context is corrupt: every later call on that
// device fails the same way until the process exits.
bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

const char* code_for_cuda(cudaError_t e) {
  switch (e) {
    case cudaErrorMemoryAllocation: return "ERR_OUT_OF_MEMORY";
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver: return "ERR_NO_DEVICE";
    case cudaErrorNoKernelImageForDevice:
    case cudaErrorUnsupportedPtxVersion: return "ERR_UNSUPPORTED_ARCH";
    case cudaErrorInvalidDevice: return "ERR_DEVICE";
    default: return "ERR_CUDA";
  }
}

const char* code_for_status(Code c) {
  switch (c) {
    case Code::Ok: return "ERR_INTERNAL";
    case Code::InvalidArgument: return "ERR_INVALID_ARGUMENT";
    case Code::UnsupportedShape: return "ERR_SHAPE";
    case Code::UnsupportedDtype: return "ERR_DTYPE";
    case Code::UnsupportedArch: return "ERR_UNSUPPORTED_ARCH";
    case Code::LibraryMissing: return "ERR_LIBRARY_MISSING";
    case Code::LibraryError: return "ERR_LIBRARY";
    case Code::CudaError: return "ERR_CUDA";
  }
  return "ERR_INTERNAL";
}

Napi::Value set_error_class(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "setErrorClass expects a constructor");
  state(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  Addon& a = state(env);
  if (!a.error_class.IsEmpty()) {
    Napi::Object e = a.error_class.New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, e);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

void throw_error(Napi::Env env, const char* code, const std::string& message) {
  throw make_error(env, code, message);
}

Napi::Error cuda_error(Napi::Env env, cudaError_t e, const std::string& where, int device) {
  cudaGetLastError();  // non-sticky errors must not leak into the next call's check
  std::string msg = where + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  if (device >= 0 && is_sticky(e)) {
    state(env).broken_devices[device] = cudaGetErrorName(e);
    msg += "; device " + std::to_string(device) + " is now unusable in this process (restart it)";
  }
  Napi::Error err = make_error(env, code_for_cuda(e), msg);
  err.Set("cudaError", Napi::String::New(env, cudaGetErrorName(e)));
  return err;
}

void check_status(Napi::Env env, const Status& s, const char* op, int device) {
  if (s.ok()) return;
  if (s.code == Code::CudaError) throw cuda_error(env, s.cuda, std::string(op) + " (" + s.detail + ")", device);
  std::string msg = std::string(op) + ": " + s.detail;
  if (s.code == Code::LibraryError) msg += " (library status " + std::to_string(s.library) + ")";
  if (s.code == Code::LibraryMissing) msg += ": " + state(env).cublaslt.load_error();
  throw_error(env, code_for_status(s.code), msg);
}

void use_device(Napi::Env env, int device) {
  Addon& a = state(env);
  auto it = a.broken_devices.find(device);
  if (it != a.broken_devices.end())
    throw_error(env, "ERR_CUDA", "device " + std::to_string(device) + " hit " + it->second +
                                     " earlier and is unusable in this process (restart it)");
  check_cuda(env, cudaSetDevice(device), "cudaSetDevice", -1);
}

LaunchTarget launch_target(Napi::Env env, int device) {
  int sms = 0, major = 0, minor = 0;
  check_cuda(env, cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device), "cudaDeviceGetAttribute", device);
  check_cuda(env, cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), "cudaDeviceGetAttribute", device);
  check_cuda(env, cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device), "cudaDeviceGetAttribute", device);
  return {sms, major * 10 + minor};
}

void register_errors(Napi::Env env, Napi::Object exports) {
  exports.Set("setErrorClass", Napi::Function::New(env, set_error_class, "setErrorClass"));
}

}  // namespace wf::node
