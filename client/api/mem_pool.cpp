// Stream-ordered allocation (cuMemAllocAsync, cuMemFreeAsync) and memory
// pools, as far as cudart's cudaMallocAsync needs them. An allocation is an
// ordinary device allocation made at once (memory that exists early is
// available in stream order too); a free is queued behind the work already
// sent, which the server runs in order. Pools are bookkeeping kept here: their
// attributes and how much of each is in use.
#include <algorithm>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

CUmemoryPool handle(Pool* pool) { return reinterpret_cast<CUmemoryPool>(pool); }

CUresult alloc_from(Client& c, CUdeviceptr* dptr, size_t size, Pool* pool, CUstream stream) {
  if (!dptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  // The pool is looked up again after the allocation: the lock is not held across it.
  {
    auto state = c.lock();
    if (!valid_stream(*state, stream)) return CUDA_ERROR_INVALID_HANDLE;
    // Graphs hold no memory nodes: an allocation cannot be captured.
    if (const CUresult r = state->graphs.check_wait(stream_id(stream, false)); r != CUDA_SUCCESS) return r;
    if (!pool) pool = state->pools.current;
  }
  if (const CUresult r = alloc_device(c, dptr, size); r != CUDA_SUCCESS) return r;
  auto state = c.lock();
  if (!(pool = state->pools.find(handle(pool)))) return CUDA_SUCCESS;  // destroyed meanwhile: not counted
  state->pools.allocations[*dptr] = {pool, size};
  pool->used += size;
  pool->used_high = std::max(pool->used_high, pool->used);
  return CUDA_SUCCESS;
}

CUresult free_async(Client& c, CUdeviceptr dptr, CUstream stream) {
  {
    auto state = c.lock();
    if (!valid_stream(*state, stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (const CUresult r = state->graphs.check_wait(stream_id(stream, false)); r != CUDA_SUCCESS) return r;
    auto& allocations = state->pools.allocations;
    if (auto it = allocations.find(dptr); it != allocations.end()) {
      it->second.first->used -= it->second.second;
      allocations.erase(it);
    }
  }
  return free_device(c, dptr);
}

}  // namespace

CUresult api::cuMemAllocAsync(Client& c, bool per_thread, CUdeviceptr* dptr, size_t size, CUstream stream) {
  return alloc_from(c, dptr, size, nullptr, stream);
}

CUresult api::cuMemAllocFromPoolAsync(Client& c, bool per_thread, CUdeviceptr* dptr, size_t size, CUmemoryPool pool,
                                      CUstream stream) {
  Pool* p = nullptr;
  {
    auto state = c.lock();
    if (!(p = state->pools.find(pool))) return CUDA_ERROR_INVALID_VALUE;
  }
  return alloc_from(c, dptr, size, p, stream);
}

CUresult api::cuMemFreeAsync(Client& c, bool per_thread, CUdeviceptr dptr, CUstream stream) {
  return free_async(c, dptr, stream);
}

CUresult api::cuDeviceGetDefaultMemPool(Client& c, CUmemoryPool* pool, CUdevice dev) {
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  *pool = handle(state->pools.pools[0].get());
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetMemPool(Client& c, CUmemoryPool* pool, CUdevice dev) {
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  *pool = handle(state->pools.current);
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceSetMemPool(Client& c, CUdevice dev, CUmemoryPool pool) {
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  auto state = c.lock();
  Pool* p = state->pools.find(pool);
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  state->pools.current = p;
  return CUDA_SUCCESS;
}

CUresult api::cuMemPoolCreate(Client& c, CUmemoryPool* pool, const CUmemPoolProps* props) {
  if (!pool || !props) return CUDA_ERROR_INVALID_VALUE;
  if (props->allocType != CU_MEM_ALLOCATION_TYPE_PINNED || props->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
      props->location.id != 0)
    return CUDA_ERROR_NOT_SUPPORTED;
  auto state = c.lock();
  auto p = std::make_unique<Pool>();
  p->props = *props;
  *pool = handle(p.get());
  state->pools.pools.push_back(std::move(p));
  return CUDA_SUCCESS;
}

CUresult api::cuMemPoolDestroy(Client& c, CUmemoryPool pool) {
  auto state = c.lock();
  MemoryPools& all = state->pools;
  Pool* p = all.find(pool);
  if (!p || p == all.pools[0].get()) return CUDA_ERROR_INVALID_VALUE;
  // Allocations still out keep working as device memory; they no longer count.
  std::erase_if(all.allocations, [p](const auto& a) { return a.second.first == p; });
  if (all.current == p) all.current = all.pools[0].get();
  std::erase_if(all.pools, [p](const auto& q) { return q.get() == p; });
  return CUDA_SUCCESS;
}

// Freed memory goes back to the server at once: there is nothing to trim.
CUresult api::cuMemPoolTrimTo(Client& c, CUmemoryPool pool, size_t) {
  auto state = c.lock();
  return state->pools.find(pool) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult api::cuMemPoolSetAttribute(Client& c, CUmemoryPool pool, CUmemPool_attribute attribute, void* value) {
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  Pool* p = state->pools.find(pool);
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  switch (attribute) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
      p->reuse_follow_event_dependencies = *static_cast<int*>(value);
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
      p->reuse_allow_opportunistic = *static_cast<int*>(value);
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
      p->reuse_allow_internal_dependencies = *static_cast<int*>(value);
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
      p->release_threshold = *static_cast<cuuint64_t*>(value);
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
      // Only resetting the high-water marks is allowed.
      if (*static_cast<cuuint64_t*>(value) != 0) return CUDA_ERROR_INVALID_VALUE;
      p->used_high = p->used;
      return CUDA_SUCCESS;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}

CUresult api::cuMemPoolGetAttribute(Client& c, CUmemoryPool pool, CUmemPool_attribute attribute, void* value) {
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  auto state = c.lock();
  const Pool* p = state->pools.find(pool);
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  switch (attribute) {
    case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES:
      *static_cast<int*>(value) = p->reuse_follow_event_dependencies;
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC:
      *static_cast<int*>(value) = p->reuse_allow_opportunistic;
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES:
      *static_cast<int*>(value) = p->reuse_allow_internal_dependencies;
      return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
      *static_cast<cuuint64_t*>(value) = p->release_threshold;
      return CUDA_SUCCESS;
    // Nothing is held back: reserved memory is memory in use.
    case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT:
    case CU_MEMPOOL_ATTR_USED_MEM_CURRENT: *static_cast<cuuint64_t*>(value) = p->used; return CUDA_SUCCESS;
    case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
    case CU_MEMPOOL_ATTR_USED_MEM_HIGH: *static_cast<cuuint64_t*>(value) = p->used_high; return CUDA_SUCCESS;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}
