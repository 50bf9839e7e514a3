#include "perf/workloads/driver.h"

#include <fmt/format.h>

namespace rrto::perf {

Driver::~Driver() {
  for (CUdeviceptr p : allocations_) cuMemFree(p);
  for (CUevent e : events_) cuEventDestroy(e);
  for (CUstream s : streams_) cuStreamDestroy(s);
  for (CUmodule m : modules_) cuModuleUnload(m);
  if (context_) cuDevicePrimaryCtxRelease(device_);
}

bool Driver::check(CUresult r, const std::string& what) {
  if (r == CUDA_SUCCESS) return true;
  const char* name = nullptr;
  const char* text = nullptr;
  if (cuGetErrorName(r, &name) != CUDA_SUCCESS || !name) name = "unknown CUresult";
  if (cuGetErrorString(r, &text) != CUDA_SUCCESS || !text) text = "no description";
  error_ = fmt::format("{} failed: {} ({}: {})", what, name, static_cast<int>(r), text);
  return false;
}

bool Driver::init() {
  if (!check(cuInit(0), "cuInit(0)")) {
    init_refused_ = true;
    return false;
  }
  return check(cuDeviceGet(&device_, 0), "cuDeviceGet") &&
         check(cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain") &&
         check(cuCtxSetCurrent(context_), "cuCtxSetCurrent");
}

bool Driver::load_module(const void* image, CUmodule& out) {
  if (!check(cuModuleLoadData(&out, image), "cuModuleLoadData")) return false;
  modules_.push_back(out);
  return true;
}

bool Driver::function(CUmodule module, const char* name, CUfunction& out) {
  return check(cuModuleGetFunction(&out, module, name), fmt::format("cuModuleGetFunction({})", name));
}

bool Driver::create_stream(CUstream& out) {
  if (!check(cuStreamCreate(&out, CU_STREAM_NON_BLOCKING), "cuStreamCreate")) return false;
  streams_.push_back(out);
  return true;
}

bool Driver::create_event(CUevent& out) {
  if (!check(cuEventCreate(&out, CU_EVENT_DEFAULT), "cuEventCreate")) return false;
  events_.push_back(out);
  return true;
}

bool Driver::alloc(CUdeviceptr& out, size_t bytes) {
  if (!check(cuMemAlloc(&out, bytes), fmt::format("cuMemAlloc({})", bytes))) return false;
  allocations_.push_back(out);
  return true;
}

}  // namespace rrto::perf
