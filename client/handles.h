// Tables of the objects the client mints itself (contexts, modules,
// functions, streams, events). A handle is (index << 4) | kind: checking one
// is two compares and an array read, and a handle of one kind never passes
// for another. Slots are never reused, so a stale handle stays invalid.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace rrto::client {

enum class HandleKind : uint8_t { Context = 1, Module = 2, Function = 3, Stream = 4, Event = 5, Graph = 6, GraphExec = 7, GraphNode = 8 };

template <typename T, HandleKind Kind>
class HandleTable {
 public:
  // Takes ownership; sets object->handle and returns it.
  uint64_t insert(std::unique_ptr<T> object) {
    slots_.push_back(std::move(object));
    const uint64_t handle = (static_cast<uint64_t>(slots_.size()) << 4) | static_cast<uint64_t>(Kind);
    slots_.back()->handle = handle;
    return handle;
  }

  T* find(uint64_t handle) const {
    if ((handle & 0xf) != static_cast<uint64_t>(Kind)) return nullptr;
    const uint64_t index = handle >> 4;
    if (index == 0 || index > slots_.size()) return nullptr;
    return slots_[index - 1].get();
  }
  template <typename Handle>
  T* find(Handle h) const {
    return find(reinterpret_cast<uint64_t>(h));
  }

  std::unique_ptr<T> remove(uint64_t handle) {
    if (!find(handle)) return nullptr;
    return std::move(slots_[(handle >> 4) - 1]);
  }

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& slot : slots_)
      if (slot) f(*slot);
  }

 private:
  std::vector<std::unique_ptr<T>> slots_;
};

}  // namespace rrto::client
