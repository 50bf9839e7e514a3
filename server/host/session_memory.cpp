#include "server/host/session_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace rrto::server::host {
namespace {

constexpr uint64_t kPage = 4096;
// CUDA guarantees at least 256-byte alignment for cuMemAlloc.
constexpr uint64_t kAlignment = 256;
// Larger allocations are whole pages, given back to the system when freed.
constexpr uint64_t kPageThreshold = 1ull << 20;
// Sessions' memory is placed from here upwards, in slots of its size: far
// from where a freshly started process maps its libraries and heap, so the
// kernel process finds the same addresses free.
constexpr uint64_t kFirstAddress = 0x200000000000ull;
constexpr uint64_t kLastAddress = 0x600000000000ull;
constexpr uint64_t kSlotAlignment = 1ull << 30;

uint64_t round_up(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

// The first free slot: MAP_FIXED_NOREPLACE fails on a taken one.
void* map_free_slot(int fd, uint64_t size) {
  const uint64_t slot = round_up(size, kSlotAlignment);
  for (uint64_t at = kFirstAddress; at + slot <= kLastAddress; at += slot) {
    void* p = mmap(reinterpret_cast<void*>(at), size, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
      if (errno == EEXIST) continue;
      return nullptr;
    }
    if (p == reinterpret_cast<void*>(at)) return p;
    munmap(p, size);  // a kernel that took the address as a hint only
  }
  return nullptr;
}

}  // namespace

Status SessionMemory::create(uint64_t size, std::unique_ptr<SessionMemory>& out, std::string& error) {
  size = round_up(size + kPage, kPage);  // the control page first
  const int fd = memfd_create("rrto-session-memory", MFD_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("memfd_create: {}", std::strerror(errno));
    return Status::IoError;
  }
  void* p = ftruncate(fd, static_cast<off_t>(size)) == 0 ? map_free_slot(fd, size) : nullptr;
  if (p == nullptr) {
    error = fmt::format("cannot map {} bytes of session memory: {}", size, std::strerror(errno));
    close(fd);
    return Status::OutOfMemory;
  }
  out.reset(new SessionMemory(fd, reinterpret_cast<uint64_t>(p), size));
  return Status::Ok;
}

SessionMemory::SessionMemory(int fd, uint64_t base, uint64_t size) : fd_(fd), base_(base), size_(size) {
  new (reinterpret_cast<void*>(base_)) KernelProgress();
  free_.emplace(base_ + kPage, size_ - kPage);
}

SessionMemory::~SessionMemory() {
  munmap(reinterpret_cast<void*>(base_), size_);
  close(fd_);
}

bool SessionMemory::allocate(uint64_t size, uint64_t& dptr, uint64_t& reserved) {
  const uint64_t bytes = round_up(size, size >= kPageThreshold ? kPage : kAlignment);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    auto [at, length] = *it;
    const uint64_t start = round_up(at, bytes >= kPageThreshold ? kPage : kAlignment);
    if (start + bytes > at + length) continue;
    free_.erase(it);
    if (start > at) free_.emplace(at, start - at);
    if (at + length > start + bytes) free_.emplace(start + bytes, at + length - start - bytes);
    in_use_.emplace(start, bytes);
    dptr = start;
    reserved = bytes;
    return true;
  }
  return false;
}

uint64_t SessionMemory::release(uint64_t dptr) {
  auto used = in_use_.find(dptr);
  if (used == in_use_.end()) return 0;
  uint64_t at = dptr, length = used->second;
  in_use_.erase(used);
  // Free memory is always zero, as fresh memory is; whole pages go back to
  // the system.
  if (length >= kPageThreshold)
    fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(at - base_),
              static_cast<off_t>(length));
  else
    std::memset(reinterpret_cast<void*>(at), 0, length);
  const uint64_t freed = length;
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

}  // namespace rrto::server::host
