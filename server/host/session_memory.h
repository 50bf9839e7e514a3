// One session's device memory on the host backend: a memfd mapped at a fixed
// address, so that the session's kernel process (kernel_process.h) maps the
// same pages at the same address and device pointers mean the same in both.
// The first page is the control page the kernel process reports its progress
// in; allocations come after it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/status.h"

namespace rrto::server::host {

// What the kernel process writes in the control page.
struct KernelProgress {
  std::atomic<uint32_t> launches_done{0};  // in the run in progress
};

class SessionMemory {
 public:
  // Maps `size` bytes (rounded up to pages) of fresh, zeroed memory.
  static Status create(uint64_t size, std::unique_ptr<SessionMemory>& out, std::string& error);
  ~SessionMemory();
  SessionMemory(const SessionMemory&) = delete;
  SessionMemory& operator=(const SessionMemory&) = delete;

  uint64_t base() const { return base_; }
  uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  // Whether [p, p + n) lies in this memory; a pointer one past the end counts.
  bool contains(uint64_t p, uint64_t n) const { return p >= base_ && p <= base_ + size_ && n <= base_ + size_ - p; }
  KernelProgress& progress() const { return *reinterpret_cast<KernelProgress*>(base_); }

  // Zeroed, 256-byte aligned memory of at least `size` bytes; false when none
  // is left. `reserved` is what it takes (what release() gives back).
  bool allocate(uint64_t size, uint64_t& dptr, uint64_t& reserved);
  // Gives an allocation back; its bytes reserved, 0 when `dptr` is none.
  uint64_t release(uint64_t dptr);
  // The bytes reserved for the allocation at `dptr`, 0 when it is none.
  uint64_t reserved(uint64_t dptr) const {
    const auto it = in_use_.find(dptr);
    return it == in_use_.end() ? 0 : it->second;
  }

 private:
  SessionMemory(int fd, uint64_t base, uint64_t size);
  int fd_;
  uint64_t base_, size_;
  std::map<uint64_t, uint64_t> free_;               // address -> bytes, coalesced
  std::unordered_map<uint64_t, uint64_t> in_use_;  // address -> bytes
};

}  // namespace rrto::server::host
