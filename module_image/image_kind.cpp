#include "module_image/image_kind.h"

#include "module_image/fatbin.h"

namespace rrto {
namespace {

bool has_prefix(const uint8_t* p, size_t max_bytes, const void* magic, size_t n) {
  if (max_bytes < n) return false;
  const auto* m = static_cast<const uint8_t*>(magic);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != m[i]) return false;
  }
  return true;
}

template <typename T>
bool has_magic(const uint8_t* p, size_t max_bytes, T magic) {
  return has_prefix(p, max_bytes, &magic, sizeof(magic));
}

}  // namespace

ModuleImage::Kind image_kind(const uint8_t* p, size_t max_bytes) {
  static constexpr uint8_t kElfMagic[] = {0x7f, 'E', 'L', 'F'};
  if (has_prefix(p, max_bytes, kElfMagic, sizeof(kElfMagic))) return ModuleImage::Kind::Cubin;
  if (has_magic(p, max_bytes, kFatbinMagic)) return ModuleImage::Kind::Fatbin;
  if (has_magic(p, max_bytes, kFatbinWrapperMagic)) return ModuleImage::Kind::FatbinWrapper;
  return ModuleImage::Kind::Ptx;
}

}  // namespace rrto
