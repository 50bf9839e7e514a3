// Which format a module image is, from its magic number.
#pragma once

#include <cstddef>
#include <cstdint>

#include "module_image/module_image.h"

namespace rrto {

constexpr int32_t kFatbinWrapperMagic = 0x466243b1;

// Ptx for anything that is not a cubin, a fatbin or cudart's fatbin wrapper.
// Compares byte by byte, so a short NUL-terminated PTX string is never read
// past its terminator (no magic contains a zero byte); reads nothing at or
// past `max_bytes`.
ModuleImage::Kind image_kind(const uint8_t* p, size_t max_bytes);

}  // namespace rrto
