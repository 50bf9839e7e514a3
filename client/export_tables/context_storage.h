// Context-local storage (export table c693336e-1121-df11-a8c3-68f355d89593):
// cudart keeps its per-context state in the driver under a key of its own and
// looks it up on nearly every runtime call, so get() takes no lock while
// nothing changed. When a context goes away (destroyed, or the primary reset)
// each entry's destructor runs, as cudart expects of the driver.
#pragma once

#include <cuda.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

namespace rrto::client {

class ContextStorage {
 public:
  // Called as destructor(context, key, value).
  using Destructor = void (*)(CUcontext, void*, void*);

  // Replaces any value `context` already has under `key`.
  void put(uint64_t context, void* key, void* value, Destructor destructor);
  bool get(uint64_t context, void* key, void*& value) const;
  bool remove(uint64_t context, void* key);
  // Drops every entry of `context` and then runs their destructors, with no
  // lock held: they may call back into the driver.
  void destroy(uint64_t context);

 private:
  struct Entry {
    uint64_t context;
    void* key;
    void* value;
    Destructor destructor;
  };

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // a handful: one per context cudart uses
  // Renewed by every change, from a process-wide sequence so that no two
  // storages ever share a value; a thread's cached lookup is good while the
  // generation it saw holds.
  std::atomic<uint64_t> generation_{next_generation()};
  static uint64_t next_generation();
};

ContextStorage& context_storage();

}  // namespace rrto::client
