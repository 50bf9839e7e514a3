// 64-bit hashing for operator signatures and trace checksums. Signatures are
// compared across processes (client, server, trace files), so the functions
// are fixed: same bytes, same value, on every little-endian machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rrto {

inline constexpr uint64_t kHashSeed = 0x9e3779b97f4a7c15ull;

// Folded 128-bit product: one multiply mixes every input bit into the result.
inline uint64_t hash_mix(uint64_t a, uint64_t b) {
  const __uint128_t r = static_cast<__uint128_t>(a ^ 0xa0761d6478bd642full) * (b ^ 0xe7037ed1a0b428dbull);
  return static_cast<uint64_t>(r >> 64) ^ static_cast<uint64_t>(r);
}

inline uint64_t hash_read64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = hash_mix(seed, n);
  while (n >= 16) {
    h = hash_mix(hash_read64(p) ^ h, hash_read64(p + 8) ^ 0x8ebc6af09c88c6e3ull);
    p += 16;
    n -= 16;
  }
  if (n >= 8) {
    h = hash_mix(hash_read64(p) ^ h, 0x589965cc75374cc3ull);
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = hash_mix(tail ^ h, 0x1d8e4e27c47d124full ^ n);
  }
  return h;
}

}  // namespace rrto
