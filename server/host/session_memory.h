// One session's device memory on the host backend: a memfd mapped over the
// session's address window (address_window.h), so that the session's kernel
// process (kernel_process.h) maps the same pages at the same address and
// device pointers mean the same in both, and a session re-created on another
// server finds its addresses free. Pages cost memory only once touched. The
// first page is the control page the kernel process reports its progress in;
// allocations come after it; copies of the kernel libraries' globals sit at
// the top of the window, where every server of a cluster puts them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "server/range_allocator.h"

namespace rrto::server::host {

// What the kernel process writes in the control page.
struct KernelProgress {
  std::atomic<uint32_t> launches_done{0};  // in the run in progress
};

class SessionMemory {
 public:
  // Maps window `window` with fresh, zeroed memory, `globals` bytes of it
  // kept for allocate_global(). Fails when something of this process already
  // lies in the window.
  static Status create(uint64_t window, uint64_t globals, std::unique_ptr<SessionMemory>& out, std::string& error);
  ~SessionMemory();
  SessionMemory(const SessionMemory&) = delete;
  SessionMemory& operator=(const SessionMemory&) = delete;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  // Whether [p, p + n) lies in this memory; a pointer one past the end counts.
  bool contains(uint64_t p, uint64_t n) const { return p >= base_ && p <= base_ + size_ && n <= base_ + size_ - p; }
  KernelProgress& progress() const { return *reinterpret_cast<KernelProgress*>(base_); }

  // Zeroed, 256-byte aligned memory of at least `size` bytes, at `at` unless
  // that is 0; false when none is left (or `at` is not free).
  // `reserved` is what it takes (what release() gives back).
  bool allocate(uint64_t size, uint64_t at, uint64_t& dptr, uint64_t& reserved);
  // The same at the top of the free memory, for a module's variable: a
  // session re-created elsewhere places its allocations at their old
  // addresses, which these then do not take.
  bool allocate_from_top(uint64_t size, uint64_t& dptr, uint64_t& reserved);
  // Room for a global's copy at the top of the window, for the session's
  // life; false when the room kept for globals is used up.
  bool allocate_global(uint64_t size, uint64_t& dptr);
  // Gives an allocation back; its bytes reserved, 0 when `dptr` is none.
  uint64_t release(uint64_t dptr);
  // The bytes reserved for the allocation at `dptr`, 0 when it is none.
  uint64_t reserved(uint64_t dptr) const { return placement_.reserved(dptr); }

 private:
  SessionMemory(int fd, uint64_t base, uint64_t size, uint64_t globals);
  int fd_;
  uint64_t base_, size_;
  uint64_t globals_next_;  // allocate_global's next address
  RangeAllocator placement_;  // the allocations
};

}  // namespace rrto::server::host
