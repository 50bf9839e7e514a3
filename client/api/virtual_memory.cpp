// Virtual memory management, as PyTorch's expandable segments use it: address
// ranges reserved here, in the reservable part of the session's address
// window; physical chunks that are bookkeeping until mapped; a mapping is an
// ordinary allocation at the mapped address (MemAlloc `at`), so its pointers
// work wherever allocated ones do and failover re-creates it where it was.
// A chunk's memory lives while it is mapped: unmapping frees it, and mapping
// it again gives fresh (zeroed) memory. One chunk maps once, whole, at offset
// 0; aliases (one chunk at two addresses) are not offered.
#include "client/api/api.h"
#include "protocol/address_window_layout.h"

using namespace rrto::client;
namespace proto = rrto::proto;

namespace {

// Pinned memory of the device, exported nowhere: the one kind there is.
CUresult check_properties(const CUmemAllocationProp* prop) {
  if (!prop) return CUDA_ERROR_INVALID_VALUE;
  if (prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return CUDA_ERROR_NOT_SUPPORTED;
  if (prop->location.id != 0) return CUDA_ERROR_INVALID_DEVICE;
  if (prop->requestedHandleTypes != CU_MEM_HANDLE_TYPE_NONE) return CUDA_ERROR_NOT_SUPPORTED;
  return CUDA_SUCCESS;
}

bool is_power_of_two(size_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Where `size` bytes aligned to `alignment` fit among the reservations: at
// `hint` when it is free there, else the first gap; 0 when none is.
CUdeviceptr place_reservation(const VirtualMemory& vmm, size_t size, size_t alignment, CUdeviceptr hint) {
  const CUdeviceptr begin = proto::reservable_begin(vmm.window), end = proto::reservable_end(vmm.window);
  auto fits = [&](CUdeviceptr at) {
    if (at < begin || at % alignment || size > end - at) return false;
    auto next = vmm.reservations.lower_bound(at);
    if (next != vmm.reservations.end() && next->first < at + size) return false;
    return next == vmm.reservations.begin() || std::prev(next)->first + std::prev(next)->second <= at;
  };
  if (hint && hint <= end && fits(hint)) return hint;
  CUdeviceptr candidate = begin;
  for (const auto& [base, length] : vmm.reservations) {
    candidate = (candidate + alignment - 1) / alignment * alignment;
    if (candidate + size <= base) return candidate;
    candidate = std::max(candidate, base + length);
  }
  candidate = (candidate + alignment - 1) / alignment * alignment;
  return candidate <= end && size <= end - candidate ? candidate : 0;
}

// Drops one reference to a chunk; an unmapped chunk nobody holds is gone.
void drop_reference(VirtualMemory& vmm, std::map<CUmemGenericAllocationHandle, PhysicalChunk>::iterator chunk) {
  if (--chunk->second.references == 0 && !chunk->second.mapped_at) vmm.chunks.erase(chunk);
}

}  // namespace

CUresult api::cuMemGetAllocationGranularity(Client& c, size_t* granularity, const CUmemAllocationProp* prop,
                                            CUmemAllocationGranularity_flags option) {
  if (!granularity) return CUDA_ERROR_INVALID_VALUE;
  if (option != CU_MEM_ALLOC_GRANULARITY_MINIMUM && option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)
    return CUDA_ERROR_INVALID_VALUE;
  if (const CUresult r = check_properties(prop)) return r;
  *granularity = kVmmGranularity;
  return CUDA_SUCCESS;
}

CUresult api::cuMemAddressReserve(Client& c, CUdeviceptr* ptr, size_t size, size_t alignment, CUdeviceptr addr,
                                  unsigned long long flags) {
  if (!ptr || size == 0 || size % kVmmGranularity || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (alignment == 0) alignment = kVmmGranularity;
  if (!is_power_of_two(alignment)) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  VirtualMemory& vmm = state->vmm;
  if (vmm.window == 0) return CUDA_ERROR_NOT_SUPPORTED;  // the server gave the session no window
  const CUdeviceptr at = place_reservation(vmm, size, std::max(alignment, kVmmGranularity), addr);
  if (at == 0) return CUDA_ERROR_OUT_OF_MEMORY;
  vmm.reservations.emplace(at, size);
  *ptr = at;
  return CUDA_SUCCESS;
}

CUresult api::cuMemAddressFree(Client& c, CUdeviceptr ptr, size_t size) {
  auto state = c.lock();
  VirtualMemory& vmm = state->vmm;
  auto it = vmm.reservations.find(ptr);
  if (it == vmm.reservations.end() || it->second != size) return CUDA_ERROR_INVALID_VALUE;
  // What is still mapped in it must be unmapped first.
  auto mapped = vmm.mappings.lower_bound(ptr);
  if (mapped != vmm.mappings.end() && mapped->first < ptr + size) return CUDA_ERROR_INVALID_VALUE;
  vmm.reservations.erase(it);
  return CUDA_SUCCESS;
}

CUresult api::cuMemCreate(Client& c, CUmemGenericAllocationHandle* handle, size_t size,
                          const CUmemAllocationProp* prop, unsigned long long flags) {
  if (!handle || size == 0 || size % kVmmGranularity || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (const CUresult r = check_properties(prop)) return r;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  VirtualMemory& vmm = state->vmm;
  if (vmm.window == 0) return CUDA_ERROR_NOT_SUPPORTED;
  *handle = vmm.next_handle++;
  vmm.chunks.emplace(*handle, PhysicalChunk{.size = size, .prop = *prop});
  return CUDA_SUCCESS;
}

CUresult api::cuMemRelease(Client& c, CUmemGenericAllocationHandle handle) {
  auto state = c.lock();
  auto chunk = state->vmm.chunks.find(handle);
  // A chunk released already and still mapped has no reference left to drop.
  if (chunk == state->vmm.chunks.end() || chunk->second.references == 0) return CUDA_ERROR_INVALID_VALUE;
  drop_reference(state->vmm, chunk);
  return CUDA_SUCCESS;
}

CUresult api::cuMemMap(Client& c, CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                       unsigned long long flags) {
  if (size == 0 || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  VirtualMemory& vmm = state->vmm;
  auto chunk = vmm.chunks.find(handle);
  if (chunk == vmm.chunks.end() || chunk->second.references == 0) return CUDA_ERROR_INVALID_HANDLE;
  if (offset != 0 || size != chunk->second.size) RRTO_NOT_SUPPORTED(cuMemMap, "mapping part of a chunk");
  if (chunk->second.mapped_at) RRTO_NOT_SUPPORTED(cuMemMap, "mapping a chunk at a second address");
  if (ptr % kVmmGranularity || vmm.reservation_of(ptr, size) == vmm.reservations.end())
    return CUDA_ERROR_INVALID_VALUE;
  if (state->in_mapped_run(ptr, 1) || state->in_mapped_run(ptr + size - 1, 1)) return CUDA_ERROR_INVALID_VALUE;
  if (auto next = vmm.mappings.lower_bound(ptr); next != vmm.mappings.end() && next->first < ptr + size)
    return CUDA_ERROR_INVALID_VALUE;
  proto::MemAlloc call{.size = size, .at = ptr};
  proto::MemAllocResult result;
  if (const CUresult r = state->remote.call(call, &result)) return r;
  if (result.dptr != ptr) return CUDA_ERROR_UNKNOWN;
  state->device_allocations[ptr] = size;
  chunk->second.mapped_at = ptr;
  vmm.mappings.emplace(ptr, handle);
  return CUDA_SUCCESS;
}

CUresult api::cuMemUnmap(Client& c, CUdeviceptr ptr, size_t size) {
  if (size == 0 || ptr + size < ptr) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  VirtualMemory& vmm = state->vmm;
  // The range must hold whole mappings, back to back.
  if (!vmm.mappings.contains(ptr) || !state->in_mapped_run(ptr, size)) return CUDA_ERROR_INVALID_VALUE;
  const PhysicalChunk* last = vmm.mapped_chunk(ptr + size - 1);
  if (last->mapped_at + last->size != ptr + size) return CUDA_ERROR_INVALID_VALUE;
  for (auto it = vmm.mappings.find(ptr); it != vmm.mappings.end() && it->first < ptr + size;) {
    if (const CUresult r = free_on_device(*state, it->first)) return r;
    auto chunk = vmm.chunks.find(it->second);
    chunk->second.mapped_at = 0;
    if (chunk->second.references == 0) vmm.chunks.erase(chunk);
    it = vmm.mappings.erase(it);
  }
  return CUDA_SUCCESS;
}

CUresult api::cuMemSetAccess(Client& c, CUdeviceptr ptr, size_t size, const CUmemAccessDesc* desc, size_t count) {
  if (!desc || count == 0 || size == 0) return CUDA_ERROR_INVALID_VALUE;
  for (size_t i = 0; i < count; ++i) {
    if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE) RRTO_NOT_SUPPORTED(cuMemSetAccess, "access from the host");
    if (desc[i].location.id != 0) return CUDA_ERROR_INVALID_DEVICE;
    // Mapped memory is always readable and writable by the device.
    if (desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
      RRTO_NOT_SUPPORTED(cuMemSetAccess, "access other than read and write");
  }
  auto state = c.lock();
  return state->in_mapped_run(ptr, size) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult api::cuMemGetAccess(Client& c, unsigned long long* flags, const CUmemLocation* location, CUdeviceptr ptr) {
  if (!flags || !location) return CUDA_ERROR_INVALID_VALUE;
  if (location->type != CU_MEM_LOCATION_TYPE_DEVICE) return CUDA_ERROR_INVALID_VALUE;
  if (location->id != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  if (!state->vmm.mapped_chunk(ptr)) return CUDA_ERROR_INVALID_VALUE;
  *flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  return CUDA_SUCCESS;
}

CUresult api::cuMemRetainAllocationHandle(Client& c, CUmemGenericAllocationHandle* handle, void* addr) {
  if (!handle) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  CUmemGenericAllocationHandle found = 0;
  if (!state->vmm.mapped_chunk(reinterpret_cast<CUdeviceptr>(addr), &found)) return CUDA_ERROR_INVALID_VALUE;
  ++state->vmm.chunks.at(found).references;
  *handle = found;
  return CUDA_SUCCESS;
}

CUresult api::cuMemGetAllocationPropertiesFromHandle(Client& c, CUmemAllocationProp* prop,
                                                     CUmemGenericAllocationHandle handle) {
  if (!prop) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  auto chunk = state->vmm.chunks.find(handle);
  if (chunk == state->vmm.chunks.end()) return CUDA_ERROR_INVALID_VALUE;
  *prop = chunk->second.prop;
  return CUDA_SUCCESS;
}
