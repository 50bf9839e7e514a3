// Page-locked, registered and mapped host memory. Page-locking means nothing
// to a remote device: pinned memory is ordinary host memory, tracked so
// pointer queries can recognise it. Memory mapped for the device gets a
// shadow in the session, kept coherent with it (client/mapped_memory.h).
#include <cstdlib>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

// The shadow of a range about to be mapped, and the client's copies of it.
CUresult map_range(ClientState& state, HostRange& range) {
  if (const CUresult r = allocate_on_device(state, &range.shadow, range.size)) return r;
  range.known.resize(range.size);
  range.incoming.resize(range.size);
  return CUDA_SUCCESS;
}

// Forgets the range at `host` and frees its shadow, if it has one. A queued
// upload may still send from the range's copy: the queue goes first.
CUresult unmap_range(ClientState& state, const void* host) {
  HostRange* range = state.mapped.find_host(host);
  if (range && range->shadow && state.remote.has_pending()) {
    if (const CUresult r = state.remote.flush()) return r;
  }
  const CUdeviceptr shadow = state.mapped.remove(host);
  return shadow ? free_on_device(state, shadow) : CUDA_SUCCESS;
}

CUresult alloc_host(Client& c, void** pp, size_t size, unsigned flags) {
  if (!pp || size == 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  void* p = std::aligned_alloc(4096, (size + 4095) & ~size_t{4095});
  if (!p) return CUDA_ERROR_OUT_OF_MEMORY;
  auto state = c.lock();
  if (flags & CU_MEMHOSTALLOC_DEVICEMAP) {
    HostRange range{.size = size, .flags = flags};
    if (const CUresult r = map_range(*state, range)) {
      std::free(p);
      return r;
    }
    state->mapped.add(p, std::move(range));
  }
  state->host_allocations[p] = {.size = size, .flags = flags};
  *pp = p;
  return CUDA_SUCCESS;
}

// Whether [p, p + size) meets pinned or registered memory.
bool already_pinned(ClientState& state, const void* p, size_t size) {
  if (state.mapped.overlaps(p, size)) return true;
  const auto* start = static_cast<const uint8_t*>(p);
  auto it = state.host_allocations.lower_bound(start + size);
  if (it == state.host_allocations.begin()) return false;
  --it;
  return static_cast<const uint8_t*>(it->first) + it->second.size > start;
}

}  // namespace

CUresult api::cuMemAllocHost_v2(Client& c, void** pp, size_t size) {
  return alloc_host(c, pp, size, 0);
}

CUresult api::cuMemHostAlloc(Client& c, void** pp, size_t size, unsigned int flags) {
  if (flags & ~(CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED))
    return CUDA_ERROR_INVALID_VALUE;
  return alloc_host(c, pp, size, flags);
}

CUresult api::cuMemFreeHost(Client& c, void* p) {
  auto state = c.lock();
  auto it = state->host_allocations.find(p);
  if (it == state->host_allocations.end()) return CUDA_ERROR_INVALID_VALUE;
  const CUresult r = unmap_range(*state, p);
  state->host_allocations.erase(it);
  std::free(p);
  return r;
}

CUresult api::cuMemHostRegister_v2(Client& c, void* p, size_t size, unsigned int flags) {
  constexpr unsigned kKnown = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP |
                              CU_MEMHOSTREGISTER_IOMEMORY | CU_MEMHOSTREGISTER_READ_ONLY;
  if (!p || size == 0 || (flags & ~kKnown)) return CUDA_ERROR_INVALID_VALUE;
  if (flags & CU_MEMHOSTREGISTER_IOMEMORY) RRTO_NOT_SUPPORTED(cuMemHostRegister, "CU_MEMHOSTREGISTER_IOMEMORY");
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  if (already_pinned(*state, p, size)) return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
  HostRange range{.size = size, .flags = flags, .registered = true};
  if (flags & CU_MEMHOSTREGISTER_DEVICEMAP) {
    if (const CUresult r = map_range(*state, range)) return r;
  }
  state->mapped.add(p, std::move(range));
  return CUDA_SUCCESS;
}

CUresult api::cuMemHostRegister(Client& c, void* p, size_t size, unsigned int flags) {
  return cuMemHostRegister_v2(c, p, size, flags);
}

CUresult api::cuMemHostUnregister(Client& c, void* p) {
  auto state = c.lock();
  auto it = state->mapped.ranges().find(p);
  if (it == state->mapped.ranges().end() || !it->second.registered) return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
  return unmap_range(*state, p);
}

// The shadow's address: unlike CUDA with unified addressing, the host
// pointer itself is not a device address here.
CUresult api::cuMemHostGetDevicePointer_v2(Client& c, CUdeviceptr* pdptr, void* p, unsigned int flags) {
  if (!pdptr || !p || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (!has_current_context()) return CUDA_ERROR_INVALID_CONTEXT;
  auto state = c.lock();
  auto& ranges = state->mapped.ranges();
  auto it = ranges.upper_bound(p);
  if (it == ranges.begin()) return CUDA_ERROR_INVALID_VALUE;
  --it;
  const size_t offset = static_cast<const uint8_t*>(p) - static_cast<const uint8_t*>(it->first);
  if (!it->second.shadow || offset >= it->second.size) return CUDA_ERROR_INVALID_VALUE;
  *pdptr = it->second.shadow + offset;
  return CUDA_SUCCESS;
}

CUresult api::cuMemHostGetFlags(Client& c, unsigned int* flags, void* p) {
  if (!flags || !p) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  auto it = state->host_allocations.upper_bound(p);
  if (it == state->host_allocations.begin()) return CUDA_ERROR_INVALID_VALUE;
  --it;
  if (static_cast<const uint8_t*>(p) >= static_cast<const uint8_t*>(it->first) + it->second.size)
    return CUDA_ERROR_INVALID_VALUE;
  *flags = it->second.flags;
  return CUDA_SUCCESS;
}
