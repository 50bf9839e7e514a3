// CUDA ELF (cubin) images: extent and kernel parameter layouts from the
// per-kernel `.nv.info.<kernel>` attribute sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "module_image/bytes.h"
#include "module_image/module_image.h"

namespace rrto {

struct CubinContents {
  std::vector<KernelInfo> kernels;   // in symbol-table order
  // Defined objects in .nv.global* and .nv.constant* sections, in
  // symbol-table order.
  std::vector<GlobalInfo> globals;
};

// Extent of the ELF image at `p`: the furthest of the header, the section and
// program header tables and every section's file data. Reads nothing at or
// past `max_bytes`.
Status elf_image_size(const uint8_t* p, size_t max_bytes, size_t& size);

Status parse_cubin(Bytes image, CubinContents& out);

}  // namespace rrto
