// First-fit placement of allocations in one range of addresses: a session's
// address window (address_window.h), on either backend. Deterministic, and
// able to place an allocation at a given address (a re-created session's).
#pragma once

#include <cstdint>
#include <map>
#include <unordered_map>

namespace rrto::server {

inline uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

class RangeAllocator {
 public:
  RangeAllocator(uint64_t begin, uint64_t size) { free_.emplace(begin, size); }

  // `bytes` (a multiple of `alignment`) at an `alignment`-aligned address, at
  // `at` unless that is 0; false when there is no room (or `at` is not free).
  bool allocate(uint64_t bytes, uint64_t alignment, uint64_t at, uint64_t& start);
  // The same at the highest address there is room at (last fit): what lives
  // there stays out of the way of first-fit allocations, and of those placed
  // at given addresses.
  bool allocate_from_top(uint64_t bytes, uint64_t alignment, uint64_t& start);
  // Neither placement of its own choosing (first or last fit) uses
  // [begin, end) from now on; only an allocation `at` an address there does.
  void keep_out(uint64_t begin, uint64_t end) {
    kept_out_begin_ = begin;
    kept_out_end_ = end;
  }
  // Gives the allocation at `start` back: its bytes, 0 when it is none.
  uint64_t release(uint64_t start);
  // The bytes of the allocation at `start`, 0 when it is none.
  uint64_t reserved(uint64_t start) const {
    const auto it = in_use_.find(start);
    return it == in_use_.end() ? 0 : it->second;
  }

 private:
  void take(std::map<uint64_t, uint64_t>::iterator range, uint64_t start, uint64_t bytes);
  bool kept_out(uint64_t start, uint64_t bytes) const { return start < kept_out_end_ && start + bytes > kept_out_begin_; }

  std::map<uint64_t, uint64_t> free_;               // address -> bytes, coalesced
  std::unordered_map<uint64_t, uint64_t> in_use_;  // address -> bytes
  uint64_t kept_out_begin_ = 0, kept_out_end_ = 0;
};

}  // namespace rrto::server
