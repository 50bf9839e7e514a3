// The client's side of virtual memory management (cuMemAddressReserve,
// cuMemCreate, cuMemMap...; client/api/virtual_memory.cpp): the address
// ranges the program reserved, carved here from the reservable part of the
// session's address window (protocol/address_window_layout.h), the physical
// chunks it created, and where each is mapped. A chunk has memory on the
// server only while it is mapped: a mapping is an allocation at its address.
#pragma once

#include <cuda.h>

#include <cstdint>
#include <map>

namespace rrto::client {

// What the device offers as both the minimum and the recommended granularity.
inline constexpr size_t kVmmGranularity = 2ull << 20;

struct PhysicalChunk {
  size_t size = 0;
  CUmemAllocationProp prop{};
  int references = 1;      // cuMemCreate's, and one per cuMemRetainAllocationHandle
  CUdeviceptr mapped_at = 0;  // 0: not mapped
};

struct VirtualMemory {
  uint64_t window = 0;  // the session's address window; 0: none, nothing can be reserved
  std::map<CUdeviceptr, size_t> reservations;  // base -> size
  std::map<CUmemGenericAllocationHandle, PhysicalChunk> chunks;
  std::map<CUdeviceptr, CUmemGenericAllocationHandle> mappings;  // address -> chunk mapped there
  CUmemGenericAllocationHandle next_handle = 0x10000;

  // The reservation holding [p, p + size), or end().
  std::map<CUdeviceptr, size_t>::const_iterator reservation_of(CUdeviceptr p, size_t size) const {
    auto it = reservations.upper_bound(p);
    if (it == reservations.begin()) return reservations.end();
    --it;
    return p - it->first < it->second && size <= it->second - (p - it->first) ? it : reservations.end();
  }
  // The chunk mapped at an address holding p, or nullptr.
  const PhysicalChunk* mapped_chunk(CUdeviceptr p, CUmemGenericAllocationHandle* handle = nullptr) const {
    auto it = mappings.upper_bound(p);
    if (it == mappings.begin()) return nullptr;
    --it;
    const PhysicalChunk& chunk = chunks.at(it->second);
    if (p - it->first >= chunk.size) return nullptr;
    if (handle) *handle = it->second;
    return &chunk;
  }
};

}  // namespace rrto::client
