#include "server/host/session_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "protocol/address_window_layout.h"
#include "server/address_window.h"

namespace rrto::server::host {
namespace {

constexpr uint64_t kPage = 4096;
// CUDA guarantees at least 256-byte alignment for cuMemAlloc.
constexpr uint64_t kAlignment = 256;
// Larger allocations are whole pages, given back to the system when freed.
constexpr uint64_t kPageThreshold = 1ull << 20;

uint64_t alignment_of(uint64_t bytes) { return bytes >= kPageThreshold ? kPage : kAlignment; }

}  // namespace

Status SessionMemory::create(uint64_t window, uint64_t globals, std::unique_ptr<SessionMemory>& out,
                             std::string& error) {
  globals = round_up(globals, kPage);
  if (!is_window(window) || globals + kPage >= kWindowBytes) {
    error = fmt::format("no address window {}", window);
    return Status::InvalidArgument;
  }
  const uint64_t base = window_base(window);
  const int fd = memfd_create("rrto-session-memory", MFD_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("memfd_create: {}", std::strerror(errno));
    return Status::IoError;
  }
  void* p = MAP_FAILED;
  if (ftruncate(fd, static_cast<off_t>(kWindowBytes)) == 0)
    p = mmap(reinterpret_cast<void*>(base), kWindowBytes, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_NORESERVE, fd, 0);
  if (p != MAP_FAILED && p != reinterpret_cast<void*>(base)) {
    munmap(p, kWindowBytes);  // a kernel that took the address as a hint only
    p = MAP_FAILED;
    errno = EEXIST;
  }
  if (p == MAP_FAILED) {
    error = fmt::format("cannot map address window {} [{:#x}, +{} GiB): {}", window, base, kWindowBytes >> 30,
                        errno == EEXIST ? "something of this process lies there" : std::strerror(errno));
    close(fd);
    return Status::OutOfMemory;
  }
  out.reset(new SessionMemory(fd, base, kWindowBytes, globals));
  return Status::Ok;
}

SessionMemory::SessionMemory(int fd, uint64_t base, uint64_t size, uint64_t globals)
    : fd_(fd), base_(base), size_(size), globals_next_(base + size - globals),
      placement_(base + kPage, size - kPage - globals) {
  new (reinterpret_cast<void*>(base_)) KernelProgress();
  placement_.keep_out(base + proto::kReservableOffset, base + proto::kReservableOffset + proto::kReservableBytes);
}

SessionMemory::~SessionMemory() {
  munmap(reinterpret_cast<void*>(base_), size_);
  close(fd_);
}

bool SessionMemory::allocate(uint64_t size, uint64_t at, uint64_t& dptr, uint64_t& reserved) {
  const uint64_t alignment = alignment_of(size);
  const uint64_t bytes = round_up(size, alignment);
  if (!placement_.allocate(bytes, alignment, at, dptr)) return false;
  reserved = bytes;
  return true;
}

bool SessionMemory::allocate_from_top(uint64_t size, uint64_t& dptr, uint64_t& reserved) {
  const uint64_t alignment = alignment_of(size);
  const uint64_t bytes = round_up(size, alignment);
  if (!placement_.allocate_from_top(bytes, alignment, dptr)) return false;
  reserved = bytes;
  return true;
}

bool SessionMemory::allocate_global(uint64_t size, uint64_t& dptr) {
  const uint64_t bytes = round_up(size, kAlignment);
  if (bytes > base_ + size_ - globals_next_) return false;
  dptr = globals_next_;
  globals_next_ += bytes;
  return true;
}

uint64_t SessionMemory::release(uint64_t dptr) {
  const uint64_t length = placement_.release(dptr);
  if (length == 0) return 0;
  // Free memory is always zero, as fresh memory is; whole pages go back to
  // the system.
  if (length >= kPageThreshold)
    fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(dptr - base_),
              static_cast<off_t>(length));
  else
    std::memset(reinterpret_cast<void*>(dptr), 0, length);
  return length;
}

}  // namespace rrto::server::host
