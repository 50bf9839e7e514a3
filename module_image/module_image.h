// What the client learns from a module image before forwarding it: the image's
// exact extent (the driver API passes only a pointer), every kernel's parameter
// layout (cuLaunchKernel passes `void**` without sizes) and a content hash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rrto {

struct ParamInfo {
  uint32_t offset;
  uint32_t size;

  friend bool operator==(const ParamInfo&, const ParamInfo&) = default;
};

struct KernelInfo {
  std::string name;               // as the driver looks it up (mangled for C++)
  std::vector<ParamInfo> params;  // by ordinal
  // End of the last parameter. Nonzero with `params` empty means the image
  // gave only the total size, not the per-parameter records.
  uint32_t param_bytes = 0;
};

// A `__device__` or `__constant__` variable of a cubin.
struct GlobalInfo {
  std::string name;
  uint64_t size = 0;             // bytes, from the symbol
  std::vector<uint8_t> initial;  // `size` bytes, or empty when zero-filled

  friend bool operator==(const GlobalInfo&, const GlobalInfo&) = default;
};

struct ModuleImage {
  enum class Kind { Cubin, Fatbin, FatbinWrapper, Ptx };
  Kind kind = Kind::Cubin;
  // Self-contained image to forward: for a FatbinWrapper the fatbin it points
  // to; for PTX the text including its terminating NUL.
  std::vector<uint8_t> bytes;
  // Sorted by name; for a fatbin the union over its entries (a cubin's layout
  // wins over the PTX one).
  std::vector<KernelInfo> kernels;
  // The device variables of the cubin(s), sorted by name; for a fatbin the
  // first cubin's wins. Empty for PTX.
  std::vector<GlobalInfo> globals;
  uint64_t content_hash = 0;  // xxh64(bytes, seed 0)

  const KernelInfo* find(std::string_view name) const;
  const GlobalInfo* find_global(std::string_view name) const;
};

// `image` is what the program passed to cuModuleLoadData / cuLibraryLoadData;
// its extent comes from the format itself. Nothing at or past `max_bytes` is
// read (SIZE_MAX when the caller does not know). A wrapper's fatbin is reached
// through its pointer and has no such cap. Malformed input gives an error
// status and leaves `out` unspecified.
Status parse_module_image(const void* image, size_t max_bytes, ModuleImage& out);

const char* module_kind_name(ModuleImage::Kind kind);

}  // namespace rrto
