#include "server/range_allocator.h"

#include <iterator>

namespace rrto::server {

bool RangeAllocator::allocate(uint64_t bytes, uint64_t alignment, uint64_t at, uint64_t& start) {
  if (at != 0) {
    auto it = free_.upper_bound(at);
    if (at % alignment != 0 || it == free_.begin()) return false;
    --it;
    if (bytes > it->first + it->second - at) return false;
    take(it, at, bytes);
    start = at;
    return true;
  }
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    uint64_t s = round_up(it->first, alignment);
    if (kept_out(s, bytes)) s = round_up(kept_out_end_, alignment);
    if (s + bytes > it->first + it->second) continue;
    take(it, s, bytes);
    start = s;
    return true;
  }
  return false;
}

bool RangeAllocator::allocate_from_top(uint64_t bytes, uint64_t alignment, uint64_t& start) {
  for (auto it = free_.rbegin(); it != free_.rend(); ++it) {
    const auto [at, length] = *it;
    if (bytes > length) continue;
    uint64_t s = (at + length - bytes) / alignment * alignment;
    if (kept_out(s, bytes)) {
      if (kept_out_begin_ < at + bytes) continue;
      s = (kept_out_begin_ - bytes) / alignment * alignment;
    }
    if (s < at) continue;
    take(std::prev(it.base()), s, bytes);
    start = s;
    return true;
  }
  return false;
}

void RangeAllocator::take(std::map<uint64_t, uint64_t>::iterator range, uint64_t start, uint64_t bytes) {
  const auto [at, length] = *range;
  free_.erase(range);
  if (start > at) free_.emplace(at, start - at);
  if (at + length > start + bytes) free_.emplace(start + bytes, at + length - start - bytes);
  in_use_.emplace(start, bytes);
}

uint64_t RangeAllocator::release(uint64_t start) {
  auto used = in_use_.find(start);
  if (used == in_use_.end()) return 0;
  uint64_t at = start, length = used->second;
  const uint64_t freed = length;
  in_use_.erase(used);
  auto next = free_.lower_bound(at);
  if (next != free_.end() && next->first == at + length) {
    length += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == at) {
      at = prev->first;
      length += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(at, length);
  return freed;
}

}  // namespace rrto::server
