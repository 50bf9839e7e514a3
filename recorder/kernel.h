// Kernel identity shared by client, server and trace files: a kernel is its
// module's content hash plus its name. A KernelTable interns each identity to
// a small id and keeps the kernel's parameter layout beside it, so an Op can
// refer to everything about its kernel with one pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rrto {

using KernelId = uint32_t;
inline constexpr KernelId kNoKernel = 0xffffffffu;

// Where one parameter sits in the packed parameter buffer.
struct KernelParam {
  uint32_t offset = 0;
  uint32_t size = 0;
  friend bool operator==(const KernelParam&, const KernelParam&) = default;
};

// Immutable once interned; the table owns it and its address never changes.
struct KernelDef {
  KernelId id = kNoKernel;
  uint64_t module_hash = 0;
  std::string name;
  // Hash of (module_hash, name): the same in every process, unlike `id`.
  uint64_t key = 0;
  // By parameter ordinal. Empty when the layout is unknown.
  std::vector<KernelParam> params;
};

uint64_t kernel_key(uint64_t module_hash, std::string_view name);

// Thread-safe. Interning happens at module load; launches use the returned
// pointer and never touch the table.
class KernelTable {
 public:
  KernelTable() = default;
  KernelTable(const KernelTable&) = delete;
  KernelTable& operator=(const KernelTable&) = delete;

  // The existing definition when (module_hash, name) is known (its layout is
  // kept), else a new one with the next id.
  const KernelDef* intern(uint64_t module_hash, std::string_view name, std::span<const KernelParam> params);
  // Adds a definition with a given id (trace files carry their ids). Null
  // when the id or the identity is already taken.
  const KernelDef* define(KernelId id, uint64_t module_hash, std::string_view name,
                          std::span<const KernelParam> params);
  const KernelDef* find(KernelId id) const;
  size_t size() const;

 private:
  const KernelDef* add_locked(KernelId id, uint64_t module_hash, std::string_view name,
                              std::span<const KernelParam> params, uint64_t key);

  mutable std::mutex mu_;
  std::unordered_map<KernelId, std::unique_ptr<KernelDef>> by_id_;
  std::unordered_multimap<uint64_t, const KernelDef*> by_key_;
  KernelId next_id_ = 0;
};

}  // namespace rrto
