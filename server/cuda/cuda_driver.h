// The real CUDA driver, loaded at run time: dlopen("libcuda.so.1") from the
// system's library path, then each entry point resolved by name and the CUDA
// version whose signature we compiled against, with cuGetProcAddress_v2 (the
// model is NCCL's cudawrap). Nothing links against libcuda, so the server
// builds and runs without a GPU and only the cuda backend needs one.
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <string>

#include "common/status.h"

namespace rrto::server::cuda {

// Entry points and the CUDA version whose ABI each pointer has.
#define RRTO_CUDA_DRIVER_FUNCTIONS(X)    \
  X(cuGetErrorName, 6000)                \
  X(cuInit, 2000)                        \
  X(cuDriverGetVersion, 2020)            \
  X(cuDeviceGetCount, 2000)              \
  X(cuDeviceGet, 2000)                   \
  X(cuDeviceGetName, 2000)               \
  X(cuDeviceGetUuid, 11040)              \
  X(cuDeviceTotalMem, 3020)              \
  X(cuDeviceGetAttribute, 2000)          \
  X(cuDevicePrimaryCtxRetain, 7000)      \
  X(cuDevicePrimaryCtxRelease, 11000)    \
  X(cuCtxSetCurrent, 4000)               \
  X(cuCtxSynchronize, 2000)              \
  X(cuMemAlloc, 3020)                    \
  X(cuMemFree, 3020)                     \
  X(cuMemGetInfo, 3020)                  \
  X(cuMemAddressReserve, 10020)          \
  X(cuMemAddressFree, 10020)             \
  X(cuMemCreate, 10020)                  \
  X(cuMemRelease, 10020)                 \
  X(cuMemMap, 10020)                     \
  X(cuMemUnmap, 10020)                   \
  X(cuMemSetAccess, 10020)               \
  X(cuMemGetAllocationGranularity, 10020) \
  X(cuMemAllocHost, 3020)                \
  X(cuMemFreeHost, 2000)                 \
  X(cuMemcpyHtoDAsync, 3020)             \
  X(cuMemcpyDtoHAsync, 3020)             \
  X(cuMemcpyDtoDAsync, 3020)             \
  X(cuMemsetD8Async, 3020)               \
  X(cuMemsetD16Async, 3020)              \
  X(cuMemsetD32Async, 3020)              \
  X(cuMemcpy2DAsync, 3020)               \
  X(cuMemsetD2D8Async, 3020)             \
  X(cuMemsetD2D16Async, 3020)            \
  X(cuMemsetD2D32Async, 3020)            \
  X(cuModuleLoadDataEx, 2010)            \
  X(cuModuleUnload, 2000)                \
  X(cuModuleGetFunction, 2000)           \
  X(cuModuleGetGlobal, 3020)             \
  X(cuFuncGetAttribute, 2020)            \
  X(cuFuncSetAttribute, 9000)            \
  X(cuFuncSetCacheConfig, 3000)          \
  X(cuLaunchKernel, 4000)                \
  X(cuStreamCreateWithPriority, 5050)    \
  X(cuStreamDestroy, 4000)               \
  X(cuStreamSynchronize, 2000)           \
  X(cuStreamQuery, 2000)                 \
  X(cuStreamWaitEvent, 3020)             \
  X(cuEventCreate, 2000)                 \
  X(cuEventDestroy, 4000)                \
  X(cuEventRecord, 2000)                 \
  X(cuEventSynchronize, 2000)            \
  X(cuEventQuery, 2000)                  \
  X(cuEventElapsedTime, 2000)

// Optional: older drivers lack them, and the backend copes.
#define RRTO_CUDA_DRIVER_OPTIONAL_FUNCTIONS(X)                                                         \
  X(cuFuncGetParamInfo, 12040) X(cuLaunchKernelEx, 11060) X(cuTensorMapEncodeTiled, 12000) \
  X(cuTensorMapEncodeIm2col, 12000)

struct CudaDriver {
#define RRTO_DECLARE_PFN(name, version) PFN_##name##_v##version name = nullptr;
  RRTO_CUDA_DRIVER_FUNCTIONS(RRTO_DECLARE_PFN)
  RRTO_CUDA_DRIVER_OPTIONAL_FUNCTIONS(RRTO_DECLARE_PFN)
#undef RRTO_DECLARE_PFN

  int driver_version = 0;
  std::string library_path;  // where libcuda.so.1 was found

  // Loads and initialises the driver (cuInit). Refuses RRTO's own client
  // library (a libcuda.so.1 on LD_LIBRARY_PATH) and a system without a GPU;
  // `error` then says why, in a sentence for the operator.
  static Status load(CudaDriver& out, std::string& error);

  // "CUDA_ERROR_OUT_OF_MEMORY" or the number when the driver does not know it.
  std::string error_name(CUresult result) const;
};

}  // namespace rrto::server::cuda
