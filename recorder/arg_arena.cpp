#include "recorder/arg_arena.h"

#include <algorithm>
#include <cstring>

namespace rrto {

uint8_t* ArgArena::allocate(size_t n) {
  const size_t aligned = (n + 7) & ~size_t{7};
  if (chunks_.empty() || chunks_.back().size - used_in_last_ < aligned) {
    Chunk c;
    c.size = std::max(chunk_bytes_, aligned);
    c.data = std::make_unique_for_overwrite<uint8_t[]>(c.size);
    chunks_.push_back(std::move(c));
    used_in_last_ = 0;
  }
  uint8_t* p = chunks_.back().data.get() + used_in_last_;
  used_in_last_ += aligned;
  used_total_ += n;
  return p;
}

std::span<const uint8_t> ArgArena::copy(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return {};
  uint8_t* p = allocate(bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return {p, bytes.size()};
}

void ArgArena::clear() {
  if (chunks_.size() > 1) chunks_.erase(chunks_.begin() + 1, chunks_.end());
  used_in_last_ = 0;
  used_total_ = 0;
}

}  // namespace rrto
