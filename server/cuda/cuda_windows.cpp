#include "server/cuda/cuda_windows.h"

#include <vector>

#include <fmt/format.h>

#include "server/address_window.h"

namespace rrto::server::cuda {
namespace {

CUmemAllocationProp device_memory(CUdevice device) {
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  return prop;
}


}  // namespace

CudaWindows::~CudaWindows() {
  std::vector<uint64_t> open;
  for (const auto& [window, w] : windows_) open.push_back(window);
  for (uint64_t window : open) close(window);
}

CUresult CudaWindows::granularity(size_t& out) {
  if (granularity_ == 0) {
    const CUmemAllocationProp prop = device_memory(device_);
    if (CUresult r = driver_.cuMemGetAllocationGranularity(&granularity_, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM))
      return r;
  }
  out = granularity_;
  return CUDA_SUCCESS;
}

CUresult CudaWindows::open(uint64_t window, std::string& why) {
  if (!is_window(window)) {
    why = fmt::format("no address window {}", window);
    return CUDA_ERROR_INVALID_VALUE;
  }
  const uint64_t base = window_base(window);
  CUdeviceptr got = 0;
  if (CUresult r = driver_.cuMemAddressReserve(&got, kWindowBytes, 0, base, 0)) {
    why = fmt::format("GPU {}: cuMemAddressReserve of address window {} failed ({})", ordinal_, window,
                      driver_.error_name(r));
    return r;
  }
  if (got != base) {
    driver_.cuMemAddressFree(got, kWindowBytes);
    why = fmt::format("GPU {}: address window {} [{:#x}, +{} GiB) is taken: the driver offered {:#x}", ordinal_,
                      window, base, kWindowBytes >> 30, static_cast<uint64_t>(got));
    return CUDA_ERROR_OUT_OF_MEMORY;
  }
  std::lock_guard lock(mutex_);
  RangeAllocator placement(base, kWindowBytes);
  placement.keep_out(proto::reservable_begin(window), proto::reservable_end(window));
  windows_.emplace(window, Window{base, std::move(placement)});
  return CUDA_SUCCESS;
}

CUresult CudaWindows::allocate(uint64_t window, uint64_t size, uint64_t at, uint64_t& dptr) {
  std::lock_guard lock(mutex_);
  auto w = windows_.find(window);
  size_t unit = 0;
  if (w == windows_.end()) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = granularity(unit)) return r;
  const uint64_t bytes = round_up(size, unit);
  if (!w->second.placement.allocate(bytes, unit, at, dptr)) return at ? CUDA_ERROR_INVALID_VALUE : CUDA_ERROR_OUT_OF_MEMORY;
  const CUmemAllocationProp prop = device_memory(device_);
  CUmemGenericAllocationHandle handle = 0;
  CUresult r = driver_.cuMemCreate(&handle, bytes, &prop, 0);
  if (r == CUDA_SUCCESS) {
    r = driver_.cuMemMap(dptr, bytes, 0, handle, 0);
    if (r != CUDA_SUCCESS) driver_.cuMemRelease(handle);
  }
  if (r == CUDA_SUCCESS) {
    CUmemAccessDesc access{};
    access.location = prop.location;
    access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
    r = driver_.cuMemSetAccess(dptr, bytes, &access, 1);
    if (r != CUDA_SUCCESS) {
      driver_.cuMemUnmap(dptr, bytes);
      driver_.cuMemRelease(handle);
    }
  }
  if (r != CUDA_SUCCESS) {
    w->second.placement.release(dptr);
    return r;
  }
  mappings_.emplace(dptr, Mapping{handle, bytes, window});
  return CUDA_SUCCESS;
}

void CudaWindows::unmap(uint64_t dptr, const Mapping& m) {
  driver_.cuMemUnmap(dptr, m.bytes);
  driver_.cuMemRelease(m.handle);
  if (auto w = windows_.find(m.window); w != windows_.end()) w->second.placement.release(dptr);
}

CUresult CudaWindows::free(uint64_t dptr) {
  std::lock_guard lock(mutex_);
  const auto m = mappings_.find(dptr);
  if (m == mappings_.end()) return CUDA_ERROR_NOT_FOUND;
  unmap(dptr, m->second);
  mappings_.erase(m);
  return CUDA_SUCCESS;
}

void CudaWindows::close(uint64_t window) {
  std::lock_guard lock(mutex_);
  for (auto m = mappings_.begin(); m != mappings_.end();) {
    if (m->second.window != window) {
      ++m;
      continue;
    }
    unmap(m->first, m->second);
    m = mappings_.erase(m);
  }
  if (auto w = windows_.find(window); w != windows_.end()) {
    driver_.cuMemAddressFree(w->second.base, kWindowBytes);
    windows_.erase(w);
  }
}

}  // namespace rrto::server::cuda
