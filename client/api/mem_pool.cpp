// Stream-ordered allocation (cuMemAllocAsync, cuMemFreeAsync) and memory
// pools, as far as cudart's cudaMallocAsync needs them. An allocation is an
// ordinary device allocation made at once (memory that exists early is
// available in stream order too); a free is queued behind the work already
// sent, which the server runs in order. Pools are bookkeeping kept here: their
// attributes and how much of each is in use.
#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "client/api/api.h"

using namespace rrto::client;

namespace {

struct Pool {
  CUmemPoolProps props{};
  cuuint64_t release_threshold = 0;
  int reuse_follow_event_dependencies = 1;
  int reuse_allow_opportunistic = 1;
  int reuse_allow_internal_dependencies = 1;
  cuuint64_t used = 0, used_high = 0;
};

// Guarded by the client lock. A pool's handle is its address; the device's
// default pool is the first and is never destroyed.
struct Pools {
  std::vector<std::unique_ptr<Pool>> pools;
  Pool* current = nullptr;                                      // cuDeviceSetMemPool's choice
  std::map<CUdeviceptr, std::pair<Pool*, size_t>> allocations;  // made from a pool

  Pools() {
    pools.push_back(std::make_unique<Pool>());
    pools[0]->props.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
    pools[0]->props.location = {.type = CU_MEM_LOCATION_TYPE_DEVICE, .id = 0};
    current = pools[0].get();
  }
  Pool* find(CUmemoryPool handle) {
    for (auto& p : pools)
      if (reinterpret_cast<CUmemoryPool>(p.get()) == handle) return p.get();
    return nullptr;
  }
};

CUmemoryPool handle(Pool* pool) { return reinterpret_cast<CUmemoryPool>(pool); }

Pools& pools() {
  static auto* p = new Pools;
  return *p;
}

bool valid_stream(const Client& c, CUstream s) {
  const auto h = reinterpret_cast<uint64_t>(s);
  return h == 0 || s == CU_STREAM_LEGACY || s == CU_STREAM_PER_THREAD || c.streams.find(h);
}

CUresult alloc_from(Client& c, CUdeviceptr* dptr, size_t size, Pool* pool, CUstream stream) {
  if (!dptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
  // The pool is looked up again after the allocation: the lock is not held across it.
  {
    std::lock_guard lock(c.mutex);
    if (!valid_stream(c, stream)) return CUDA_ERROR_INVALID_HANDLE;
    if (!pool) pool = pools().current;
  }
  if (const CUresult r = alloc_device(c, dptr, size); r != CUDA_SUCCESS) return r;
  std::lock_guard lock(c.mutex);
  if (!(pool = pools().find(handle(pool)))) return CUDA_SUCCESS;  // destroyed meanwhile: not counted
  pools().allocations[*dptr] = {pool, size};
  pool->used += size;
  pool->used_high = std::max(pool->used_high, pool->used);
  return CUDA_SUCCESS;
}

CUresult free_async(Client& c, CUdeviceptr dptr, CUstream stream) {
  {
    std::lock_guard lock(c.mutex);
    if (!valid_stream(c, stream)) return CUDA_ERROR_INVALID_HANDLE;
    auto& allocations = pools().allocations;
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
    std::lock_guard lock(c.mutex);
    if (!(p = pools().find(pool))) return CUDA_ERROR_INVALID_VALUE;
  }
  return alloc_from(c, dptr, size, p, stream);
}

CUresult api::cuMemFreeAsync(Client& c, bool per_thread, CUdeviceptr dptr, CUstream stream) {
  return free_async(c, dptr, stream);
}

CUresult api::cuDeviceGetDefaultMemPool(Client& c, CUmemoryPool* pool, CUdevice dev) {
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard lock(c.mutex);
  *pool = handle(pools().pools[0].get());
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceGetMemPool(Client& c, CUmemoryPool* pool, CUdevice dev) {
  if (!pool) return CUDA_ERROR_INVALID_VALUE;
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard lock(c.mutex);
  *pool = handle(pools().current);
  return CUDA_SUCCESS;
}

CUresult api::cuDeviceSetMemPool(Client& c, CUdevice dev, CUmemoryPool pool) {
  if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard lock(c.mutex);
  Pool* p = pools().find(pool);
  if (!p) return CUDA_ERROR_INVALID_VALUE;
  pools().current = p;
  return CUDA_SUCCESS;
}

CUresult api::cuMemPoolCreate(Client& c, CUmemoryPool* pool, const CUmemPoolProps* props) {
  if (!pool || !props) return CUDA_ERROR_INVALID_VALUE;
  if (props->allocType != CU_MEM_ALLOCATION_TYPE_PINNED || props->location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
      props->location.id != 0)
    return CUDA_ERROR_NOT_SUPPORTED;
  std::lock_guard lock(c.mutex);
  auto p = std::make_unique<Pool>();
  p->props = *props;
  *pool = handle(p.get());
  pools().pools.push_back(std::move(p));
  return CUDA_SUCCESS;
}

CUresult api::cuMemPoolDestroy(Client& c, CUmemoryPool pool) {
  std::lock_guard lock(c.mutex);
  Pools& all = pools();
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
  std::lock_guard lock(c.mutex);
  return pools().find(pool) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUresult api::cuMemPoolSetAttribute(Client& c, CUmemoryPool pool, CUmemPool_attribute attribute, void* value) {
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard lock(c.mutex);
  Pool* p = pools().find(pool);
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
  std::lock_guard lock(c.mutex);
  const Pool* p = pools().find(pool);
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
