// The device memory one session owns, and the check every address range a
// client names goes through.
//
// A range [p, p + n) is accepted only when it lies entirely inside one live
// entry of this table: memory of another session, a freed allocation, the
// bytes past the end of an allocation, or a range spanning two neighbouring
// allocations are all refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>

namespace rrto::server {

class AllocationTable {
 public:
  enum class Kind : uint8_t {
    Allocation,    // from MemAlloc; the client may free it
    ModuleGlobal,  // a module's global variable; lives as long as its module
  };
  struct Entry {
    uint64_t base = 0;
    uint64_t size = 0;
    Kind kind = Kind::Allocation;
    uint64_t module = 0;  // the client's module id, for ModuleGlobal
  };

  // False if size is 0, base + size overflows, or it overlaps an entry.
  bool insert(const Entry& entry);
  // Removes the entry starting exactly at base; false if there is none.
  bool erase(uint64_t base);
  // The entry starting exactly at base, or nullptr.
  const Entry* find_base(uint64_t base) const;
  // The entry holding [p, p + n) entirely, or nullptr. A zero-size range is
  // inside an entry when p is.
  const Entry* find_range(uint64_t p, uint64_t n) const;
  bool contains(uint64_t p, uint64_t n) const { return find_range(p, n) != nullptr; }

  // Removes every global of one module.
  void erase_module_globals(uint64_t module);

  // Bytes of Kind::Allocation entries.
  uint64_t allocated_bytes() const { return allocated_bytes_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

 private:
  std::map<uint64_t, Entry> entries_;  // by base
  uint64_t allocated_bytes_ = 0;
};

}  // namespace rrto::server
