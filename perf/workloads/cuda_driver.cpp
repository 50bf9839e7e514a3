// The Driver through the CUDA driver API.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "perf/workloads/driver.h"

namespace rrto::perf {
namespace {

class CudaDriver final : public Driver {
 public:
  ~CudaDriver() override {
    for (CUdeviceptr p : allocations_) cuMemFree(p);
    for (CUevent e : events_) cuEventDestroy(e);
    for (CUstream s : streams_) cuStreamDestroy(s);
    for (CUmodule m : modules_) cuModuleUnload(m);
    if (context_) cuDevicePrimaryCtxRelease(device_);
  }

  bool init() override {
    if (!check(cuInit(0), "cuInit(0)")) {
      init_refused_ = true;
      return false;
    }
    return check(cuDeviceGet(&device_, 0), "cuDeviceGet") &&
           check(cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain") &&
           check(cuCtxSetCurrent(context_), "cuCtxSetCurrent");
  }

  bool load_module(const void* image, CUmodule& out) override {
    if (!check(cuModuleLoadData(&out, image), "cuModuleLoadData")) return false;
    modules_.push_back(out);
    return true;
  }

  bool function(CUmodule module, const char* name, CUfunction& out) override {
    return check(cuModuleGetFunction(&out, module, name), fmt::format("cuModuleGetFunction({})", name));
  }

  bool create_stream(CUstream& out) override {
    if (!check(cuStreamCreate(&out, CU_STREAM_NON_BLOCKING), "cuStreamCreate")) return false;
    streams_.push_back(out);
    return true;
  }

  bool create_event(CUevent& out) override {
    if (!check(cuEventCreate(&out, CU_EVENT_DEFAULT), "cuEventCreate")) return false;
    events_.push_back(out);
    return true;
  }

  bool alloc(CUdeviceptr& out, size_t bytes) override {
    if (!check(cuMemAlloc(&out, bytes), fmt::format("cuMemAlloc({})", bytes))) return false;
    allocations_.push_back(out);
    return true;
  }

  bool copy_to_device(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream, bool async) override {
    return async ? check(cuMemcpyHtoDAsync(dst, src, bytes, stream), "cuMemcpyHtoDAsync")
                 : check(cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
  }

  bool copy_to_host(void* dst, CUdeviceptr src, size_t bytes, CUstream stream, bool async) override {
    return async ? check(cuMemcpyDtoHAsync(dst, src, bytes, stream), "cuMemcpyDtoHAsync")
                 : check(cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
  }

  bool memset8(CUdeviceptr dst, uint8_t value, size_t bytes) override {
    return check(cuMemsetD8(dst, value, bytes), "cuMemsetD8");
  }

  bool launch(CUfunction f, unsigned grid, unsigned block, unsigned shared_mem, CUstream stream, void** params,
              const std::string& what) override {
    return check(cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared_mem, stream, params, nullptr),
                 fmt::format("cuLaunchKernel({})", what));
  }

  bool synchronize(CUstream stream) override { return check(cuStreamSynchronize(stream), "cuStreamSynchronize"); }

  bool record_event(CUevent event, CUstream stream) override {
    return check(cuEventRecord(event, stream), "cuEventRecord");
  }

  bool elapsed_ns(CUevent start, CUevent stop, uint64_t& ns) override {
    float ms = 0;
    if (!check(cuEventSynchronize(stop), "cuEventSynchronize") ||
        !check(cuEventElapsedTime(&ms, start, stop), "cuEventElapsedTime"))
      return false;
    ns = static_cast<uint64_t>(std::max(0.0f, ms) * 1e6);
    return true;
  }

 private:
  bool check(CUresult r, const std::string& what) {
    if (r == CUDA_SUCCESS) return true;
    const char* name = nullptr;
    const char* text = nullptr;
    if (cuGetErrorName(r, &name) != CUDA_SUCCESS || !name) name = "unknown CUresult";
    if (cuGetErrorString(r, &text) != CUDA_SUCCESS || !text) text = "no description";
    return fail(fmt::format("{} failed: {} ({}: {})", what, name, static_cast<int>(r), text));
  }

  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  std::vector<CUmodule> modules_;
  std::vector<CUstream> streams_;
  std::vector<CUevent> events_;
  std::vector<CUdeviceptr> allocations_;
};

}  // namespace

std::unique_ptr<Driver> make_cuda_driver() { return std::make_unique<CudaDriver>(); }

}  // namespace rrto::perf
