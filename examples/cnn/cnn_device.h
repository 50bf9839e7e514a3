// The device side of the example CNN programs, through the CUDA driver API:
// context, module (the embedded fatbin), functions, one stream, buffers.
#pragma once

#include <cuda.h>

#include <string>
#include <vector>

#include "cnn_model.h"
#include "examples/common/example_util.h"

extern "C" const unsigned char rrto_cnn_fatbin[];

namespace cnn {

using examples::check_cu;

// The device side: context, module, functions, stream and buffers.
class Device {
 public:
  ~Device() {
    for (CUdeviceptr p : allocations_) cuMemFree(p);
    if (stream_ != nullptr) cuStreamDestroy(stream_);
    if (module_ != nullptr) cuModuleUnload(module_);
    if (context_ != nullptr) cuDevicePrimaryCtxRelease(device_);
  }

  bool init() {
    if (!check_cu(cuInit(0), "cuInit(0)")) return false;
    if (!check_cu(cuDeviceGet(&device_, 0), "cuDeviceGet(&device, 0)")) return false;
    if (!check_cu(cuDevicePrimaryCtxRetain(&context_, device_), "cuDevicePrimaryCtxRetain")) return false;
    if (!check_cu(cuCtxSetCurrent(context_), "cuCtxSetCurrent")) return false;
    if (!check_cu(cuModuleLoadData(&module_, rrto_cnn_fatbin), "cuModuleLoadData(cnn fatbin)")) return false;
    for (int k = 0; k < kKernelCount; ++k) {
      const std::string call = std::string("cuModuleGetFunction(") + kKernelNames[k].mangled + ")";
      if (!check_cu(cuModuleGetFunction(&functions_[k], module_, kKernelNames[k].mangled), call.c_str()))
        return false;
    }
    return check_cu(cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  }

  bool alloc(CUdeviceptr& p, size_t floats) {
    if (!check_cu(cuMemAlloc(&p, floats * sizeof(float)), "cuMemAlloc")) return false;
    allocations_.push_back(p);
    return true;
  }

  bool free(CUdeviceptr p) {
    std::erase(allocations_, p);
    return check_cu(cuMemFree(p), "cuMemFree");
  }

  bool upload(CUdeviceptr& p, const std::vector<float>& v) {
    return alloc(p, v.size()) && check_cu(cuMemcpyHtoD(p, v.data(), v.size() * sizeof(float)), "cuMemcpyHtoD");
  }

  CUresult launch_status() const { return last_; }
  CUstream stream() const { return stream_; }

  // A kernel launch with kernelParams; the args are the kernel's parameters.
  template <class... Args>
  CUresult launch(KernelId id, unsigned grid, unsigned block, Args... args) {
    void* params[] = {static_cast<void*>(&args)...};
    last_ = cuLaunchKernel(functions_[static_cast<int>(id)], grid, 1, 1, block, 1, 1, 0, stream_, params, nullptr);
    if (last_ != CUDA_SUCCESS)
      check_cu(last_, (std::string("cuLaunchKernel(") + kKernelNames[static_cast<int>(id)].source + ")").c_str());
    return last_;
  }

 private:
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUmodule module_ = nullptr;
  CUstream stream_ = nullptr;
  CUfunction functions_[kKernelCount] = {};
  std::vector<CUdeviceptr> allocations_;
  CUresult last_ = CUDA_SUCCESS;
};

inline bool upload_weights(Device& dev, const Weights& w, Buffers<CUdeviceptr>& b) {
  return dev.upload(b.conv1_w, w.conv1_w) && dev.upload(b.conv1_b, w.conv1_b) && dev.upload(b.conv2_w, w.conv2_w) &&
         dev.upload(b.conv2_b, w.conv2_b) && dev.upload(b.conv3_w, w.conv3_w) && dev.upload(b.conv3_b, w.conv3_b) &&
         dev.upload(b.fc1_w, w.fc1_w) && dev.upload(b.fc1_b, w.fc1_b) && dev.upload(b.fc2_w, w.fc2_w) &&
         dev.upload(b.fc2_b, w.fc2_b);
}

inline bool alloc_activations(Device& dev, const Sizes& s, Buffers<CUdeviceptr>& b) {
  return dev.alloc(b.input, s.input) && dev.alloc(b.x0, s.x0) && dev.alloc(b.c1, s.c1) && dev.alloc(b.c2, s.c2) &&
         dev.alloc(b.p2, s.p2) && dev.alloc(b.c3, s.c3) && dev.alloc(b.p3, s.p3) && dev.alloc(b.d1, s.d1) &&
         dev.alloc(b.d2, s.d2) && dev.alloc(b.output, s.output);
}

inline bool free_activations(Device& dev, const Buffers<CUdeviceptr>& b) {
  return dev.free(b.input) && dev.free(b.x0) && dev.free(b.c1) && dev.free(b.c2) && dev.free(b.p2) &&
         dev.free(b.c3) && dev.free(b.p3) && dev.free(b.d1) && dev.free(b.d2) && dev.free(b.output);
}

}  // namespace cnn
