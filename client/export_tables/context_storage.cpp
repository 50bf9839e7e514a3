#include "client/export_tables/context_storage.h"

#include <algorithm>

namespace rrto::client {
namespace {

// The last entry this thread found, valid while the storage's generation is
// unchanged.
struct CachedLookup {
  const ContextStorage* storage = nullptr;
  uint64_t generation = 0;
  uint64_t context = 0;
  void* key = nullptr;
  void* value = nullptr;
};
thread_local CachedLookup t_last;

}  // namespace

uint64_t ContextStorage::next_generation() {
  static std::atomic<uint64_t> sequence{0};
  return sequence.fetch_add(1, std::memory_order_relaxed) + 1;
}

ContextStorage& context_storage() {
  // Never destroyed: cudart's exit handlers still look their state up.
  static ContextStorage* storage = new ContextStorage;
  return *storage;
}

void ContextStorage::put(uint64_t context, void* key, void* value, Destructor destructor) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.context == context && e.key == key; });
  if (it != entries_.end())
    *it = {context, key, value, destructor};
  else
    entries_.push_back({context, key, value, destructor});
  generation_.store(next_generation(), std::memory_order_release);
}

bool ContextStorage::get(uint64_t context, void* key, void*& value) const {
  const CachedLookup& last = t_last;
  if (last.storage == this && last.context == context && last.key == key &&
      last.generation == generation_.load(std::memory_order_acquire)) {
    value = last.value;
    return true;
  }
  std::lock_guard lock(mutex_);
  for (const Entry& e : entries_) {
    if (e.context == context && e.key == key) {
      t_last = {this, generation_.load(std::memory_order_relaxed), context, key, e.value};
      value = e.value;
      return true;
    }
  }
  return false;
}

bool ContextStorage::remove(uint64_t context, void* key) {
  std::lock_guard lock(mutex_);
  const auto erased = std::erase_if(entries_, [&](const Entry& e) { return e.context == context && e.key == key; });
  generation_.store(next_generation(), std::memory_order_release);
  return erased > 0;
}

void ContextStorage::destroy(uint64_t context) {
  std::vector<Entry> dropped;
  {
    std::lock_guard lock(mutex_);
    for (const Entry& e : entries_)
      if (e.context == context) dropped.push_back(e);
    std::erase_if(entries_, [&](const Entry& e) { return e.context == context; });
    generation_.store(next_generation(), std::memory_order_release);
  }
  for (const Entry& e : dropped)
    if (e.destructor) e.destructor(reinterpret_cast<CUcontext>(e.context), e.key, e.value);
}

}  // namespace rrto::client
