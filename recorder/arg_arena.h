// Owned storage for argument bytes that must outlive the call that produced
// them. Bump allocation in large chunks: no per-op heap allocation, and an
// address handed out stays valid until clear() or destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace rrto {

class ArgArena {
 public:
  explicit ArgArena(size_t chunk_bytes = 256 * 1024) : chunk_bytes_(chunk_bytes) {}
  ArgArena(const ArgArena&) = delete;
  ArgArena& operator=(const ArgArena&) = delete;
  ArgArena(ArgArena&&) = default;
  ArgArena& operator=(ArgArena&&) = default;

  uint8_t* allocate(size_t n);
  std::span<const uint8_t> copy(std::span<const uint8_t> bytes);
  // Forgets everything; keeps one chunk for reuse.
  void clear();
  size_t bytes_used() const { return used_total_; }

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
  };
  size_t chunk_bytes_;
  std::vector<Chunk> chunks_;
  size_t used_in_last_ = 0;
  size_t used_total_ = 0;
};

}  // namespace rrto
