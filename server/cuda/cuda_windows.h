// Sessions' address windows on a GPU (server/address_window.h), with CUDA's
// virtual memory management: each session's window is reserved at its fixed
// address (cuMemAddressReserve), and each allocation is physical memory of
// the GPU (cuMemCreate) mapped where the window's placement puts it
// (cuMemMap), or where a re-created session asks. Allocations are whole
// multiples of the GPU's allocation granularity (2 MiB on current GPUs).
//
// Windows are opened and closed from the transport thread (admission) and
// used from the device's executor: one mutex, held only around bookkeeping
// and the driver's mapping calls, which are not on an inference's path.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/range_allocator.h"
#include "server/cuda/cuda_driver.h"

namespace rrto::server::cuda {

class CudaWindows {
 public:
  CudaWindows(const CudaDriver& driver, CUdevice device, int ordinal) : driver_(driver), device_(device), ordinal_(ordinal) {}
  ~CudaWindows();
  CudaWindows(const CudaWindows&) = delete;
  CudaWindows& operator=(const CudaWindows&) = delete;

  // Reserves window `window`; fails, saying why, when the driver cannot
  // give that very range.
  CUresult open(uint64_t window, std::string& why);
  bool is_open(uint64_t window) {
    std::lock_guard lock(mutex_);
    return windows_.contains(window);
  }
  // Maps `size` bytes of the GPU's memory in `window`, at `at` unless 0.
  CUresult allocate(uint64_t window, uint64_t size, uint64_t at, uint64_t& dptr);
  // CUDA_ERROR_NOT_FOUND when `dptr` is not a mapping of a window.
  CUresult free(uint64_t dptr);
  // Unmaps what is left in `window` and gives its range back.
  void close(uint64_t window);

 private:
  struct Window {
    uint64_t base;
    RangeAllocator placement;
  };
  struct Mapping {
    CUmemGenericAllocationHandle handle;
    uint64_t bytes;
    uint64_t window;
  };
  CUresult granularity(size_t& out);
  void unmap(uint64_t dptr, const Mapping& m);

  const CudaDriver& driver_;
  const CUdevice device_;
  const int ordinal_;
  std::mutex mutex_;
  size_t granularity_ = 0;
  std::unordered_map<uint64_t, Window> windows_;
  std::unordered_map<uint64_t, Mapping> mappings_;  // by address
};

}  // namespace rrto::server::cuda
