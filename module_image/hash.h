// XXH64 (the published xxHash 64-bit algorithm), written here so module
// identities are stable across runs, machines and library versions.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rrto {

uint64_t xxh64(const void* data, size_t size, uint64_t seed = 0);

}  // namespace rrto
