// Positional, bounds-checked access to an untrusted image (ByteReader is
// sequential; headers here are read at offsets taken from the image itself).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace rrto {

using Bytes = std::span<const uint8_t>;

// [off, off + len) of `s`, or false when any of it lies outside.
inline bool slice(Bytes s, uint64_t off, uint64_t len, Bytes& out) {
  if (off > s.size() || len > s.size() - off) return false;
  out = s.subspan(static_cast<size_t>(off), static_cast<size_t>(len));
  return true;
}

template <typename T>
  requires std::is_trivially_copyable_v<T>
bool read_at(Bytes s, uint64_t off, T& v) {
  Bytes b;
  if (!slice(s, off, sizeof(T), b)) return false;
  std::memcpy(&v, b.data(), sizeof(T));
  return true;
}

// True when `[off, off + len)` fits in `limit` bytes.
inline bool fits(uint64_t off, uint64_t len, uint64_t limit) {
  return off <= limit && len <= limit - off;
}

}  // namespace rrto
