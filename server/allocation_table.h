// The device memory one session owns, and the check every address range a
// client names goes through.
//
// A range [p, p + n) is accepted only when it lies entirely inside one live
// entry of this table: memory of another session, a freed allocation, the
// bytes past the end of an allocation, or a range spanning two neighbouring
// allocations are all refused, except that memory the client mapped into a
// range it reserved (`joins`) runs on into a joining entry that touches it,
// as back-to-back mappings of one reserved range do in CUDA.
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
    bool joins = false;   // mapped by the client into a range it reserved
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
  // Whether [p, p + n) lies inside one entry, or inside joining entries
  // that touch one another.
  bool contains(uint64_t p, uint64_t n) const;
  // The joining entries that touch `e` on either side, `e` among them; `e`
  // alone when it does not join.
  template <typename Visit>
  void for_each_joined(const Entry& e, Visit&& visit) const;

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

template <typename Visit>
void AllocationTable::for_each_joined(const Entry& e, Visit&& visit) const {
  auto first = entries_.find(e.base);
  while (e.joins && first != entries_.begin()) {
    const Entry& before = std::prev(first)->second;
    if (!before.joins || before.base + before.size != first->first) break;
    --first;
  }
  for (auto it = first; it != entries_.end(); ++it) {
    visit(it->second);
    const auto next = std::next(it);
    if (!e.joins || !it->second.joins || next == entries_.end() || !next->second.joins ||
        it->first + it->second.size != next->first)
      break;
  }
}

}  // namespace rrto::server
