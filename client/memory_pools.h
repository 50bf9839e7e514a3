// The client's bookkeeping of memory pools (cuMemPool*, cuMemAllocAsync):
// their attributes and how much of each is in use; see client/api/mem_pool.cpp.
#pragma once

#include <cuda.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

namespace rrto::client {

struct Pool {
  CUmemPoolProps props{};
  cuuint64_t release_threshold = 0;
  int reuse_follow_event_dependencies = 1;
  int reuse_allow_opportunistic = 1;
  int reuse_allow_internal_dependencies = 1;
  cuuint64_t used = 0, used_high = 0;
};

// A pool's handle is its address; the device's
// default pool is the first and is never destroyed.
struct MemoryPools {
  std::vector<std::unique_ptr<Pool>> pools;
  Pool* current = nullptr;                                      // cuDeviceSetMemPool's choice
  std::map<CUdeviceptr, std::pair<Pool*, size_t>> allocations;  // made from a pool

  MemoryPools() {
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

}  // namespace rrto::client
