#include "server/allocation_table.h"

#include <iterator>

namespace rrto::server {

bool AllocationTable::insert(const Entry& entry) {
  if (entry.size == 0 || entry.base + entry.size < entry.base) return false;
  auto next = entries_.lower_bound(entry.base);
  if (next != entries_.end() && next->first < entry.base + entry.size) return false;
  if (next != entries_.begin()) {
    const Entry& prev = std::prev(next)->second;
    if (prev.base + prev.size > entry.base) return false;
  }
  entries_.emplace_hint(next, entry.base, entry);
  if (entry.kind == Kind::Allocation) allocated_bytes_ += entry.size;
  return true;
}

bool AllocationTable::erase(uint64_t base) {
  auto it = entries_.find(base);
  if (it == entries_.end()) return false;
  if (it->second.kind == Kind::Allocation) allocated_bytes_ -= it->second.size;
  entries_.erase(it);
  return true;
}

const AllocationTable::Entry* AllocationTable::find_base(uint64_t base) const {
  auto it = entries_.find(base);
  return it == entries_.end() ? nullptr : &it->second;
}

const AllocationTable::Entry* AllocationTable::find_range(uint64_t p, uint64_t n) const {
  if (p + n < p) return nullptr;
  auto after = entries_.upper_bound(p);
  if (after == entries_.begin()) return nullptr;
  const Entry& e = std::prev(after)->second;
  const uint64_t offset = p - e.base;  // p >= e.base here
  if (offset >= e.size) return nullptr;
  if (n > e.size - offset) return nullptr;
  return &e;
}

bool AllocationTable::contains(uint64_t p, uint64_t n) const {
  if (find_range(p, n)) return true;
  if (p + n < p) return false;
  auto it = entries_.upper_bound(p);
  if (it == entries_.begin()) return false;
  --it;
  if (!it->second.joins || p - it->first >= it->second.size) return false;
  const uint64_t end = p + n;
  for (uint64_t covered = it->first + it->second.size; it->second.joins; covered = it->first + it->second.size) {
    if (covered >= end) return true;
    if (++it == entries_.end() || it->first != covered) return false;
  }
  return false;
}

void AllocationTable::erase_module_globals(uint64_t module) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.kind == Kind::ModuleGlobal && it->second.module == module)
      it = entries_.erase(it);
    else
      ++it;
  }
}

}  // namespace rrto::server
