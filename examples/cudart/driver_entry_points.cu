// Resolves, as PyTorch does at start-up, the driver entry points it needs,
// through cudart (cudaGetDriverEntryPointByVersion, which asks the driver's
// cuGetProcAddress), then calls one the client does not implement and expects
// CUDA_ERROR_NOT_SUPPORTED. Prints "driver_entry_points: all N entry points
// resolve" and exits 0, or names each that does not resolve and exits 1.
#include <cuda.h>

#include <cstdio>
#include <iterator>

#include "examples/cudart/cudart_util.h"

namespace {

struct EntryPoint {
  const char* name;
  unsigned version;  // the CUDA version PyTorch asks for
};

// PyTorch's list, c10/cuda/driver_api.h: C10_LIBCUDA_DRIVER_API_REQUIRED (it
// stops at start-up if one is missing), then the optional ones it resolves
// when built with a toolkit that has them (C10_LIBCUDA_DRIVER_API_12_3,
// _12_8, _12_9).
constexpr EntryPoint kPytorchEntryPoints[] = {
    {"cuDeviceGet", 12000},
    {"cuDeviceGetAttribute", 12000},
    {"cuMemGetAddressRange", 12000},
    {"cuMemAddressReserve", 12000},
    {"cuMemRelease", 12000},
    {"cuMemMap", 12000},
    {"cuMemAddressFree", 12000},
    {"cuMemSetAccess", 12000},
    {"cuMemUnmap", 12000},
    {"cuMemCreate", 12000},
    {"cuMemGetAllocationGranularity", 12000},
    {"cuMemExportToShareableHandle", 12000},
    {"cuMemImportFromShareableHandle", 12000},
    {"cuMemRetainAllocationHandle", 12000},
    {"cuMemGetAllocationPropertiesFromHandle", 12000},
    {"cuMemsetD32Async", 12000},
    {"cuStreamWriteValue32", 12000},
    {"cuGetErrorString", 12000},
    {"cuMulticastAddDevice", 12030},
    {"cuMulticastBindMem", 12030},
    {"cuMulticastCreate", 12030},
    {"cuMulticastUnbind", 12030},
    {"cuCtxFromGreenCtx", 12080},
    {"cuCtxGetCurrent", 12080},
    {"cuCtxPopCurrent", 12080},
    {"cuCtxPushCurrent", 12080},
    {"cuCtxSetCurrent", 12080},
    {"cuGreenCtxCreate", 12080},
    {"cuGreenCtxDestroy", 12080},
    {"cuGreenCtxStreamCreate", 12080},
    {"cuDevSmResourceSplitByCount", 12080},
    {"cuDeviceGetDevResource", 12080},
    {"cuDevResourceGenerateDesc", 12080},
    {"cuLogsRegisterCallback", 12090},
    {"cuLogsUnregisterCallback", 12090},
};

// The entry point `name` at `version`, or nullptr (each failure reported).
void* resolve(const char* name, unsigned version) {
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult status = cudaDriverEntryPointSymbolNotFound;
  const cudaError_t e = cudaGetDriverEntryPointByVersion(name, &fn, version, cudaEnableDefault, &status);
  if (e != cudaSuccess || status != cudaDriverEntryPointSuccess || fn == nullptr) {
    std::fprintf(stderr, "%s: %s@%u does not resolve: %s, query result %d\n", examples::program, name, version,
                 cudaGetErrorName(e), static_cast<int>(status));
    return nullptr;
  }
  return fn;
}

// A call of an entry point the client exports without implementing it.
bool unsupported_call_fails() {
  const auto export_handle = reinterpret_cast<decltype(&cuMemExportToShareableHandle)>(
      resolve("cuMemExportToShareableHandle", 12000));
  if (!export_handle) return false;
  int fd = -1;
  const CUresult r = export_handle(&fd, 0, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0);
  if (r == CUDA_ERROR_NOT_SUPPORTED) return true;
  std::fprintf(stderr, "%s: cuMemExportToShareableHandle returned %d, expected CUDA_ERROR_NOT_SUPPORTED (%d)\n",
               examples::program, static_cast<int>(r), static_cast<int>(CUDA_ERROR_NOT_SUPPORTED));
  return false;
}

}  // namespace

int main() {
  examples::program = "driver_entry_points";
  if (!examples::check_rt(cudaFree(nullptr), "cudaFree(nullptr)")) return 1;
  int missing = 0;
  for (const EntryPoint& ep : kPytorchEntryPoints) missing += resolve(ep.name, ep.version) == nullptr;
  if (missing) {
    std::fprintf(stderr, "%s: %d of %zu entry points do not resolve\n", examples::program, missing,
                 std::size(kPytorchEntryPoints));
    return 1;
  }
  if (!unsupported_call_fails()) return 1;
  std::printf("%s: all %zu entry points resolve\n", examples::program, std::size(kPytorchEntryPoints));
  return 0;
}
