// Device discovery. Never throws: with no driver or no GPU, JS gets an empty
// list and the reason, so `devices()` and `doctor` work on any machine.
#include <string>

#include "addon.h"
#include "handles.h"

#ifndef WARPFORGE_CUDA_ARCHS
#define WARPFORGE_CUDA_ARCHS "unknown"
#endif

namespace wf::node {

namespace {

Napi::Value probe_devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  Napi::Array list = Napi::Array::New(env);
  result.Set("devices", list);
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);  // 0 when no driver is installed
  cudaRuntimeGetVersion(&runtime);
  result.Set("driverVersion", driver);
  result.Set("runtimeVersion", runtime);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    result.Set("error", std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e));
    return result;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) {
      cudaGetLastError();
      continue;
    }
    Napi::Object d = Napi::Object::New(env);
    d.Set("index", i);
    d.Set("name", p.name);
    d.Set("major", p.major);
    d.Set("minor", p.minor);
    d.Set("multiProcessorCount", p.multiProcessorCount);
    d.Set("totalMemory", (double)p.totalGlobalMem);
    d.Set("l2CacheBytes", p.l2CacheSize);
    d.Set("sharedMemoryPerBlockOptin", (double)p.sharedMemPerBlockOptin);
    char bus[32] = {0};
    if (cudaDeviceGetPCIBusId(bus, sizeof bus, i) != cudaSuccess) cudaGetLastError();
    d.Set("pciBusId", bus);
    auto broken = state(env).broken_devices.find(i);
    if (broken != state(env).broken_devices.end()) d.Set("brokenBy", broken->second);
    list.Set((uint32_t)list.Length(), d);
  }
  return result;
}

// memInfo(device): what the driver says is free on the whole GPU.
Napi::Value mem_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = (int)arg_int(env, info[0], "device");
  use_device(env, device);
  size_t free_b = 0, total_b = 0;
  check_cuda(env, cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo", device);
  Napi::Object o = Napi::Object::New(env);
  o.Set("free", (double)free_b);
  o.Set("total", (double)total_b);
  return o;
}

// brokenDevices() -> { index: CUDA error name } for devices that hit a sticky
// error: a cheap read of addon state, no CUDA call.
Napi::Value broken_devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [device, error] : state(env).broken_devices) o.Set(std::to_string(device), error);
  return o;
}

Napi::Value build_info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("cudaArchs", WARPFORGE_CUDA_ARCHS);
  o.Set("cudartVersion", CUDART_VERSION);
  o.Set("napiVersion", NAPI_VERSION);
  return o;
}

}  // namespace

void register_device(Napi::Env env, Napi::Object exports) {
  exports.Set("probeDevices", Napi::Function::New(env, probe_devices, "probeDevices"));
  exports.Set("memInfo", Napi::Function::New(env, mem_info, "memInfo"));
  exports.Set("buildInfo", Napi::Function::New(env, build_info, "buildInfo"));
  exports.Set("brokenDevices", Napi::Function::New(env, broken_devices, "brokenDevices"));
}

}  // namespace wf::node
